// The normalize and cid recipes on the synthetic fixture (6 abstracts): each writes a bundle that the
// engine loads and runs, with a model card and figures in model.json. Seconds, no shared data needed.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNormalizer } from '../../src/models/normalize/conceptNormalizer.ts';
import { createCidClassifier } from '../../src/models/relations/cidClassifier.ts';
import { cidDocumentFromPubtator } from '../../src/models/relations/cidDocument.ts';
import { parsePubtator } from '../../src/text/pubtator.ts';
import { runTrain } from '../../training/run.ts';

const data = join(import.meta.dirname, '../fixtures/io/cid-tiny.pubtator');

describe('training recipes normalize and cid (smoke)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cid-smoke-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

  it('cid: features in TS, MLP in PyTorch, ONNX scored by the engine; threshold and card written', async () => {
    const out = join(dir, 'cid');
    await runTrain(['cid', '--train', data, '--dev', data, '--out', out, '--epochs', '3', '--hidden', '8']);
    for (const f of ['model.onnx', 'prior.json', 'README.md']) expect(existsSync(join(out, f))).toBe(true);
    const mj = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as {
      threshold: number;
      metrics: { dev: { goldEntities: { f1: number }; candidateRecall: number } };
    };
    expect(mj.metrics.dev.candidateRecall).toBe(100);
    expect(mj.threshold).toBeGreaterThan(0);
    const cls = await createCidClassifier(out);
    const docs = parsePubtator(readFileSync(data, 'utf8')).map(cidDocumentFromPubtator);
    const res = await cls.predict(docs);
    await cls.dispose();
    expect(res).toHaveLength(docs.length);
    expect(res[0]!.relations.length).toBeGreaterThan(0);
  }, 120_000);
});
