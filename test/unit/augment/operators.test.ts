import { firstValueFrom, from, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { augmenter } from '../../../src/augment/augmenter.ts';
import { corruptSentences } from '../../../src/augment/bioaug/corruptSentences.ts';
import { delinearize } from '../../../src/augment/bioaug/delinearize.ts';
import type { KnowledgeSource } from '../../../src/augment/bioaug/knowledge.ts';
import { LabelVocabulary } from '../../../src/augment/bioaug/labels.ts';
import { linearize } from '../../../src/augment/bioaug/linearize.ts';
import { trainingPairs } from '../../../src/augment/bioaug/trainingPairs.ts';
import type { SentenceToAugment } from '../../../src/augment/types.ts';
import type { Envelope, Settlement } from '../../../src/engine/envelope.ts';
import type { AugmentedSentenceInput, LabeledSentence } from '../../../src/io/avro/types.generated.ts';
import { envelopes } from '../../helpers/setup.ts';

const s: SentenceToAugment = {
  id: 'doc:0',
  tokens: ['Colorectal', 'cancer', 'cases', 'rose', 'in', 'eastern', 'England', 'after', 'smoking'],
  tags: ['B-Disease', 'I-Disease', 'O', 'O', 'O', 'O', 'O', 'O', 'O'],
  keywords: ['B', 'I', 'O', 'O', 'O', 'B', 'I', 'O', 'B'],
};

const envs = (items: SentenceToAugment[], settled: Settlement[]): Envelope<SentenceToAugment>[] =>
  envelopes(items, { keyOf: (x) => x.id, onSettle: (r) => settled.push(r) });

describe('BioAug operators', () => {
  it('corruptSentences emits n inputs whose kept entities validate the generation', async () => {
    const settled: Settlement[] = [];
    const out = await firstValueFrom(
      from(envs([s], settled)).pipe(corruptSentences({ n: 4, seed: 2 }), toArray()),
    );
    expect(out.map((e) => e.key)).toEqual([0, 1, 2, 3].map((n) => `doc:0:bioaug:${n}`));
    for (const e of out) {
      expect(e.value.input).toMatch(
        /^<b-disease> Colorectal <b-disease> <i-disease> cancer <i-disease> <mask>/,
      );
      expect(e.value.expected).toEqual([{ type: 'Disease', tokens: ['Colorectal', 'cancer'] }]);
      expect(e.value.tags.slice(0, 2)).toEqual(['B-Disease', 'I-Disease']);
      // A generation that reproduces the sentence passes; one that alters the entity is rejected.
      const vocab = new LabelVocabulary(['Disease']);
      expect(delinearize(linearize(s.tokens, s.tags), vocab, { expected: e.value.expected }).ok).toBe(true);
      const altered = delinearize('<b-disease> Colon <b-disease> rose', vocab, {
        expected: e.value.expected,
      });
      expect(altered.ok ? 'ok' : altered.reason).toBe('entity-altered');
      e.ack.ack();
    }
    expect(settled).toEqual([{ failures: [] }]);
  });

  it('trainingPairs appends injected knowledge among kept phrases only', async () => {
    const calls: string[][] = [];
    const knowledge: KnowledgeSource = (_s, kept) => {
      calls.push(kept.map((k) => k.text));
      return kept.length > 1
        ? [{ head: kept[0]!.text, relation: 'related to', tail: kept[1]!.text, probability: 0.9 }]
        : [];
    };
    const settled: Settlement[] = [];
    const out = await firstValueFrom(
      from(envs([s], settled)).pipe(
        trainingPairs({ n: 5, seed: 3, knowledge, corrupt: { mu: 1, sd: 0 } }),
        toArray(),
      ),
    );
    expect(out).toHaveLength(5);
    for (const e of out) {
      // mu = 1, sd = 0: every keyword is kept.
      expect(e.value.input).toBe(
        '<b-disease> Colorectal <b-disease> <i-disease> cancer <i-disease> <mask> eastern England <mask> smoking </s> Colorectal cancer related to eastern England',
      );
      expect(e.value.target).toBe(linearize(s.tokens, s.tags));
    }
    expect(calls[0]).toEqual(['Colorectal cancer', 'eastern England', 'smoking']);
  });

  it('augmenter() names the valid methods and needs state for MR', () => {
    expect(() => augmenter({ method: 'eda', n: 1, seed: 1 })).toThrow(
      /valid methods: mr, lwtr, sis, sr, all4, corrupt/,
    );
    expect(() => augmenter({ method: 'mr', n: 1, seed: 1 })).toThrow(/mr: needs training-set state/);
  });

  it('reads Avro LabeledSentence values and emits AugmentedSentence records', async () => {
    const avro: LabeledSentence = {
      id: 'pmid1:0',
      tokens: s.tokens,
      tags: s.tags,
      keywordTags: s.keywords!,
      source: 'topic',
    };
    const settled: Settlement[] = [];
    const out = await firstValueFrom(
      from(envs([avro], settled)).pipe(augmenter({ method: 'corrupt', n: 2, seed: 4 }), toArray()),
    );
    expect(out).toHaveLength(2);
    const rec: AugmentedSentenceInput = out[0]!.value;
    expect(rec.id).toBe('pmid1:0:corrupt:0');
    expect(rec.seed).toBe(4);
    expect(rec.generatedText).toMatch(/^<b-disease> Colorectal/);
    expect(rec.lengthDiff).toBeLessThan(0);
    expect(rec.newTokenShare).toBeGreaterThan(0); // <mask> is new
  });
});
