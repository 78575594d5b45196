// `npm run train -- normalize [--train f.pubtator] [--dev f.pubtator] [--out dir] [--predictions preds.jsonl]
//                             [--with-dev] [--threshold t]`:
// builds the concept dictionary from the training abstracts' gold mentions (names -> MeSH ids, composite
// parts included), picks the unsure threshold on dev (concept F1 with gold mentions, BioCreative V
// measure), and writes the bundle: model.json, dictionary.json and a README model card. With --with-dev
// the figures and the threshold still come from the training-only dictionary scored on dev (held out);
// the bundle written is then the dictionary of train + dev with that threshold, for users whose
// abstracts are neither (its dev figures are reported apart, as not held out).
import { parseRecipeArgs, TrainUsageError } from './lib/recipeArgs.ts';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { conceptParts, scoreConcepts, type ConceptScores, type DocConcept } from '../src/eval/conceptF1.ts';
import { dataPath } from '../src/io/dataPath.ts';
import { ConceptDictionary, entriesFromMentions } from '../src/models/normalize/conceptDictionary.ts';
import { normalizeDocumentMentions, type MentionInput } from '../src/models/normalize/conceptNormalizer.ts';
import { parsePubtator, pubtatorText, type PubtatorDoc } from '../src/text/pubtator.ts';

const TYPES = ['Chemical', 'Disease'];

/** Builds a dictionary from PubTator documents' gold mentions (composite parts from the extra column). */
export function dictionaryFromDocs(docs: PubtatorDoc[]): ConceptDictionary {
  return new ConceptDictionary(
    entriesFromMentions(
      docs.flatMap((d) =>
        d.annotations
          .filter((a) => a.id !== '')
          .map((a) => ({
            text: a.mention,
            type: a.type,
            id: a.id,
            ...(a.extra?.[0] ? { parts: a.extra[0] } : {}),
          })),
      ),
    ),
  );
}

/** Gold concepts of documents: (pmid, type, id) per mention. */
export function goldConcepts(docs: PubtatorDoc[]): DocConcept[] {
  return docs.flatMap((d) => d.annotations.map((a) => ({ pmid: d.pmid, type: a.type, id: a.id })));
}

/** Predicted concepts for each document's mentions (gold mentions, or `mentionsOf`) at a threshold. */
export function predictConcepts(
  dict: ConceptDictionary,
  docs: PubtatorDoc[],
  threshold: number,
  mentionsOf: (d: PubtatorDoc) => MentionInput[] = (d) =>
    d.annotations.map((a) => ({ start: a.start, end: a.end, text: a.mention, type: a.type })),
): DocConcept[] {
  return docs.flatMap((d) => {
    const ms = mentionsOf(d);
    const res = normalizeDocumentMentions(dict, pubtatorText(d), ms, { threshold });
    return ms.map((m, i) => ({ pmid: d.pmid, type: m.type, id: res[i]!.conceptId }));
  });
}

/**
 * Mention-level accuracy on gold mentions (% whose predicted id equals the gold id, composite parts in
 * any order; a gold "-1" is right when the prediction is "-1" too). The concept F1 counts sets of ids
 * per abstract instead, so a name repeated in an abstract counts once there and every time here.
 */
export function mentionAccuracy(dict: ConceptDictionary, docs: PubtatorDoc[], threshold: number): number {
  const key = (id: string): string => id.split('|').sort().join('|');
  let n = 0;
  let ok = 0;
  for (const d of docs) {
    const res = normalizeDocumentMentions(
      dict,
      pubtatorText(d),
      d.annotations.map((a) => ({ start: a.start, end: a.end, text: a.mention, type: a.type })),
      { threshold },
    );
    d.annotations.forEach((a, i) => {
      if (!TYPES.includes(a.type)) return;
      n++;
      if (key(res[i]!.conceptId) === key(a.id === '' ? '-1' : a.id)) ok++;
    });
  }
  return n === 0 ? 0 : (100 * ok) / n;
}

/**
 * Dev split in two halves (alternate abstracts); each half is scored (gold mentions) with the dictionary
 * of train + the other half and with train alone; the concept sets of both halves are pooled.
 */
export function devHalvesGain(
  train: PubtatorDoc[],
  dev: PubtatorDoc[],
  threshold: number,
): { trainOnly: ConceptScores; trainPlusHalf: ConceptScores } {
  const halves = [dev.filter((_d, i) => i % 2 === 0), dev.filter((_d, i) => i % 2 === 1)];
  const base = dictionaryFromDocs(train);
  const gold = goldConcepts(dev);
  const plus = halves.flatMap((h, k) =>
    predictConcepts(dictionaryFromDocs([...train, ...halves[1 - k]!]), h, threshold),
  );
  const alone = halves.flatMap((h) => predictConcepts(base, h, threshold));
  return { trainOnly: scoreConcepts(gold, alone, TYPES), trainPlusHalf: scoreConcepts(gold, plus, TYPES) };
}

/** Mentions per PMID from an NER predictions JSONL (one NerPrediction per line). */
export function mentionsFromPredictions(path: string): Map<string, MentionInput[]> {
  const out = new Map<string, MentionInput[]>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const p = JSON.parse(line) as { pmid: string; entities: MentionInput[] };
    const list = out.get(p.pmid) ?? [];
    for (const e of p.entities) list.push({ start: e.start, end: e.end, text: e.text, type: e.type });
    out.set(p.pmid, list);
  }
  return out;
}

const fmt = (x: number): string => x.toFixed(2);

function row(t: number, s: ConceptScores): string {
  const c = s.per_type.Chemical!;
  const d = s.per_type.Disease!;
  return `| ${t.toFixed(2)} | ${fmt(c.precision)} / ${fmt(c.recall)} / ${fmt(c.f1)} | ${fmt(d.precision)} / ${fmt(d.recall)} / ${fmt(d.f1)} | ${fmt(s.f1)} |`;
}

/** Runs the recipe with `npm run train -- normalize` arguments (after the recipe name). */
export async function runNormalizeRecipe(argv: string[]): Promise<void> {
  const options = {
    train: { type: 'string' },
    dev: { type: 'string' },
    out: { type: 'string' },
    predictions: { type: 'string' },
    'with-dev': { type: 'boolean', default: false },
    threshold: { type: 'string' },
  } as const;
  const parsed = parseRecipeArgs(
    'train normalize',
    argv,
    options,
    'npm run train -- normalize [--train f.pubtator] [--dev f.pubtator] [--out dir] [--predictions preds.jsonl] [--with-dev] [--threshold t]',
  );
  if (!parsed) return;
  const v = parsed.values;
  const fixed = v.threshold === undefined ? undefined : Number(v.threshold);
  if (fixed !== undefined && !(fixed >= 0 && fixed <= 1))
    throw new TrainUsageError(
      `train normalize: --threshold must be a number in [0, 1], got "${v.threshold}"`,
    );
  const root = resolve(import.meta.dirname, '..');
  const trainFile = v.train ?? dataPath('pubtator/cdr_train.pubtator');
  const devFile = v.dev ?? dataPath('pubtator/cdr_dev.pubtator');
  const out = resolve(v.out ?? join(root, 'models/normalize-cdr'));
  const read = (f: string): PubtatorDoc[] => {
    try {
      return parsePubtator(readFileSync(f, 'utf8'));
    } catch (e) {
      throw new TrainUsageError(`train normalize: cannot read ${f}: ${(e as Error).message}`);
    }
  };
  const train = read(trainFile);
  const dev = read(devFile);
  const t0 = performance.now();
  const dict = dictionaryFromDocs(train);
  const buildSeconds = (performance.now() - t0) / 1000;
  const gold = goldConcepts(dev);
  // Upper bound of a dictionary made from the training abstracts: dev concepts whose id it knows.
  const known = new Set(dict.entries.flatMap((e) => conceptParts(e.id).map((id) => `${e.type}\t${id}`)));
  const coverage: Record<string, number> = {};
  for (const t of TYPES) {
    const g = new Set(
      gold.filter((x) => x.type === t).flatMap((x) => conceptParts(x.id).map((id) => `${x.pmid}\t${id}`)),
    );
    let k = 0;
    for (const x of g) if (known.has(`${t}\t${x.split('\t')[1]}`)) k++;
    coverage[t] = g.size === 0 ? 0 : (100 * k) / g.size;
  }
  const thresholds = [0, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9];
  const table: Array<{ t: number; s: ConceptScores }> = [];
  for (const t of thresholds) table.push({ t, s: scoreConcepts(gold, predictConcepts(dict, dev, t), TYPES) });
  const best = table.reduce((a, b) => (b.s.f1 > a.s.f1 ? b : a));
  const pick =
    fixed === undefined
      ? best
      : { t: fixed, s: scoreConcepts(gold, predictConcepts(dict, dev, fixed), TYPES) };
  const mentionAcc = mentionAccuracy(dict, dev, pick.t);
  // Speed: mentions normalized per second (gold mentions of dev, abbreviations included).
  const n = dev.reduce((k, d) => k + d.annotations.length, 0);
  // A fresh dictionary: the figure is the cold one (every string seen for the first time; the lookup
  // cache makes repeated strings far cheaper in a long stream).
  const cold = new ConceptDictionary(dict.entries);
  const t1 = performance.now();
  predictConcepts(cold, dev, pick.t);
  const perSecond = n / ((performance.now() - t1) / 1000);
  let predicted: ConceptScores | null = null;
  if (v.predictions) {
    const byPmid = mentionsFromPredictions(v.predictions);
    predicted = scoreConcepts(
      gold,
      predictConcepts(dict, dev, pick.t, (d) => byPmid.get(d.pmid) ?? []),
      TYPES,
    );
  }
  // The bundle's dictionary: training only, or (--with-dev) train + dev with the threshold fixed above.
  const withDev = v['with-dev'] === true;
  const shipped = withDev ? dictionaryFromDocs([...train, ...dev]) : dict;
  const notHeldOut = withDev
    ? scoreConcepts(gold, predictConcepts(new ConceptDictionary(shipped.entries), dev, pick.t), TYPES)
    : null;
  // What adding abstracts to the dictionary gains on abstracts it has not seen: dev in two halves, each
  // scored with train + the other half, against train alone on the same half (both held out).
  const twoFold = withDev ? devHalvesGain(train, dev, pick.t) : null;
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'dictionary.json'), JSON.stringify(shipped.toJson()) + '\n');
  const metrics = {
    dev: {
      goldMentions: {
        f1: pick.s.f1,
        precision: pick.s.precision,
        recall: pick.s.recall,
        Chemical: pick.s.per_type.Chemical,
        Disease: pick.s.per_type.Disease,
      },
      ...(predicted
        ? {
            predictedMentions: {
              f1: predicted.f1,
              Chemical: predicted.per_type.Chemical,
              Disease: predicted.per_type.Disease,
            },
          }
        : {}),
      mentionAccuracy: mentionAcc,
      idCoverage: coverage,
      heldOut: true,
    },
    ...(twoFold
      ? {
          devHalves: {
            note: 'dev halves, each scored with train + the other half vs train alone (held out)',
            trainOnly: {
              f1: twoFold.trainOnly.f1,
              Chemical: twoFold.trainOnly.per_type.Chemical,
              Disease: twoFold.trainOnly.per_type.Disease,
            },
            trainPlusHalf: {
              f1: twoFold.trainPlusHalf.f1,
              Chemical: twoFold.trainPlusHalf.per_type.Chemical,
              Disease: twoFold.trainPlusHalf.per_type.Disease,
            },
          },
        }
      : {}),
    ...(notHeldOut
      ? {
          trainPlusDevOnDev: {
            note: 'the shipped train+dev dictionary scored on dev: not held out',
            f1: notHeldOut.f1,
            Chemical: notHeldOut.per_type.Chemical,
            Disease: notHeldOut.per_type.Disease,
          },
        }
      : {}),
  };
  const rel = (f: string): string => relative(root, f) || f;
  const mj = {
    task: 'concept-normalization',
    name: 'normalize-cdr',
    files: { dictionary: 'dictionary.json' },
    threshold: pick.t,
    types: TYPES,
    entries: shipped.entries.length,
    metrics,
    provenance: {
      train: rel(trainFile),
      dev: rel(devFile),
      dictionary: withDev ? 'train+dev' : 'train',
      command: `npm run train -- normalize${argv.length ? ' ' + argv.join(' ') : ''}`,
      createdAt: new Date().toISOString(),
    },
  };
  writeFileSync(join(out, 'model.json'), JSON.stringify(mj, null, 2) + '\n');
  const size = statSync(join(out, 'dictionary.json')).size;
  const trainOnlyCmd = `npm run train -- normalize --out /tmp/normalize-train-only${v.predictions ? ` --predictions ${v.predictions}` : ''}`;
  const built = withDev
    ? `the gold mentions of the BC5CDR training and development abstracts (\`${rel(trainFile)}\` + \`${rel(devFile)}\`)`
    : `the gold mentions of the ${train.length} BC5CDR training abstracts (\`${rel(trainFile)}\`)`;
  const card = `# normalize-cdr: MeSH normalization of Chemical and Disease mentions

A concept dictionary built by \`${`npm run train -- normalize${argv.length ? ' ' + argv.join(' ') : ''}`}\` from
${built}: ${shipped.entries.length} (type, name, MeSH id) entries with counts,
composite mentions' individual names included. No MeSH or UMLS vocabulary is reachable from this
project's package sources (Debian, npm), so ids never seen in ${withDev ? 'those abstracts' : 'training'} cannot be predicted.
${
  withDev
    ? `
**This bundle includes the dev abstracts.** Its threshold and every held-out figure below come from the
training-only dictionary scored on dev (same run); the dictionary shipped adds the dev names, so its own
dev figures (their own section below) are not held out and say nothing about new abstracts. The dev names are
what users gain from: ${fmt(coverage.Chemical!)}% / ${fmt(coverage.Disease!)}% of dev Chemical / Disease
concepts had an id the training abstracts know; new abstracts meet the same gap.
`
    : ''
}
Lookup per mention, strict to loose: exact (case folded, Greek letters spelled) -> normalized (punctuation
and hyphens split, letters/digits split, plurals singular, British spellings) -> bag of words -> organ and
process synonyms folded (renal/kidney, hepatic/liver, insufficiency/failure, ...) -> the disease after a
cause word ("X-induced Y" -> Y) -> salt words dropped ("... hydrochloride") -> head words (leading
modifiers dropped) -> character-trigram TF-IDF cosine ranker (names annotated as composites take part
only when matched whole). Per abstract: short forms resolved through their Schwartz-Hearst definitions
(src/text/abbreviationDefinitions.ts); coordinated mentions the dictionary lacks whole split into their
parts ("ovarian and breast carcinoma" -> ovarian carcinoma | breast carcinoma, "cleft lip and palate",
ids joined by \`|\` as CDR annotates them); one answer per surface form. Scores below the threshold
(${pick.t}, ${fixed === undefined ? 'picked on dev' : 'fixed by --threshold'}) give \`-1\`.

## Dev figures, training-only dictionary (held out: ${rel(devFile)})

BioCreative V concept measure: the set of (PMID, type, MeSH id) per abstract, micro P/R/F1.

Gold mentions, threshold ${pick.t}: Chemical ${fmt(pick.s.per_type.Chemical!.f1)} F1 (P ${fmt(pick.s.per_type.Chemical!.precision)}, R ${fmt(pick.s.per_type.Chemical!.recall)}), Disease ${fmt(pick.s.per_type.Disease!.f1)} F1 (P ${fmt(pick.s.per_type.Disease!.precision)}, R ${fmt(pick.s.per_type.Disease!.recall)}).
Mention level (every gold mention counted, not sets per abstract): ${fmt(mentionAcc)}% of gold mentions get exactly their gold id.
${predicted ? `\nPredicted mentions (models/ner-bc5cdr through ner-tagging with its document-level stage, \`${v.predictions!}\`): Chemical ${fmt(predicted.per_type.Chemical!.f1)} F1, Disease ${fmt(predicted.per_type.Disease!.f1)} F1.\n` : ''}
Ceiling of a training-only dictionary: ${fmt(coverage.Chemical!)}% of dev Chemical concepts and ${fmt(coverage.Disease!)}% of
dev Disease concepts (per abstract) have an id that occurs in the training annotations of that type, so
recall cannot pass these (the goals of issue 13, 90 and 86.5 F1 on held-out abstracts, are out of reach
for this dictionary on dev).
Reference (held-out CDR test, BioCreative V organizers' baselines): tmChem 91.2 (chemicals), DNorm 80.6 (diseases).

Ids follow the CDR annotation, not MeSH's hierarchy, where the two differ: "statin(s)" get D019821
(Simvastatin), as the CDR abstracts annotate them every time (9 of 9 in train + dev), not D019161 (the
HMG-CoA reductase inhibitor class); the BioCreative measure counts the annotated id.

Threshold table (dev, gold mentions, training-only dictionary; P / R / F1):

| threshold | Chemical | Disease | all F1 |
|---|---|---|---|
${table.map((r) => row(r.t, r.s)).join('\n')}
${
  notHeldOut
    ? `
## Dev figures of the shipped bundle (train + dev dictionary): not held out

Gold mentions, threshold ${pick.t}: Chemical ${fmt(notHeldOut.per_type.Chemical!.f1)} F1, Disease ${fmt(notHeldOut.per_type.Disease!.f1)} F1.
These abstracts are in the dictionary: the figures only show that the build took them in.
${
  twoFold
    ? `What the added names are worth on abstracts the dictionary has not seen, measured on dev in two halves
(each half scored with train + the other half, against train alone on the same half; gold mentions, both
held out): Chemical ${fmt(twoFold.trainOnly.per_type.Chemical!.f1)} -> ${fmt(twoFold.trainPlusHalf.per_type.Chemical!.f1)} F1, Disease ${fmt(twoFold.trainOnly.per_type.Disease!.f1)} -> ${fmt(twoFold.trainPlusHalf.per_type.Disease!.f1)} F1 (250 abstracts added;
the shipped bundle adds 500).`
    : ''
} \`eval relations\`
and \`eval pubtator\` on cdr_dev with this bundle are not held out either; use the training-only build
(below) for dev figures.
`
    : ''
}
## Size and speed

dictionary.json ${(size / 1024).toFixed(0)} KiB; built in ${buildSeconds.toFixed(2)} s; ${Math.round(perSecond)} mentions/s normalized
(one core, whole abstracts, abbreviations included; cold: every string looked up for the first time, repeated
strings then come from a bounded cache of 20,000 lookups).

## Reproduce

\`\`\`
${v.predictions ? `npm run cli -- run ner-tagging --source pubtator:${rel(devFile)} --sink predictions=jsonl:${v.predictions}\n` : ''}${mj.provenance.command}
# held-out dev figures: the training-only build in a temporary folder, then end to end through ner-relations
${trainOnlyCmd}
npm run cli -- eval relations --data ${rel(devFile)} --normalizer /tmp/normalize-train-only   # concepts.* and CID end to end
\`\`\`
`;
  writeFileSync(join(out, 'README.md'), card);
  process.stdout.write(
    JSON.stringify({
      out: rel(out),
      threshold: pick.t,
      ...metrics.dev,
      ...(notHeldOut ? { trainPlusDevOnDev: metrics.trainPlusDevOnDev, devHalves: metrics.devHalves } : {}),
    }) + '\n',
  );
}
