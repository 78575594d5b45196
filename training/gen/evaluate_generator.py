"""Dev evaluation of the BioAug generator checkpoint: validity and diversity of sampled outputs (BioAug Table 2).

For each dev pair (input = corrupted linearized sentence, target = linearized original) it samples n outputs
with top-k sampling, de-linearizes them and reports:
  validShare        share of outputs that de-linearize to a well-formed labelled sentence (every label token
                    pair wraps one word, <i-x> continues a <b-x>/<i-x> of the same type, no <mask> left, type
                    known to the dataset, at least one word)
  newTokenShare     share of generated words not in the source sentence (valid outputs)
  meanAbsLenDiff    mean |len(generated words) - len(source words)| (valid outputs)
  entityKeptShare   share of valid outputs whose entity mentions equal the source's (BioAug keeps gold entities)
The delinearizer here mirrors src/augment/bioaug (H4's TypeScript); run the node twin when it exists.
"""
import argparse
import json
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

LABEL = re.compile(r"^<([bi])-([^<>\s]+)>$")


def delinearize(text, types):
    """(words, tags) for a linearized sentence, or (None, reason) when it is not well formed."""
    toks = re.sub(r"(<[^<>\s]+>)", r" \1 ", text).split()
    words, tags, i = [], [], 0
    while i < len(toks):
        t = toks[i]
        if t == "<mask>" or t in ("<s>", "</s>", "<pad>", "<unk>"):
            return None, f"reserved token {t}"
        m = LABEL.match(t)
        if not m:
            words.append(t)
            tags.append("O")
            i += 1
            continue
        if i + 2 >= len(toks) or toks[i + 2] != t or LABEL.match(toks[i + 1]):
            return None, f"unclosed {t}"
        bi, typ = m.group(1), m.group(2)
        if typ not in types:
            return None, f"unknown type {typ}"
        if bi == "i" and (not tags or tags[-1] == "O" or tags[-1][2:] != types[typ]):
            return None, f"{t} without a preceding {typ}"
        words.append(toks[i + 1])
        tags.append(("B-" if bi == "b" else "I-") + types[typ])
        i += 3
    if not words:
        return None, "empty"
    return (words, tags), None


def mentions(words, tags):
    """Entity mentions as (type, text) in order."""
    out, cur = [], None
    for w, t in zip(words, tags):
        if t.startswith("B-") or (t.startswith("I-") and cur is None):
            if cur:
                out.append(cur)
            cur = (t[2:], [w])
        elif t.startswith("I-") and cur is not None:
            cur[1].append(w)
        else:
            if cur:
                out.append(cur)
            cur = None
    if cur:
        out.append(cur)
    return [(typ, " ".join(ws)) for typ, ws in out]


def sample(model, tok, inputs, n, k, max_new, rng_seed, batch=40, temperature=1.0):
    """n top-k samples per input with the KV cache (same semantics as the runtime's sampler)."""
    import torch
    import torch.nn.functional as F

    c = model.config
    model.eval()
    gen = torch.Generator().manual_seed(rng_seed)
    rows = [x for x in inputs for _ in range(n)]
    out = []
    with torch.no_grad():
        for s in range(0, len(rows), batch):
            chunk = rows[s : s + batch]
            width = max(len(x) for x in chunk)
            ids = torch.full((len(chunk), width), c.pad_token_id, dtype=torch.long)
            mask = torch.zeros(len(chunk), width, dtype=torch.long)
            for r, x in enumerate(chunk):
                ids[r, : len(x)] = torch.tensor(x)
                mask[r, : len(x)] = 1
            cross = model.cross_kv(model.encode(ids, mask))
            cur = torch.full((len(chunk), 1), c.decoder_start_token_id, dtype=torch.long)
            past, seqs = None, [[] for _ in chunk]
            alive = torch.ones(len(chunk), dtype=torch.bool)
            for _ in range(max_new):
                logits, past = model.decode(cur, mask, cross, past)
                lg = logits[:, -1] / temperature
                lg[:, c.pad_token_id] = -1e9
                lg[:, c.bos_token_id] = -1e9
                top = torch.topk(lg, k, dim=-1)
                probs = F.softmax(top.values, dim=-1)
                pick = top.indices.gather(1, torch.multinomial(probs, 1, generator=gen))
                for r in range(len(chunk)):
                    if alive[r]:
                        tokid = int(pick[r, 0])
                        if tokid == c.eos_token_id:
                            alive[r] = False
                        else:
                            seqs[r].append(tokid)
                if not alive.any():
                    break
                cur = pick
            out.extend(seqs)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description="validity and diversity of the BioAug generator on dev pairs")
    p.add_argument("--work", default=os.path.join(os.path.dirname(HERE), "work", "gen"))
    p.add_argument("--checkpoint", default=None, help="default <work>/finetune.pt")
    p.add_argument("--pairs", required=True, nargs="+", help="dataset=dev-pairs.jsonl (training-pairs on a dev split)")
    p.add_argument("--per-dataset", type=int, default=100)
    p.add_argument("--n", type=int, default=5)
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=None, help="write the figures JSON here too")
    a = p.parse_args(argv)

    import torch

    from common.bart import Bart, BartConfig
    from spm_tokenizer import GenTokenizer

    torch.set_num_threads(a.threads)
    tok = GenTokenizer(os.path.join(a.work, "tok", "spm.model"))
    ck = torch.load(a.checkpoint or os.path.join(a.work, "finetune.pt"))
    state = ck["model"]
    vocab, d = state["embed.weight"].shape
    cfg = json.load(open(os.path.join(a.work, "config.json"))) if os.path.isfile(os.path.join(a.work, "config.json")) else None
    model = Bart(BartConfig.from_dict(cfg) if cfg else BartConfig(vocab_size=vocab, d_model=d, encoder_ffn_dim=4 * d, decoder_ffn_dim=4 * d))
    model.load_state_dict(state)
    figures = {}
    for spec in a.pairs:
        ds, path = spec.split("=", 1)
        recs = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
        rng = random.Random(a.seed)
        rng.shuffle(recs)
        recs = [r for r in recs if "<mask>" in r["input"]][: a.per_dataset]
        types = {}
        for r in recs:
            for m in re.finditer(r"<[bi]-([^<>\s]+)>", r["target"]):
                types[m.group(1)] = m.group(1)
        outs = sample(model, tok, [tok.encode(r["input"]) for r in recs], a.n, a.top_k, 128, a.seed)
        valid, new_share, len_diff, kept, reasons, examples = 0, [], [], 0, {}, []
        for i, ids in enumerate(outs):
            r = recs[i // a.n]
            src, _ = delinearize(r["target"], types)
            text = tok.decode(ids)
            got, why = delinearize(text, types)
            if got is None:
                reasons[why.split(" ")[0]] = reasons.get(why.split(" ")[0], 0) + 1
                continue
            valid += 1
            sw = set(src[0]) if src else set()
            new_share.append(sum(1 for w in got[0] if w not in sw) / len(got[0]))
            len_diff.append(abs(len(got[0]) - (len(src[0]) if src else 0)))
            kept += int(src is not None and mentions(*got) == mentions(*src))
            if len(examples) < 3 and i % a.n == 0:
                examples.append({"input": r["input"], "output": text})
        total = len(outs)
        figures[ds] = {
            "inputs": len(recs),
            "outputs": total,
            "validShare": round(100 * valid / max(total, 1), 1),
            "newTokenShare": round(100 * sum(new_share) / max(len(new_share), 1), 1),
            "meanAbsLenDiff": round(sum(len_diff) / max(len(len_diff), 1), 2),
            "entityKeptShare": round(100 * kept / max(valid, 1), 1),
            "invalidReasons": reasons,
            "examples": examples,
        }
        print(json.dumps({ds: figures[ds]}, ensure_ascii=False), flush=True)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(figures, f, indent=1, ensure_ascii=False)
    print(json.dumps({k: {m: v[m] for m in ("validShare", "newTokenShare", "meanAbsLenDiff", "entityKeptShare")} for k, v in figures.items()}))


if __name__ == "__main__":
    main()
