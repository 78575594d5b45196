// The normalize and cid recipes on the synthetic fixture (6 abstracts): each writes a bundle that the
// engine loads and runs, with a model card and figures in model.json. Seconds, no shared data needed.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNormalizer } from '../../src/models/normalize/conceptNormalizer.ts';
import { createCidClassifier } from '../../src/models/relations/cidClassifier.ts';
import { cidDocumentFromPubtator } from '../../src/models/relations/cidDocument.ts';
import { parsePubtator } from '../../src/text/pubtator.ts';
import { runTrain } from '../../training/run.ts';
import { tempDir } from '../helpers/setup.ts';

const data = join(import.meta.dirname, '../fixtures/io/cid-tiny.pubtator');

describe('training recipes normalize and cid (smoke)', () => {
  const dir = tempDir('cid-smoke-');

  it('normalize: a dictionary bundle with a card, loaded by the engine', async () => {
    const out = join(dir, 'normalize');
    await runTrain(['normalize', '--train', data, '--dev', data, '--out', out]);
    const mj = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as {
      task: string;
      threshold: number;
      metrics: { dev: { goldMentions: { f1: number } } };
    };
    expect(mj.task).toBe('concept-normalization');
    // Dev = train here: every name is in the dictionary.
    expect(mj.metrics.dev.goldMentions.f1).toBe(100);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toMatch(/Threshold table/);
    const n = loadNormalizer(out);
    expect(n.normalize('', [{ start: 0, end: 9, text: 'cisplatin', type: 'Chemical' }])[0]!.conceptId).toBe(
      'D002945',
    );
  }, 60_000);

  it('normalize --with-dev: threshold and held-out figures from the training-only build, bundle from train + dev', async () => {
    const train = join(dir, 'train.pubtator');
    const dev = join(dir, 'dev.pubtator');
    writeFileSync(
      train,
      '1|t|Cisplatin nephrotoxicity.\n1|a|Cisplatin caused renal failure.\n1\t0\t9\tCisplatin\tChemical\tD002945\n1\t36\t49\trenal failure\tDisease\tD051437\n\n',
    );
    writeFileSync(
      dev,
      '2|t|Carboplatin and renal failure.\n2|a|None.\n2\t0\t11\tCarboplatin\tChemical\tD016190\n2\t16\t29\trenal failure\tDisease\tD051437\n\n',
    );
    const only = join(dir, 'norm-train');
    const both = join(dir, 'norm-train-dev');
    await runTrain(['normalize', '--train', train, '--dev', dev, '--out', only]);
    await runTrain(['normalize', '--train', train, '--dev', dev, '--out', both, '--with-dev']);
    type Mj = {
      threshold: number;
      provenance: { dictionary: string };
      metrics: {
        dev: { heldOut: boolean; goldMentions: { f1: number } };
        trainPlusDevOnDev?: { f1: number };
      };
    };
    const a = JSON.parse(readFileSync(join(only, 'model.json'), 'utf8')) as Mj;
    const b = JSON.parse(readFileSync(join(both, 'model.json'), 'utf8')) as Mj;
    expect([a.provenance.dictionary, b.provenance.dictionary]).toEqual(['train', 'train+dev']);
    // Same held-out figures and threshold: both come from the training-only dictionary.
    expect(b.metrics.dev.goldMentions.f1).toBe(a.metrics.dev.goldMentions.f1);
    expect(b.threshold).toBe(a.threshold);
    expect(a.metrics.dev.goldMentions.f1).toBeLessThan(100);
    expect(a.metrics.trainPlusDevOnDev).toBeUndefined();
    expect(b.metrics.trainPlusDevOnDev!.f1).toBe(100);
    expect(readFileSync(join(both, 'README.md'), 'utf8')).toMatch(/not held out/);
    const carbo = [{ start: 0, end: 11, text: 'carboplatin', type: 'Chemical' }];
    expect(loadNormalizer(only).normalize('', carbo)[0]!.conceptId).toBe('-1');
    expect(loadNormalizer(both).normalize('', carbo)[0]!.conceptId).toBe('D016190');
    await expect(runTrain(['normalize', '--with-dv'])).rejects.toThrow(
      /Unknown option '--with-dv'.*valid options: .*--with-dev/,
    );
    await expect(runTrain(['cid', '--noisy'])).rejects.toThrow(/train cid: .*valid options: .*--noisy-train/);
    await expect(
      runTrain(['normalize', '--train', train, '--dev', dev, '--out', both, '--threshold', '2']),
    ).rejects.toThrow(/--threshold must be a number in \[0, 1\]/);
  }, 60_000);

  it('cid: features in TS, MLP in PyTorch, ONNX scored by the engine; threshold and card written', async () => {
    const out = join(dir, 'cid');
    await runTrain(['cid', '--train', data, '--dev', data, '--out', out, '--epochs', '3', '--hidden', '8']);
    for (const f of ['model.onnx', 'prior.json', 'README.md']) expect(existsSync(join(out, f))).toBe(true);
    const mj = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as {
      threshold: number;
      metrics: {
        dev: {
          goldEntities: { f1: number };
          candidateRecall: number;
          pairIdCoverage: number;
          breakdown: Array<{ setting: string; candidateRecall: number }>;
        };
      };
    };
    expect(mj.metrics.dev.candidateRecall).toBe(100);
    // Dev = train: every pair's ids are known; the normalized-ids row is scored with a real normalizer.
    expect(mj.metrics.dev.pairIdCoverage).toBe(100);
    expect(mj.metrics.dev.breakdown.map((b) => b.setting)).toEqual([
      'gold mentions, gold ids',
      'gold mentions, normalized ids',
    ]);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toMatch(/Where end to end loses/);
    expect(mj.threshold).toBeGreaterThan(0);
    const cls = await createCidClassifier(out);
    const docs = parsePubtator(readFileSync(data, 'utf8')).map(cidDocumentFromPubtator);
    const res = await cls.predict(docs);
    await cls.dispose();
    expect(res).toHaveLength(docs.length);
    expect(res[0]!.relations.length).toBeGreaterThan(0);
  }, 120_000);

  it('cid --with-dev: retrained on train + dev with the epoch count and threshold of the training-only model', async () => {
    const out = join(dir, 'cid-with-dev');
    await runTrain([
      'cid',
      '--train',
      data,
      '--dev',
      data,
      '--out',
      out,
      '--epochs',
      '3',
      '--hidden',
      '8',
      '--with-dev',
    ]);
    const mj = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as {
      threshold: number;
      provenance: { training: string };
      training: { select: string; epochs: number; trainPairs: number };
      trainingOnly: { select: string; bestEpoch: number; trainPairs: number };
      metrics: { devHalves: { gold: { f1: number } }; trainPlusDevOnDev: { f1: number } };
    };
    expect(mj.provenance.training).toBe('train+dev');
    expect([mj.trainingOnly.select, mj.training.select]).toEqual(['best', 'last']);
    expect(mj.training.epochs).toBe(mj.trainingOnly.bestEpoch);
    // Dev is the training file here: train + dev has every pair twice.
    expect(mj.training.trainPairs).toBe(2 * mj.trainingOnly.trainPairs);
    expect(mj.metrics.devHalves.gold.f1).toBeGreaterThanOrEqual(0);
    expect(mj.metrics.trainPlusDevOnDev.f1).toBeGreaterThanOrEqual(0);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toMatch(
      /trained on train \+ dev.*[\s\S]*not held out/,
    );
    const cls = await createCidClassifier(out);
    expect(
      await cls.predict(parsePubtator(readFileSync(data, 'utf8')).map(cidDocumentFromPubtator)),
    ).toHaveLength(6);
    await cls.dispose();
  }, 120_000);
});
