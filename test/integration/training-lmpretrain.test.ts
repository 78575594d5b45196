// The language-model pretraining data and objective of training/lib/lmpretrain.py, run in the
// training Python: dev sentences never reach the language model, duplicates count once, long
// sentences are cut, and a few steps lower the perplexity of the text they train on.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/setup.ts';

const training = resolve(import.meta.dirname, '../../training');

function py(code: string): unknown {
  const out = execFileSync('/usr/bin/python3', ['-c', code], { cwd: training, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!);
}

describe('language-model pretraining (lib/lmpretrain.py)', () => {
  const dir = tempDir('lmpre-');
  const text = join(dir, 'corpus.txt');
  const conll = join(dir, 'extra.conll');
  writeFileSync(
    text,
    [
      'Cisplatin induced nephrotoxicity in rats .',
      'cisplatin induced nephrotoxicity in rats .', // same normalized tokens: one copy
      'The dev sentence about aspirin .', // also in dev: left out
      'x', // one token: dropped
      Array.from({ length: 130 }, (_, i) => `w${i}`).join(' '), // cut into 60 + 60 + 10
    ].join('\n') + '\n',
  );
  writeFileSync(conll, 'Naloxone\tB-Chemical\nreversed\tO\nit\tO\n\n');

  it('reads text and CoNLL, leaves dev sentences out, deduplicates and cuts long sentences', () => {
    const got = py(`
import json
from lib.lmpretrain import read_lm_sentences
s = read_lm_sentences([${JSON.stringify(text)}, ${JSON.stringify(conll)}],
                      exclude=[["The", "dev", "sentence", "about", "ASPIRIN", "."]], max_len=60)
print(json.dumps([len(x) for x in s] + [" ".join(s[-1])]))
`) as (number | string)[];
    expect(got).toEqual([6, 60, 60, 10, 3, 'Naloxone reversed it']);
  });

  it('trains the encoder: perplexity falls over seeded epochs; same seed same result; a resumed run is the run that went on', () => {
    const setup = `
import json, torch
from lib.lmpretrain import pretrain_lm
from lib.tagger import Tagger, build_char_vocab, build_word_vocab
torch.set_num_threads(1)
torch.manual_seed(3)
sents = [("the drug induced the disease in the rat .".split(), None)] * 4 + [("the rat was given the drug .".split(), None)] * 4
wv = build_word_vocab(sents, None, 100)
cv = build_char_vocab(sents, 1)
m = Tagger(len(wv), len(cv) + 2, 3, hidden=16)
kw = dict(hidden=16, batch_size=8, lr=1e-2, seed=7, log=lambda x: None)
def w():
    return round(float(m.fwd.weight_ih_l0.sum()), 5)
`;
    const straight = `${setup}
s = pretrain_lm(m, [t for t, _ in sents], wv, cv, 20, epochs=30, **kw)
print(json.dumps({"first": s["history"][0]["ppl_fwd"], "last": s["history"][-1]["ppl_fwd"], "steps": s["steps"], "w": w()}))
`;
    const resumed = `${setup}
saved = {}
pretrain_lm(m, [t for t, _ in sents], wv, cv, 20, epochs=12, on_epoch=lambda st: saved.update(st), **kw)
s = pretrain_lm(m, [t for t, _ in sents], wv, cv, 20, epochs=30, resume=saved, **kw)
print(json.dumps({"first": s["history"][0]["ppl_fwd"], "last": s["history"][-1]["ppl_fwd"], "steps": s["steps"], "w": w()}))
`;
    const a = py(straight) as { first: number; last: number; steps: number; w: number };
    expect(a.steps).toBe(30);
    expect(a.last).toBeLessThan(a.first / 2);
    expect(py(straight)).toEqual(a);
    expect(py(resumed)).toEqual(a);
  }, 60_000);

  it('param_groups: the encoder at lr * scale, emissions and CRF at lr; one group in model order at scale 1', () => {
    const got = py(`
import json
from lib.tagger import Tagger, param_groups
m = Tagger(50, 20, 5, hidden=8)
names = {id(p): n.split(".")[0] for n, p in m.named_parameters()}
g = param_groups(m, 2e-3, 0.25)
one = param_groups(m, 2e-3)
print(json.dumps({"lrs": [x["lr"] for x in g], "mods": [sorted({names[id(p)] for p in x["params"]}) for x in g],
                  "one": [len(one), one[0]["lr"], [id(p) for p in one[0]["params"]] == [id(p) for p in m.parameters()]]}))
`) as { lrs: number[]; mods: string[][]; one: [number, number, boolean] };
    expect(got.lrs).toEqual([5e-4, 2e-3]);
    expect(got.mods).toEqual([
      ['bwd', 'cemb', 'conv', 'fwd', 'wemb'],
      ['alpha_w', 'end', 'out', 'start', 'trans'],
    ]);
    expect(got.one).toEqual([1, 2e-3, true]);
  });

  it('an encoder cache is reused for its own seed only (a cache without a seed, from before, for any)', () => {
    const cache = join(dir, 'enc.pt');
    const got = py(`
import json, torch
from lib.lmpretrain import load_encoder, save_encoder
from lib.tagger import Tagger
wv, cv = {"[PAD]": 0, "[UNK]": 1, "rat": 2}, {"r": 2}
m = Tagger(3, 3, 3, hidden=4)
save_encoder(m, ${JSON.stringify(cache)}, wv, cv, summary={"epochs": 2}, seed=7)
same = load_encoder(m, ${JSON.stringify(cache)}, wv, cv, 2, seed=7)
other = load_encoder(m, ${JSON.stringify(cache)}, wv, cv, 2, seed=8)
save_encoder(m, ${JSON.stringify(cache)}, wv, cv, summary={"epochs": 2})
legacy = load_encoder(m, ${JSON.stringify(cache)}, wv, cv, 2, seed=8)
print(json.dumps([same and same[0], other, legacy and legacy[0]]))
`);
    expect(got).toEqual(['done', null, 'done']);
  });
  it('warm start from an encoder of another vocabulary: LSTMs and char CNN copied, embeddings mapped by string', () => {
    const cache = join(dir, 'enc-other.pt');
    const got = py(`
import json, torch
from lib.lmpretrain import save_encoder, warm_start_encoder
from lib.tagger import Tagger
torch.manual_seed(1)
wa, ca = {"[PAD]": 0, "[UNK]": 1, "rat": 2, "drug": 3}, {"r": 2, "a": 3, "t": 4}
a = Tagger(4, 5, 3, hidden=4)
save_encoder(a, ${JSON.stringify(cache)}, wa, ca, summary={"epochs": 2, "history": []}, seed=7)
wb, cb = {"[PAD]": 0, "[UNK]": 1, "mouse": 2, "rat": 3}, {"t": 2, "m": 3}
b = Tagger(4, 4, 5, hidden=4)
mouse = b.wemb.weight[2].clone()
info = warm_start_encoder(b, ${JSON.stringify(cache)}, wb, cb)
eq = lambda x, y: bool(torch.equal(x, y))
bad = Tagger(4, 4, 5, hidden=6)
try:
    warm_start_encoder(bad, ${JSON.stringify(cache)}, wb, cb)
    err = None
except ValueError as e:
    err = str(e)
save_encoder(a, ${JSON.stringify(cache)}, wa, ca, resume={"epochs_done": 1}, seed=7)
try:
    warm_start_encoder(b, ${JSON.stringify(cache)}, wb, cb)
    unfinished = None
except ValueError as e:
    unfinished = str(e)
print(json.dumps({"lstm": eq(a.fwd.weight_ih_l0, b.fwd.weight_ih_l0) and eq(a.bwd.weight_hh_l0, b.bwd.weight_hh_l0) and eq(a.conv.weight, b.conv.weight),
                  "rat": eq(b.wemb.weight[3], a.wemb.weight[2]), "mouse": eq(b.wemb.weight[2], mouse),
                  "t": eq(b.cemb.weight[2], a.cemb.weight[4]), "out_untouched": not eq(b.out.weight[:3], a.out.weight),
                  "ws": info["warm_start"], "seed": info["seed"], "epochs": info["epochs"], "err": err, "unfinished": unfinished}))
`) as Record<string, unknown>;
    expect(got).toMatchObject({
      lstm: true,
      rat: true,
      mouse: true,
      t: true,
      out_untouched: true,
      seed: 7,
      epochs: 2,
    });
    expect(got.ws).toEqual({ cache: 'enc-other.pt', words_mapped: 1, words: 2, chars_mapped: 1, chars: 2 });
    expect(got.err).toMatch(/shape .*same --hidden/);
    expect(got.unfinished).toMatch(/unfinished language-model run/);
  });
});
