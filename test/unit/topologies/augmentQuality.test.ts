// The augment topology's quality block (issue 17): scores on every record, the filter, the agreement
// tagger. In-memory sources and sinks, the tiny real fixture models.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { qualityOf } from '../../../src/augment/quality.ts';
import { rejectedTotal } from '../../../src/augment/filterAugmented.ts';
import type { AugmentedSentence, LabeledSentence } from '../../../src/io/avro/types.generated.ts';
import { projectRoot } from '../../../src/io/dataPath.ts';
import { build, resolve as resolveAugment } from '../../../topologies/augment.ts';
import { runInMemory } from '../../helpers/setup.ts';

const fixtures = resolve(projectRoot, 'test/fixtures/models');

const records: LabeledSentence[] = [
  {
    id: 's:0',
    tokens: ['colorectal', 'cancer', 'patients', 'treated', 'with', 'cisplatin'],
    tags: ['B-Disease', 'I-Disease', 'O', 'O', 'O', 'O'],
    keywordTags: ['O', 'O', 'B', 'O', 'O', 'O'],
    source: 'mem',
  },
  {
    id: 's:1',
    tokens: ['cisplatin', 'induced', 'cancer', 'in', 'patients'],
    tags: ['O', 'O', 'B-Disease', 'O', 'O'],
    keywordTags: ['O', 'B', 'O', 'O', 'O'],
    source: 'mem',
  },
];

async function run(config: Record<string, unknown>) {
  const inputs = await resolveAugment(config);
  const {
    sinks,
    deadLetters: dlq,
    source,
  } = await runInMemory<LabeledSentence, { augmented: AugmentedSentence }>({
    source: 'sentences',
    records,
    keyOf: (r) => r.id,
    maxInFlight: 8,
    sinks: ['augmented'],
    build: (s, k) => build(s, k, inputs),
  });
  return { items: sinks.augmented.items.map((i) => i.value), dlq, acked: source.acked.length };
}

const rejected = async (reason: string): Promise<number> =>
  (await rejectedTotal.get()).values.find(
    (v) => v.labels.step === 'quality-filter' && v.labels.reason === reason,
  )?.value ?? 0;

describe('augment topology: quality scores and filters', () => {
  it('scores every record; top-k per source keeps k of n copies and counts the rest', async () => {
    const before = (await rejected('top-k')) + (await rejected('duplicate'));
    const { items, dlq, acked } = await run({
      methods: ['sis'],
      n: 3,
      p: 1,
      seed: 2,
      quality: { filter: { topK: 1 } },
    });
    expect(items.map((r) => r.sourceId).sort()).toEqual(['s:0', 's:1']);
    for (const r of items) {
      expect(r.quality).toBe(qualityOf(r));
      expect(r.meanLogProb).toBeNull();
      expect(r.taggerAgreement).toBeNull();
    }
    // 3 copies of each of 2 sentences, 1 kept each: 4 rejected (SiS copies can repeat: duplicate)
    expect((await rejected('top-k')) + (await rejected('duplicate')) - before).toBe(4);
    expect(dlq.records).toEqual([]);
    expect(acked).toBe(2);
  });

  it('BioAug records carry meanLogProb; with an agreement tagger, taggerAgreement and quality from both', async () => {
    const { items } = await run({
      methods: ['bioaug'],
      n: 2,
      keywords: { enabled: false },
      bioaug: {
        generator: { model: resolve(fixtures, 'seq2seq') },
        constrainEntities: true,
        maxNewTokens: 16,
      },
      quality: { tagger: { enabled: true, model: resolve(fixtures, 'crf-tagger') } },
    });
    expect(items).toHaveLength(4);
    const valid = items.filter((r) => r.valid);
    expect(valid.length).toBeGreaterThan(0);
    for (const r of valid) {
      expect(r.meanLogProb).toBeLessThanOrEqual(0);
      expect(r.taggerAgreement).toBeGreaterThanOrEqual(0);
      expect(r.taggerAgreement).toBeLessThanOrEqual(1);
      expect(r.quality).toBeCloseTo(qualityOf(r), 12);
    }
    for (const r of items.filter((x) => !x.valid)) {
      expect(r.rejectReason).toEqual(expect.any(String));
      expect(r.quality).toBe(0);
    }
  });

  it('emitRejected writes what a threshold rejects as valid: false with the reason', async () => {
    // SiS only shuffles: no new tokens, so every copy is a "near-copy" under minNewTokenShare.
    const { items } = await run({
      methods: ['sis'],
      n: 2,
      p: 1,
      quality: { filter: { minNewTokenShare: 0.01, emitRejected: true } },
    });
    expect(items).toHaveLength(4);
    expect(items.every((r) => !r.valid && r.rejectReason === 'min-new-token-share' && r.quality === 0)).toBe(
      true,
    );
  });

  it('an agreement tagger must be named: the shipped bundles saw all gold', async () => {
    await expect(run({ methods: ['sis'], quality: { tagger: { enabled: true } } })).rejects.toThrow(
      /quality.tagger.model/,
    );
  });
});
