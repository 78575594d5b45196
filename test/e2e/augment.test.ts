import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLabeled } from '../../src/augment/corpus.ts';
import { MemoryDeadLetters } from '../../src/engine/deadLetters.ts';
import type { AugmentedSentence, LabeledSentence } from '../../src/io/avro/types.generated.ts';
import { dataPath, projectRoot } from '../../src/io/dataPath.ts';
import { skipWithoutSharedData } from '../helpers/sharedData.ts';
import { bioToSpans, isValidBio } from '../../src/text/bio.ts';
import { build, resolve as resolveAugment } from '../../topologies/augment.ts';
import { runInMemory } from '../helpers/setup.ts';

const generatorFixture = resolve(projectRoot, 'test/fixtures/models/seq2seq');
const skip = skipWithoutSharedData('augment e2e');

async function run(
  records: LabeledSentence[],
  config: Record<string, unknown>,
): Promise<{ items: AugmentedSentence[]; dlq: MemoryDeadLetters; acked: number }> {
  const inputs = await resolveAugment(config);
  const {
    sinks,
    deadLetters: dlq,
    source,
  } = await runInMemory<LabeledSentence, { augmented: AugmentedSentence }>({
    source: 'sentences',
    records,
    keyOf: (r) => r.id,
    maxInFlight: 16,
    sinks: ['augmented'],
    build: (s, k) => build(s, k, inputs),
  });
  return { items: sinks.augmented.items.map((i) => i.value), dlq, acked: source.acked.length };
}

describe.skipIf(skip)('augment topology over ner/ncbi/100', () => {
  const train = dataPath('ner/ncbi/100/train.conll');
  // The same 100 sentences with BioAug's keyword column (token, tag, POS, keyword).
  const keywords = dataPath('keywords/ncbi/100/train.tsv');
  const records = (): LabeledSentence[] =>
    readLabeled(keywords, { keywordColumn: 4 })
      .slice(0, 40)
      .map((s) => ({
        id: s.id,
        tokens: s.tokens,
        tags: s.tags,
        keywordTags: s.keywords ?? null,
        source: train,
      }));

  it('writes n valid copies per sentence and method, keyed source-id:method:n, reproducibly', async () => {
    const input = records();
    const methods = ['mr', 'lwtr', 'sis', 'sr', 'bioaug'];
    const cfg = (maxBatch: number) => ({
      methods,
      n: 2,
      seed: 7,
      train,
      bioaug: { generator: { model: generatorFixture, maxBatch }, maxNewTokens: 12 },
    });
    const a = await run(input, cfg(8));
    expect(a.acked).toBe(input.length);
    expect(a.dlq.records).toEqual([]);
    const ids = new Set(a.items.map((x) => x.id));
    expect(ids.size).toBe(a.items.length);
    for (const s of input)
      for (const m of methods)
        for (let n = 0; n < 2; n++) expect(ids.has(`${s.id}:${m}:${n}`), `${s.id}:${m}:${n}`).toBe(true);
    for (const x of a.items) {
      expect(x.tokens.length).toBe(x.tags.length);
      if (x.valid) expect(isValidBio(x.tags)).toBe(true);
      else expect(x.method).toBe('bioaug');
    }
    // newTokenShare is computed for the simple methods too: SiS only reorders words, LwTR and MR bring new ones.
    const shares = (m: string) => a.items.filter((x) => x.method === m).map((x) => x.newTokenShare);
    expect(shares('sis').every((v) => v === 0)).toBe(true);
    for (const m of ['lwtr', 'mr'])
      expect(
        shares(m).some((v) => v > 0),
        m,
      ).toBe(true);
    for (const x of a.items) expect(x.newTokenShare).toBeGreaterThanOrEqual(0);
    // Same seed, different batching: identical augmentations (per-input generator seeds).
    const b = await run(input, cfg(3));
    // The scores come from float32 model runs whose padding depends on the batch: equal to ~1e-6.
    const strip = (xs: AugmentedSentence[]) =>
      xs
        .map(({ createdAt: _c, meanLogProb: _m, quality: _q, ...r }) => r)
        .sort((p, q) => p.id.localeCompare(q.id));
    expect(strip(b.items)).toEqual(strip(a.items));
    const scores = (xs: AugmentedSentence[]) =>
      new Map(xs.map((x) => [x.id, [x.meanLogProb ?? 0, x.quality ?? 0] as const]));
    const sb = scores(b.items);
    for (const [id, [m, q]] of scores(a.items)) {
      expect(sb.get(id)![0]).toBeCloseTo(m, 5);
      expect(sb.get(id)![1]).toBeCloseTo(q, 5);
    }
  });

  it('entity-constrained BioAug keeps every gold entity of every generation (models/generator)', async () => {
    const input = records().slice(0, 12);
    const r = await run(input, {
      methods: ['bioaug'],
      n: 2,
      seed: 3,
      bioaug: { generator: { maxBatch: 8 }, constrainEntities: true, maxNewTokens: 96 },
    });
    expect(r.items).toHaveLength(input.length * 2);
    const bySource = new Map(input.map((s) => [s.id, s]));
    const entities = (tokens: readonly string[], tags: readonly string[]): string[] =>
      bioToSpans(tags).map((sp) => `${sp.type}:${tokens.slice(sp.start, sp.end).join(' ')}`);
    for (const x of r.items) {
      expect(x.valid, x.generatedText ?? '').toBe(true);
      const src = bySource.get(x.sourceId)!;
      expect(entities(x.tokens, x.tags)).toEqual(entities(src.tokens, src.tags));
      // generated words are re-split like the corpus (`split` style): no punctuation glued to a word
      x.tokens.forEach((t, i) => {
        if (x.tags[i] === 'O')
          expect(t, x.tokens.join(' ')).not.toMatch(/^[A-Za-z0-9]+[.,;:()]|[.,;:()][A-Za-z0-9]+$/);
      });
    }
  });

  it('constrained generation of a type the generator has no label tokens for gives an invalid record, not a failure', async () => {
    const r = await run(
      [
        {
          id: 'chem',
          tokens: ['Aspirin', 'caused', 'colitis', '.'],
          tags: ['B-Chemical', 'O', 'B-Disease', 'O'],
          keywordTags: ['O', 'B', 'O', 'O'],
          source: 'x',
        },
      ],
      {
        methods: ['bioaug'],
        n: 1,
        seed: 1,
        bioaug: { generator: { model: generatorFixture }, constrainEntities: true },
      },
    );
    expect(r.dlq.records.map((d) => d.failures.map((f) => `${f.stepId}: ${f.error.message}`))).toEqual([]);
    expect(r.items).toHaveLength(1);
    expect(r.items[0]!.valid).toBe(false);
    expect(r.items[0]!.generatedText).toContain('no label tokens for entity type Chemical');
  });

  it('sentences without a keyword column (2-column CoNLL) get one from models/keywords; disabled, they are dead-lettered', async () => {
    const plain = readLabeled(train)
      .slice(0, 6)
      .map((s) => ({ id: s.id, tokens: s.tokens, tags: s.tags, keywordTags: null, source: train }));
    const cfg = {
      methods: ['bioaug'],
      n: 1,
      seed: 3,
      bioaug: { generator: { model: generatorFixture }, maxNewTokens: 12 },
    };
    const tagged = await run(plain, cfg);
    expect(tagged.dlq.records).toHaveLength(0);
    expect(tagged.items).toHaveLength(plain.length);
    expect(tagged.acked).toBe(plain.length);
    const refused = await run(plain, { ...cfg, keywords: { enabled: false } });
    expect(refused.items).toHaveLength(0);
    expect(refused.dlq.records).toHaveLength(plain.length);
    expect(refused.dlq.records[0]!.failures[0]!.error.message).toMatch(/no keyword column/);
  }, 120_000);

  it('dead-letters invalid sentences and goes on', async () => {
    const input = records().slice(0, 5);
    const bad: LabeledSentence[] = [
      { id: 'bad-len', tokens: ['a', 'b'], tags: ['O'], keywordTags: null, source: 'x' },
      { id: 'bad-bio', tokens: ['a', 'b'], tags: ['O', 'X-Disease'], keywordTags: null, source: 'x' },
      { id: 'empty', tokens: [], tags: [], keywordTags: null, source: 'x' },
    ];
    const r = await run([...bad, ...input], { methods: ['sis'], n: 1, seed: 1 });
    expect(r.acked).toBe(input.length);
    expect(r.dlq.records.map((d) => d.failures[0]!.stepId)).toEqual([
      'validate-sentence',
      'validate-sentence',
      'validate-sentence',
    ]);
    expect(r.items.length).toBe(input.length);
  });
});
