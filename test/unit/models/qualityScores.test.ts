// The quality scores with the project's real models: the shipped generator (models/generator) and
// NER tagger (models/ner-bc5cdr). A garbled sentence, as the small generator writes them, must score
// below its source sentence.
import { lastValueFrom, from, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linearize } from '../../../src/augment/bioaug/linearize.ts';
import { qualityOf } from '../../../src/augment/quality.ts';
import { AckToken, envelope } from '../../../src/engine/envelope.ts';
import type { AugmentedSentence } from '../../../src/io/avro/types.generated.ts';
import { defaultModel } from '../../../src/models/modelStepConfig.ts';
import { scoreAgreement } from '../../../src/models/ner/scoreAgreement.ts';
import { createTokenTagger, type TokenTagger } from '../../../src/models/ner/tokenTagger.ts';
import { createGenerator, type Generator } from '../../../src/models/seq2seq/generator.ts';
import { scoreTargets } from '../../../src/models/seq2seq/scoreTargets.ts';

// bc5cdr/100 train: "Pneumonitis with pleural and pericardial effusion and neuropathy during amiodarone therapy ."
const source = {
  tokens:
    'Pneumonitis with pleural and pericardial effusion and neuropathy during amiodarone therapy .'.split(' '),
  tags: [
    'O',
    'O',
    'B-Disease',
    'I-Disease',
    'I-Disease',
    'I-Disease',
    'O',
    'B-Disease',
    'O',
    'B-Chemical',
    'O',
    'O',
  ],
};
// The same entities in shuffled, ungrammatical context (the demo's garbled outputs look like this).
const garbled = {
  tokens: 'pleural and pericardial effusion neuropathy During amiodarone with therapy Pneumonitis .'.split(
    ' ',
  ),
  tags: [
    'B-Disease',
    'I-Disease',
    'I-Disease',
    'I-Disease',
    'B-Disease',
    'O',
    'B-Chemical',
    'O',
    'O',
    'O',
    'O',
  ],
};
// BioAug's corruption of the source: entities kept, everything else masked (no keywords kept).
const corruption = [
  '<mask>',
  linearize(source.tokens.slice(2, 6), source.tags.slice(2, 6)),
  '<mask>',
  linearize(['neuropathy'], ['B-Disease']),
  '<mask>',
  linearize(['amiodarone'], ['B-Chemical']),
  '<mask>',
].join(' ');

const record = (
  id: string,
  s: { tokens: string[]; tags: string[] },
  meanLogProb: number,
): AugmentedSentence => ({
  id,
  sourceId: 'bc5cdr:0',
  method: 'bioaug',
  seed: 1,
  modelId: 'generator',
  tokens: s.tokens,
  tags: s.tags,
  valid: true,
  newTokenShare: s.tokens.filter((t) => !source.tokens.includes(t)).length / s.tokens.length,
  lengthDiff: s.tokens.length - source.tokens.length,
  generatedText: null,
  createdAt: 0,
  meanLogProb,
  taggerAgreement: null,
  quality: null,
  rejectReason: null,
});

describe('quality scores with the shipped generator and tagger', () => {
  let g: Generator;
  let tagger: TokenTagger;
  beforeAll(async () => {
    g = await createGenerator(defaultModel('generator'));
    tagger = await createTokenTagger(defaultModel('ner-bc5cdr'));
  });
  afterAll(async () => {
    await g.dispose();
    await tagger.dispose();
  });

  it('teacher-forced scoring gives the log-likelihood the generator reported for its own sample', async () => {
    const [sample] = (
      await g.generate([corruption], {
        strategy: 'sample',
        topK: 10,
        seeds: [3],
        allowedLabelTokensOnly: true,
      })
    )[0]!;
    const [row] = await g.generate([corruption], {
      strategy: 'greedy',
      forcedIds: [sample!.tokenIds],
      maxNewTokens: sample!.tokenIds.length + 1,
      allowedLabelTokensOnly: true,
    });
    const forced = row![0];
    expect(forced!.tokenIds).toEqual(sample!.tokenIds);
    expect(forced!.meanLogProb).toBeCloseTo(sample!.meanLogProb, 5);
    expect(sample!.meanLogProb).toBeCloseTo(sample!.score / (sample!.tokenIds.length + 1), 12);
  });

  it('a garbled sentence scores below its source sentence (fluency and combined quality)', async () => {
    const [src, bad] = await scoreTargets(
      g,
      [corruption, corruption],
      [linearize(source.tokens, source.tags), linearize(garbled.tokens, garbled.tags)],
    );
    expect(bad!).toBeLessThan(src! - 1);
    const out = await lastValueFrom(
      from(
        [record('src', source, src!), record('bad', garbled, bad!)].map((v, i) =>
          envelope(v, { key: v.id, origin: { kind: 'memory', source: 'm', index: i }, ack: AckToken.noop() }),
        ),
      ).pipe(scoreAgreement({ stepId: 'agreement', tagger, maxBatch: 2, maxWaitMs: 0 }), toArray()),
    );
    const [s, b] = out.map((e) => e.value);
    expect(s!.taggerAgreement).not.toBeNull();
    expect(b!.taggerAgreement).not.toBeNull();
    expect(s!.quality).toBe(qualityOf(s!));
    expect(b!.quality!).toBeLessThan(s!.quality!);
  });
});
