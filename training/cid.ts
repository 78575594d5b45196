// `npm run train -- cid [--train f] [--dev f] [--out dir] [--predictions preds.jsonl] [--normalizer dir]`:
// chemical-induced-disease relations over (chemical id, disease id) candidates of each abstract.
// 1. Features of every candidate (src/models/relations/cidFeatures.ts, the engine's own code) on the
//    training abstracts' gold mentions and ids, with the pair prior cross-fitted (5 folds: a training
//    abstract never sees its own pairs in the prior); dev features with the prior of all training abstracts.
// 2. training/cid.py trains an MLP (PyTorch, one thread) and exports model.onnx.
// 3. The engine's classifier scores dev: a precision/recall table over thresholds (gold entities), the
//    threshold with the best F1 goes into model.json; with --predictions (ner-tagging output on dev) also
//    end to end: predicted mentions normalized by --normalizer, then relations.
import { parseRecipeArgs, TrainUsageError } from './lib/recipeArgs.ts';
import { runNiced } from './lib/runNiced.ts';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { scoreRelations, type DocRelation } from '../src/eval/conceptF1.ts';
import type { Prf } from '../src/eval/documentF1.ts';
import { dataPath } from '../src/io/dataPath.ts';
import { createCidClassifier, type CidResult } from '../src/models/relations/cidClassifier.ts';
import { cidDocumentFromPubtator, goldCid } from '../src/models/relations/cidDocument.ts';
import {
  buildCidPrior,
  CID_FEATURES,
  cidCandidates,
  type CidDocument,
  type CidPrior,
} from '../src/models/relations/cidFeatures.ts';
import { loadNormalizer } from '../src/models/normalize/conceptNormalizer.ts';
import { parsePubtator, pubtatorText, type PubtatorDoc } from '../src/text/pubtator.ts';
import { dictionaryFromDocs, mentionsFromPredictions } from './normalize.ts';
import { normalizeDocumentMentions } from '../src/models/normalize/conceptNormalizer.ts';

const FOLDS = 5;
/** The normalizer threshold of --noisy-train (the shipped bundle's, picked on dev). */
const NOISY_THRESHOLD = 0.7;

function runPython(python: string, args: string[], cwd: string): Promise<void> {
  return runNiced(python, args, cwd, 'train cid');
}

function featureFile(
  docs: Array<{ doc: CidDocument; cid: Array<[string, string]> }>,
  priorOf: (i: number) => CidPrior,
): {
  features: number[][];
  labels: number[];
  names: readonly string[];
} {
  const features: number[][] = [];
  const labels: number[] = [];
  docs.forEach(({ doc, cid }, i) => {
    const gold = new Set(cid.map(([c, d]) => `${c}\t${d}`));
    for (const c of cidCandidates(doc, { prior: priorOf(i) }).candidates) {
      features.push(c.features);
      labels.push(gold.has(`${c.chemical}\t${c.disease}`) ? 1 : 0);
    }
  });
  return { features, labels, names: CID_FEATURES };
}

/** Relations above a threshold as (pmid, chemical, disease) rows. */
export function relationsAt(results: CidResult[], threshold: number): DocRelation[] {
  return results.flatMap((r) =>
    r.relations
      .filter((x) => x.probability >= threshold)
      .map((x) => ({ pmid: x.pmid, chemical: x.chemical, disease: x.disease })),
  );
}

/** CID documents from NER predictions: mentions normalized per abstract with the normalizer bundle. */
export function predictedDocuments(
  dev: PubtatorDoc[],
  predictions: string,
  normalizerDir: string,
): CidDocument[] {
  const norm = loadNormalizer(normalizerDir);
  const byPmid = mentionsFromPredictions(predictions);
  return dev.map((d) => {
    const text = pubtatorText(d);
    const ms = byPmid.get(d.pmid) ?? [];
    const ids = norm.normalize(text, ms);
    const gold = cidDocumentFromPubtator(d);
    return { ...gold, mentions: ms.map((m, i) => ({ ...m, conceptId: ids[i]!.conceptId })) };
  });
}

/** CID documents with the gold mentions, their ids replaced by the normalizer's answers. */
export function normalizedGoldDocuments(dev: PubtatorDoc[], normalizerDir: string): CidDocument[] {
  const norm = loadNormalizer(normalizerDir);
  return dev.map((d) => {
    const doc = cidDocumentFromPubtator(d);
    const ids = norm.normalize(pubtatorText(d), doc.mentions);
    return { ...doc, mentions: doc.mentions.map((m, i) => ({ ...m, conceptId: ids[i]!.conceptId })) };
  });
}

/**
 * CID documents with the predicted mentions, each given the id of a gold mention of its type that it
 * overlaps ("-1" when none): NER errors only, normalization taken as perfect.
 */
export function oracleIdDocuments(dev: PubtatorDoc[], predictions: string): CidDocument[] {
  const byPmid = mentionsFromPredictions(predictions);
  return dev.map((d) => {
    const doc = cidDocumentFromPubtator(d);
    const ms = byPmid.get(d.pmid) ?? [];
    return {
      ...doc,
      mentions: ms.map((m) => {
        const g = d.annotations.find((a) => a.type === m.type && a.start < m.end && m.start < a.end);
        return { ...m, conceptId: g && g.id !== '' ? g.id : '-1' };
      }),
    };
  });
}

/** Share (%) of gold pairs whose chemical and disease ids both occur in the training annotations. */
export function pairIdCoverage(train: PubtatorDoc[], gold: DocRelation[]): number {
  const known = new Set(train.flatMap((d) => d.annotations.flatMap((a) => a.id.split('|'))));
  const k = gold.filter((g) => known.has(g.chemical) && known.has(g.disease)).length;
  return (100 * k) / Math.max(1, gold.length);
}

const THRESHOLDS = [0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8];

function table(results: CidResult[], gold: DocRelation[]): Array<{ t: number; s: Prf }> {
  return THRESHOLDS.map((t) => ({ t, s: scoreRelations(gold, relationsAt(results, t)) }));
}

const f = (x: number): string => x.toFixed(2);

/** Runs the recipe with `npm run train -- cid` arguments (after the recipe name). */
export async function runCidRecipe(argv: string[]): Promise<void> {
  const options = {
    train: { type: 'string' },
    dev: { type: 'string' },
    out: { type: 'string' },
    predictions: { type: 'string' },
    normalizer: { type: 'string' },
    seed: { type: 'string', default: '1' },
    epochs: { type: 'string', default: '60' },
    hidden: { type: 'string', default: '128' },
    dropout: { type: 'string', default: '0.5' },
    lr: { type: 'string', default: '1e-3' },
    python: { type: 'string', default: '/usr/bin/python3' },
    'noisy-train': { type: 'boolean', default: false },
    'with-dev': { type: 'boolean', default: false },
  } as const;
  const parsed = parseRecipeArgs(
    'train cid',
    argv,
    options,
    'npm run train -- cid [--train f] [--dev f] [--out dir] [--predictions preds.jsonl] [--normalizer dir] [--epochs 60] [--hidden 128] [--dropout 0.5] [--lr 1e-3] [--seed 1] [--python path] [--noisy-train] [--with-dev]',
  );
  if (!parsed) return;
  const v = parsed.values;
  const withDev = v['with-dev'] === true;
  const here = import.meta.dirname;
  const root = resolve(here, '..');
  const trainFile = v.train ?? dataPath('pubtator/cdr_train.pubtator');
  const devFile = v.dev ?? dataPath('pubtator/cdr_dev.pubtator');
  const out = resolve(v.out ?? join(root, 'models/cid-relations'));
  const read = (file: string): PubtatorDoc[] => {
    try {
      return parsePubtator(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new TrainUsageError(`train cid: cannot read ${file}: ${(e as Error).message}`);
    }
  };
  const trainDocs = read(trainFile);
  const train = trainDocs.map((d) => ({ doc: cidDocumentFromPubtator(d), cid: goldCid(d) }));
  const devDocs = read(devFile);
  const dev = devDocs.map((d) => ({ doc: cidDocumentFromPubtator(d), cid: goldCid(d) }));
  const fullPrior = buildCidPrior(train);
  const foldDicts = v['noisy-train']
    ? Array.from({ length: FOLDS }, (_, k) =>
        dictionaryFromDocs(trainDocs.filter((_d, i) => i % FOLDS !== k)),
      )
    : [];
  const foldPriors = Array.from({ length: FOLDS }, (_, k) =>
    buildCidPrior(train.filter((_d, i) => i % FOLDS !== k)),
  );
  const work = resolve(here, 'work/cid', out.replace(/[^a-zA-Z0-9]+/g, '_').slice(-60));
  mkdirSync(work, { recursive: true });
  mkdirSync(out, { recursive: true });
  // --noisy-train: each training abstract also as the pipeline would see it, its gold mentions
  // normalized by a dictionary of the other folds (cross-fitted), so the classifier learns from ids that
  // are missing or wrong the way they are end to end.
  const noisy = v['noisy-train']
    ? trainDocs.map((d, i) => {
        const dict = foldDicts[i % FOLDS]!;
        const doc = cidDocumentFromPubtator(d);
        const ids = normalizeDocumentMentions(dict, pubtatorText(d), doc.mentions, {
          threshold: NOISY_THRESHOLD,
        });
        return {
          doc: { ...doc, mentions: doc.mentions.map((m, k) => ({ ...m, conceptId: ids[k]!.conceptId })) },
          cid: goldCid(d),
        };
      })
    : [];
  const trainRows = featureFile([...train, ...noisy], (i) => foldPriors[(i % train.length) % FOLDS]!);
  writeFileSync(join(work, 'train.json'), JSON.stringify(trainRows));
  writeFileSync(join(work, 'dev.json'), JSON.stringify(featureFile(dev, () => fullPrior)));
  writeFileSync(join(out, 'prior.json'), JSON.stringify(fullPrior) + '\n');
  // One MLP run of cid.py; `select: 'last'` with a fixed epoch count for bundles trained on dev too.
  const trainMlp = (
    trainJson: string,
    devJson: string,
    onnx: string,
    log: string,
    epochs: string,
    select: 'best' | 'last',
  ) =>
    runPython(
      v.python!,
      [
        'cid.py',
        '--train',
        trainJson,
        '--dev',
        devJson,
        '--out',
        onnx,
        '--seed',
        v.seed!,
        '--epochs',
        epochs,
        '--hidden',
        v.hidden!,
        '--dropout',
        v.dropout!,
        '--lr',
        v.lr!,
        '--select',
        select,
        '--log',
        log,
      ],
      here,
    );
  await trainMlp(
    join(work, 'train.json'),
    join(work, 'dev.json'),
    join(out, 'model.onnx'),
    join(work, 'summary.json'),
    v.epochs!,
    'best',
  );
  const summary = JSON.parse(readFileSync(join(work, 'summary.json'), 'utf8')) as Record<string, number>;
  const rel = (p: string): string => relative(root, p) || p;
  const command = `npm run train -- cid${argv.length ? ' ' + argv.join(' ') : ''}`;
  const mj: Record<string, unknown> = {
    task: 'cid-relations',
    name: 'cid-relations',
    features: CID_FEATURES,
    threshold: 0.5,
    files: { model: 'model.onnx', prior: 'prior.json' },
    inputs: { features: 'features' },
    outputs: { probability: 'probability' },
    training: summary,
    provenance: { train: rel(trainFile), dev: rel(devFile), command, createdAt: new Date().toISOString() },
  };
  writeFileSync(join(out, 'model.json'), JSON.stringify(mj, null, 2) + '\n');

  // Scoring with the engine's own classifier (ONNX Runtime), document level (BioCreative V CID measure).
  const cls = await createCidClassifier(out, { threshold: 0 });
  const goldRel: DocRelation[] = dev.flatMap(({ doc, cid }) =>
    cid.map(([c, d]) => ({ pmid: doc.pmid, chemical: c, disease: d })),
  );
  const t0 = performance.now();
  const goldRes = await cls.predict(dev.map((d) => d.doc));
  const seconds = (performance.now() - t0) / 1000;
  const goldTable = table(goldRes, goldRel);
  const pick = goldTable.reduce((a, b) => (b.s.f1 > a.s.f1 ? b : a));
  let e2e: { table: Array<{ t: number; s: Prf }>; at: Prf } | null = null;
  // Where end to end loses against gold entities: each stage swapped in alone, at the picked threshold.
  const breakdown: Array<{ setting: string; at: Prf; candidateRecall: number }> = [];
  const normalizerDir = v.normalizer ?? join(root, 'models/normalize-cdr');
  const stage = async (setting: string, docs: CidDocument[]): Promise<CidResult[]> => {
    const res = await cls.predict(docs);
    breakdown.push({
      setting,
      at: scoreRelations(goldRel, relationsAt(res, pick.t)),
      candidateRecall: scoreRelations(goldRel, relationsAt(res, 0)).recall,
    });
    return res;
  };
  breakdown.push({ setting: 'gold mentions, gold ids', at: pick.s, candidateRecall: 100 });
  await stage('gold mentions, normalized ids', normalizedGoldDocuments(devDocs, normalizerDir));
  if (v.predictions) {
    await stage(
      'predicted mentions (NER), gold ids of overlapping gold mentions',
      oracleIdDocuments(devDocs, v.predictions),
    );
    const res = await stage(
      'end to end: predicted mentions, normalized ids',
      predictedDocuments(devDocs, v.predictions, normalizerDir),
    );
    const t = table(res, goldRel);
    e2e = { table: t, at: t.find((r) => r.t === pick.t)!.s };
  }
  const pairCoverage = pairIdCoverage(trainDocs, goldRel);
  await cls.dispose();
  // Candidate recall: the share of gold pairs that are candidates at all (gold entities).
  const candidates = new Set(
    goldRes.flatMap((r) => r.relations.map((x) => `${x.pmid}\t${x.chemical}\t${x.disease}`)),
  );
  const reach = goldRel.filter((g) => candidates.has(`${g.pmid}\t${g.chemical}\t${g.disease}`)).length;
  mj.threshold = pick.t;
  mj.metrics = {
    dev: {
      goldEntities: pick.s,
      ...(e2e ? { endToEnd: e2e.at } : {}),
      candidateRecall: (100 * reach) / Math.max(1, goldRel.length),
      pairIdCoverage: pairCoverage,
      breakdown,
    },
  };
  writeFileSync(join(out, 'model.json'), JSON.stringify(mj, null, 2) + '\n');

  // --with-dev: the bundle is trained again on train + dev with the epoch count and the threshold fixed
  // above, keeping the last epoch; the held-out figures stay those of the training-only model. Dev in two
  // halves (train + one half, scored on the other) measures what the added abstracts gain on unseen ones.
  let withDevFigures: { halves: { gold: Prf; e2e?: Prf }; notHeldOut: Prf; epochs: number } | null = null;
  if (withDev) {
    const epochs = String(summary.bestEpoch);
    const bundleAt = async (
      dir: string,
      docs: typeof train,
      scratch: string,
    ): Promise<Record<string, number>> => {
      mkdirSync(dir, { recursive: true });
      mkdirSync(scratch, { recursive: true });
      const folds = Array.from({ length: FOLDS }, (_, k) =>
        buildCidPrior(docs.filter((_d, i) => i % FOLDS !== k)),
      );
      const rows = join(scratch, 'train.json');
      writeFileSync(rows, JSON.stringify(featureFile(docs, (i) => folds[i % FOLDS]!)));
      // With --select last nothing is selected on dev: the training rows stand in for cid.py's --dev.
      await trainMlp(rows, rows, join(dir, 'model.onnx'), join(scratch, 'summary.json'), epochs, 'last');
      writeFileSync(join(dir, 'prior.json'), JSON.stringify(buildCidPrior(docs)) + '\n');
      writeFileSync(join(dir, 'model.json'), JSON.stringify(mj, null, 2) + '\n');
      return JSON.parse(readFileSync(join(scratch, 'summary.json'), 'utf8')) as Record<string, number>;
    };
    const predDocs = v.predictions ? predictedDocuments(devDocs, v.predictions, normalizerDir) : null;
    const pooledGold: DocRelation[] = [];
    const pooledE2e: DocRelation[] = [];
    for (const k of [0, 1]) {
      const dir = join(work, `half${k}`);
      await bundleAt(dir, [...train, ...dev.filter((_d, i) => i % 2 !== k)], dir);
      const held = dev.map((_d, i) => i).filter((i) => i % 2 === k);
      const c = await createCidClassifier(dir, { threshold: 0 });
      pooledGold.push(...relationsAt(await c.predict(held.map((i) => dev[i]!.doc)), pick.t));
      if (predDocs) pooledE2e.push(...relationsAt(await c.predict(held.map((i) => predDocs[i]!)), pick.t));
      await c.dispose();
    }
    const finalSummary = await bundleAt(out, [...train, ...dev], join(work, 'final'));
    const c = await createCidClassifier(out, { threshold: 0 });
    const notHeldOut = scoreRelations(goldRel, relationsAt(await c.predict(dev.map((d) => d.doc)), pick.t));
    await c.dispose();
    withDevFigures = {
      halves: {
        gold: scoreRelations(goldRel, pooledGold),
        ...(predDocs ? { e2e: scoreRelations(goldRel, pooledE2e) } : {}),
      },
      notHeldOut,
      epochs: Number(epochs),
    };
    mj.trainingOnly = mj.training;
    mj.training = finalSummary;
    (mj.provenance as Record<string, unknown>).training = 'train+dev';
    (mj.metrics as Record<string, unknown>).devHalves = {
      note: 'dev halves, each scored by a model trained on train + the other half (held out), at the threshold above',
      ...withDevFigures.halves,
    };
    (mj.metrics as Record<string, unknown>).trainPlusDevOnDev = {
      note: 'the shipped train + dev model scored on dev with gold entities: not held out',
      ...notHeldOut,
    };
    writeFileSync(join(out, 'model.json'), JSON.stringify(mj, null, 2) + '\n');
  }
  const size = statSync(join(out, 'model.onnx')).size + statSync(join(out, 'prior.json')).size;
  const rows = goldTable
    .map((r, i) => {
      const e = e2e?.table[i]?.s;
      return `| ${r.t.toFixed(2)} | ${f(r.s.precision)} | ${f(r.s.recall)} | ${f(r.s.f1)} |${e ? ` ${f(e.precision)} | ${f(e.recall)} | ${f(e.f1)} |` : ''}`;
    })
    .join('\n');
  const card = `# cid-relations: document-level chemical-induced disease (CID) relations

Scores every (chemical MeSH id, disease MeSH id) pair of an abstract: ${CID_FEATURES.length} features per pair pooled over
all mention pairs of the two concepts, within and across sentences (src/models/relations/cidFeatures.ts:
mention counts, title mentions, positions, sentence distance, words between same-sentence mentions with
trigger words such as induced / caused / associated / after and protective or negated contexts,
"X-induced Y" patterns, and a pair prior from the training abstracts: how often the pair was a CID where
both occurred, cross-fitted in 5 folds during training), into an MLP (${CID_FEATURES.length}-${v.hidden}-${Number(v.hidden) / 2}-1,
${summary.parameters} parameters, feature standardization inside the graph) trained by \`training/cid.py\`
(PyTorch, one CPU thread, ${f(summary.seconds ?? 0)} s, ${summary.trainPairs} training pairs, ${summary.trainPositives} positive; epoch ${summary.bestEpoch}
of ${summary.epochs} kept by dev pair F1), exported to ONNX (\`model.onnx\`: input \`features\` [N, ${CID_FEATURES.length}], output
\`probability\` [N]). \`prior.json\` holds the pair prior of all ${withDevFigures ? 'train + dev' : 'training'} abstracts.

Data: \`${rel(trainFile)}\` (train), \`${rel(devFile)}\` (dev: threshold and epoch picked here; figures on
unseen abstracts will be lower).
${
  withDevFigures
    ? `
**This bundle is trained on train + dev** (\`--with-dev\`: ${train.length + dev.length} abstracts, the pair prior of all of them in
\`prior.json\`), for ${withDevFigures.epochs} epochs and with threshold ${pick.t}, both fixed by the training-only model of the same run.
Every dev figure below is that training-only model's (held out) except the last section's, which are not.
`
    : ''
}

## Dev figures (BioCreative V CID measure: set of (PMID, chemical id, disease id), micro P/R/F1)

Threshold ${pick.t} (best dev F1 with gold entities):

- gold entities and ids: P ${f(pick.s.precision)}, R ${f(pick.s.recall)}, **F1 ${f(pick.s.f1)}** (candidate recall ${f((100 * reach) / Math.max(1, goldRel.length))}%)
${e2e ? `- end to end (models/ner-bc5cdr through ner-tagging, then ${rel(normalizerDir)}, then this model): P ${f(e2e.at.precision)}, R ${f(e2e.at.recall)}, **F1 ${f(e2e.at.f1)}**` : '- end to end: not measured in this run (pass --predictions)'}

Where end to end loses (dev, threshold ${pick.t}; each row swaps one stage in; candidate recall: gold pairs
that are candidates at all):

| setting | P | R | F1 | candidate recall |
|---|---|---|---|---|
${breakdown.map((b) => `| ${b.setting} | ${f(b.at.precision)} | ${f(b.at.recall)} | ${f(b.at.f1)} | ${f(b.candidateRecall)} |`).join('\n')}

Normalization: \`${rel(normalizerDir)}\`. Only ${f(pairCoverage)}% of the dev CID pairs have both ids in the training
annotations: a dictionary built from them alone cannot produce the rest, whatever the classifier does.

Precision / recall over thresholds (dev):

| threshold | gold P | gold R | gold F1 |${e2e ? ' e2e P | e2e R | e2e F1 |' : ''}
|---|---|---|---|${e2e ? '---|---|---|' : ''}
${rows}

Anchors (BC5CDR test, from the literature): best challenge system 57.03 end to end; BRAN (no pretrained
language model) 62.1 with gold entities.
${
  withDevFigures
    ? `
## Train + dev bundle

What the dev abstracts add on abstracts a model has not seen, measured on dev in halves (a model trained on
train + one half, same epochs and threshold, scores the other half; pooled): gold entities ${f(pick.s.f1)} -> ${f(withDevFigures.halves.gold.f1)} F1${
        withDevFigures.halves.e2e && e2e
          ? `, end to end ${f(e2e.at.f1)} -> ${f(withDevFigures.halves.e2e.f1)} F1`
          : ''
      } (250 abstracts added; the bundle adds 500).

The shipped model on dev with gold entities: P ${f(withDevFigures.notHeldOut.precision)}, R ${f(withDevFigures.notHeldOut.recall)}, F1 ${f(withDevFigures.notHeldOut.f1)}: **not held out** (dev is in its
training data); \`eval relations\` on cdr_dev says so. For held-out dev figures build the training-only model:
\`npm run train -- cid --out /tmp/cid-train-only${v.predictions ? ` --predictions ${v.predictions}` : ''}${v.normalizer ? ` --normalizer ${v.normalizer}` : ''}\` and pass \`--cid /tmp/cid-train-only\`.
`
    : ''
}

## Size and speed

model.onnx + prior.json: ${(size / 1024).toFixed(0)} KiB. Scoring the 500 dev abstracts (features + one ONNX run): ${f(seconds)} s.

## Reproduce

\`\`\`
${v.predictions ? `npm run cli -- run ner-tagging --source pubtator:${rel(devFile)} --sink predictions=jsonl:${v.predictions}\n` : ''}${v.normalizer ? `npm run train -- normalize --out ${v.normalizer}   # the normalization bundle scored with (training-only dictionary)\n` : ''}${command}
npm run cli -- eval relations --data ${rel(devFile)} --gold-entities
npm run cli -- eval relations --data ${rel(devFile)}${v.normalizer ? ` --normalizer ${v.normalizer}` : ''}   # end to end (add --kafka for the same through Kafka)
\`\`\`
`;
  writeFileSync(join(out, 'README.md'), card);
  process.stdout.write(
    JSON.stringify({
      out: rel(out),
      threshold: pick.t,
      goldEntities: pick.s,
      ...(e2e ? { endToEnd: e2e.at } : {}),
      pairIdCoverage: pairCoverage,
      breakdown: breakdown.map((b) => ({
        setting: b.setting,
        f1: b.at.f1,
        candidateRecall: b.candidateRecall,
      })),
    }) + '\n',
  );
}
