// `npm run train -- gene-names [--genes f.conll ...] [--train f.pubtator] [--types Chemical,Disease]
//                              [--min-length n] [--dev f.pubtator] [--predictions preds.jsonl] [--out dir]`:
// the name lexicon of the document-level rule dropGeneNames (src/models/ner/dropGeneNames.ts). Every
// mention of the gene corpora (default BC2GM's training sentences) becomes a name; per entity type, the
// names that the training abstracts annotate with that type are left out (the tagger's own training data
// says they are that type). With --predictions (ner-tagging's output on the dev abstracts, made with the
// rule off), the card reports dev mention P/R/F1 per type before and after dropping, so the default types
// are chosen on dev only. Writes model.json, lexicon.json and a README model card.
import { parseRecipeArgs, TrainUsageError } from './lib/recipeArgs.ts';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { prf, scoreMentions, type DocMention, type Prf } from '../src/eval/documentF1.ts';
import { dataPath } from '../src/io/dataPath.ts';
import { foldName, nameLexicon, type NameLexiconJson } from '../src/models/ner/dropGeneNames.ts';
import { bioToSpans } from '../src/text/bio.ts';
import { iterateConll } from '../src/text/conll.ts';
import { parsePubtator, type PubtatorDoc } from '../src/text/pubtator.ts';

/** Mention strings of CoNLL files (tokens joined by one space), every type; the tag is the last column. */
export function conllMentions(files: string[]): Set<string> {
  const out = new Set<string>();
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      throw new TrainUsageError(`train gene-names: cannot read ${f}: ${(e as Error).message}`);
    }
    for (const s of iterateConll(text, { source: f })) {
      const tags = s.extra.length > 0 ? s.extra[s.extra.length - 1]! : s.tags;
      for (const sp of bioToSpans(tags)) out.add(s.tokens.slice(sp.start, sp.end).join(' '));
    }
  }
  return out;
}

/**
 * The lexicon: per type, the folded names of `genes` at least `minLength` long that no mention of that
 * type in `train` folds to. Sorted, so the file is the same on every run.
 */
export function buildLexicon(
  genes: Iterable<string>,
  train: PubtatorDoc[],
  types: string[],
  minLength: number,
): NameLexiconJson {
  const folded = new Set<string>();
  for (const g of genes) {
    const f = foldName(g);
    if (f.length >= minLength) folded.add(f);
  }
  const names: Record<string, string[]> = {};
  for (const t of types) {
    const known = new Set(
      train.flatMap((d) => d.annotations.filter((a) => a.type === t).map((a) => foldName(a.mention))),
    );
    names[t] = [...folded].filter((f) => !known.has(f)).sort();
  }
  return { folding: 'nfkc-lower-nospace', minLength, names };
}

/** Predicted mentions (with their text) per line of a ner-tagging predictions JSONL. */
function predictedMentions(path: string): Array<DocMention & { text: string }> {
  const out: Array<DocMention & { text: string }> = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const p = JSON.parse(line) as {
      pmid: string;
      entities: Array<{ start: number; end: number; type: string; text: string }>;
    };
    for (const e of p.entities)
      out.push({ pmid: p.pmid, start: e.start, end: e.end, type: e.type, text: e.text });
  }
  return out;
}

const fmt = (x: number): string => x.toFixed(2);
const prfText = (s: Prf): string => `${fmt(s.f1)} (P ${fmt(s.precision)}, R ${fmt(s.recall)})`;

/** Runs the recipe with `npm run train -- gene-names` arguments (after the recipe name). */
export async function runGeneNamesRecipe(argv: string[]): Promise<void> {
  const options = {
    genes: { type: 'string', multiple: true },
    train: { type: 'string' },
    types: { type: 'string', default: 'Chemical,Disease' },
    'min-length': { type: 'string', default: '4' },
    dev: { type: 'string' },
    predictions: { type: 'string' },
    out: { type: 'string' },
  } as const;
  const parsed = parseRecipeArgs(
    'train gene-names',
    argv,
    options,
    'npm run train -- gene-names [--genes f.conll ...] [--train f.pubtator] [--types Chemical,Disease] [--min-length n] [--dev f.pubtator] [--predictions preds.jsonl] [--out dir]',
  );
  if (!parsed) return;
  const v = parsed.values;
  const minLength = Number(v['min-length']);
  if (!Number.isInteger(minLength) || minLength < 1)
    throw new TrainUsageError(
      `train gene-names: --min-length must be a positive integer, got "${v['min-length']}"`,
    );
  const types = v.types
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (types.length === 0) throw new TrainUsageError('train gene-names: --types is empty');
  const root = resolve(import.meta.dirname, '..');
  const geneFiles = v.genes ?? [dataPath('ner/bc2gm/all/train.conll')];
  const trainFile = v.train ?? dataPath('pubtator/cdr_train.pubtator');
  const devFile = v.dev ?? dataPath('pubtator/cdr_dev.pubtator');
  const out = resolve(v.out ?? join(root, 'models/gene-names'));
  const readDocs = (f: string): PubtatorDoc[] => {
    try {
      return parsePubtator(readFileSync(f, 'utf8'));
    } catch (e) {
      throw new TrainUsageError(`train gene-names: cannot read ${f}: ${(e as Error).message}`);
    }
  };
  const genes = conllMentions(geneFiles);
  const train = readDocs(trainFile);
  const lex = buildLexicon(genes, train, types, minLength);
  // Dev effect per type: the predictions as given (rule off) against the same with that type's names dropped.
  const effect: Record<string, { before: Prf; after: Prf; dropped: number; droppedTrue: number }> = {};
  if (v.predictions) {
    const dev = readDocs(devFile);
    const gold: DocMention[] = dev.flatMap((d) =>
      d.annotations.map((a) => ({ pmid: d.pmid, start: a.start, end: a.end, type: a.type })),
    );
    const goldKeys = new Set(gold.map((m) => `${m.pmid}\t${m.start}\t${m.end}\t${m.type}`));
    const pred = predictedMentions(v.predictions);
    const lexicon = nameLexicon(lex.names);
    for (const t of types) {
      const kept = pred.filter((m) => !(m.type === t && lexicon.has(t, m.text)));
      const gone = pred.filter((m) => m.type === t && lexicon.has(t, m.text));
      effect[t] = {
        before: scoreMentions(gold, pred, [t]).per_type[t] ?? prf(0, 0, 0),
        after: scoreMentions(gold, kept, [t]).per_type[t] ?? prf(0, 0, 0),
        dropped: gone.length,
        droppedTrue: gone.filter((m) => goldKeys.has(`${m.pmid}\t${m.start}\t${m.end}\t${m.type}`)).length,
      };
    }
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'lexicon.json'), JSON.stringify(lex) + '\n');
  const rel = (f: string): string => relative(root, f) || f;
  const counts = Object.fromEntries(types.map((t) => [t, lex.names[t]!.length]));
  const mj = {
    format: 1,
    task: 'name-lexicon',
    name: 'gene-names',
    files: { lexicon: 'lexicon.json' },
    folding: lex.folding,
    minLength,
    names: counts,
    ...(v.predictions ? { metrics: { dev: effect } } : {}),
    provenance: {
      recipe: 'training/geneNames.ts',
      genes: geneFiles.map(rel),
      train: rel(trainFile),
      ...(v.predictions ? { dev: rel(devFile), predictions: v.predictions } : {}),
      command: `npm run train -- gene-names${argv.length ? ' ' + argv.join(' ') : ''}`,
    },
  };
  writeFileSync(join(out, 'model.json'), JSON.stringify(mj, null, 2) + '\n');
  const size = statSync(join(out, 'lexicon.json')).size;
  const effectRows = Object.entries(effect).map(
    ([t, e]) => `| ${t} | ${prfText(e.before)} | ${prfText(e.after)} | ${e.dropped} | ${e.droppedTrue} |`,
  );
  const card = [
    '# gene-names: gene and protein names that are not Chemical (or Disease) mentions in the CDR sense',
    '',
    `A name lexicon built by \`${mj.provenance.command}\` for the document-level rule \`dropGeneNames\``,
    '(src/models/ner/dropGeneNames.ts, config `document.genes` of ner-tagging, ner-relations and ingest).',
    `Names: every mention of ${geneFiles.map((f) => `\`${rel(f)}\``).join(', ')} (${genes.size} distinct strings),`,
    `folded (NFKC, lower case, spaces removed), at least ${minLength} characters once folded. Per type, the names`,
    `that the training abstracts (\`${rel(trainFile)}\`, ${train.length} abstracts: the NER tagger's own training`,
    'data) annotate with that type are left out.',
    '',
    `| type | names |`,
    `|---|---|`,
    ...types.map((t) => `| ${t} | ${counts[t]} |`),
    '',
    `Size: ${(size / 1024).toFixed(0)} KB (lexicon.json). Lookup is one hash-set probe per mention.`,
    '',
    ...(v.predictions
      ? [
          `## Dev effect (\`${rel(devFile)}\`, strict mention F1 at document level)`,
          '',
          `Predictions: \`${v.predictions}\` (ner-tagging with this rule off). Each row drops that type's`,
          'mentions found in its list; the rule runs on `Chemical` only by default, the type where it helps.',
          '',
          '| type | before | after | dropped | of them true |',
          '|---|---|---|---|---|',
          ...effectRows,
          '',
        ]
      : []),
    'Limits: a name is dropped wherever it occurs, so a protein that a corpus does annotate as a chemical',
    '(interferons are Chemical in some CDR abstracts) is lost there; a gene corpus annotates families and',
    'short symbols a chemical corpus may use otherwise, which is why names under the minimum length stay out.',
    '',
  ];
  writeFileSync(join(out, 'README.md'), card.join('\n'));
  process.stdout.write(
    `gene-names: ${genes.size} gene names -> ${Object.entries(counts)
      .map(([t, n]) => `${t} ${n}`)
      .join(', ')} -> ${out}\n` +
      Object.entries(effect)
        .map(
          ([t, e]) =>
            `  dev ${t}: ${prfText(e.before)} -> ${prfText(e.after)}, ${e.dropped} dropped (${e.droppedTrue} true)\n`,
        )
        .join(''),
  );
}
