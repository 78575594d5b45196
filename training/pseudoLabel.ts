// `npm run train -- pseudo-label --model <teacher bundle> --out <file.conll> [--input <sentences.txt>]
//                                [--exclude <conll> ...] [--max <n>] [--empty-share <x>] [--pool <n>] [--seed <n>]`:
// tags unlabeled tokenized sentences (one per line, tokens separated by spaces; default
// corpus/biomed_sentences.txt) with a teacher NER bundle (e.g. an ensemble from `npm run train -- ensemble`)
// and writes them as CoNLL, for training a single student model on gold + teacher-labeled text
// (self-training / distillation: the ensemble's accuracy at one model's cost). Sentences found in any
// --exclude CoNLL file are never used (default: the dev files of every shared NER corpus, so no dev
// sentence reaches training, and bc5cdr's own training file, which is gold already). A seeded sample of
// --pool sentences is tagged; --max are kept, (1 - empty-share) of them with at least one entity.
import { parseRecipeArgs, TrainUsageError } from './lib/recipeArgs.ts';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createRng } from '../src/engine/rng.ts';
import { dataPath } from '../src/io/dataPath.ts';
import { createTokenTagger } from '../src/models/ner/tokenTagger.ts';
import { iterateConll } from '../src/text/conll.ts';

const CORPORA = ['bc5cdr', 'ncbi', 'bc2gm', 'jnlpba', 'ebmnlp'];

/** Default exclusions: every corpus's dev file and bc5cdr's training file, where they exist. */
export function defaultExclusions(): string[] {
  return [
    ...CORPORA.map((ds) => dataPath('ner', ds, 'dev.conll')),
    dataPath('ner', 'bc5cdr', 'all', 'train.conll'),
  ].filter((f) => existsSync(f));
}

/** Token strings (joined by single spaces) of every sentence of CoNLL files. */
export function sentenceKeys(files: string[]): Set<string> {
  const keys = new Set<string>();
  for (const f of files)
    for (const s of iterateConll(readFileSync(f, 'utf8'), { source: f, validateTags: false }))
      keys.add(s.tokens.join(' '));
  return keys;
}

export interface PseudoLabelSummary {
  input: string;
  candidates: number;
  excluded: number;
  tagged: number;
  kept: number;
  withEntities: number;
  entities: number;
  out: string;
}

/** Runs the recipe (argv after the recipe name); prints and returns its summary (undefined for --help). */
export async function runPseudoLabelRecipe(argv: string[]): Promise<PseudoLabelSummary | undefined> {
  const options = {
    model: { type: 'string' },
    out: { type: 'string' },
    input: { type: 'string' },
    exclude: { type: 'string', multiple: true },
    max: { type: 'string', default: '12000' },
    pool: { type: 'string' },
    'empty-share': { type: 'string', default: '0.2' },
    'max-tokens': { type: 'string', default: '120' },
    seed: { type: 'string', default: '1' },
  } as const;
  const parsed = parseRecipeArgs(
    'train pseudo-label',
    argv,
    options,
    'npm run train -- pseudo-label --model <bundle> --out <file.conll> [--input sentences.txt] [--exclude f ...] [--max 12000] [--pool n] [--empty-share 0.2] [--max-tokens 120] [--seed 1]',
  );
  if (!parsed) return undefined;
  const v = parsed.values;
  if (!v.model || !existsSync(v.model))
    throw new TrainUsageError(`pseudo-label: --model <teacher bundle> is required (got ${v.model})`);
  if (!v.out) throw new TrainUsageError('pseudo-label: --out <file.conll> is required');
  const input = v.input ?? dataPath('corpus', 'biomed_sentences.txt');
  if (!existsSync(input)) throw new TrainUsageError(`pseudo-label: --input ${input} does not exist`);
  const max = Number(v.max);
  const emptyShare = Number(v['empty-share']);
  const maxTokens = Number(v['max-tokens']);
  const pool = Number(v.pool ?? String(max * 3));
  if (!(max > 0) || !(pool >= max) || !(emptyShare >= 0 && emptyShare <= 1) || !(maxTokens > 0))
    throw new TrainUsageError('pseudo-label: need --max > 0, --pool >= --max, 0 <= --empty-share <= 1');
  const excludeFiles = v.exclude ?? defaultExclusions();
  const excluded = sentenceKeys(excludeFiles);

  // Distinct candidate sentences, not excluded, of a reasonable length.
  const seen = new Set<string>();
  const cands: string[][] = [];
  let nExcluded = 0;
  for (const line of readFileSync(input, 'utf8').split('\n')) {
    const tokens = line
      .trim()
      .split(/ +/)
      .filter((t) => t !== '');
    if (tokens.length < 3 || tokens.length > maxTokens) continue;
    const key = tokens.join(' ');
    if (seen.has(key)) continue;
    seen.add(key);
    if (excluded.has(key)) {
      nExcluded++;
      continue;
    }
    cands.push(tokens);
  }
  // Seeded sample of the pool (partial Fisher-Yates).
  const rng = createRng(`pseudo-label:${v.seed}`);
  const n = Math.min(pool, cands.length);
  for (let i = 0; i < n; i++) {
    const j = i + rng.int(cands.length - i);
    [cands[i], cands[j]] = [cands[j]!, cands[i]!];
  }
  const sample = cands.slice(0, n);
  const tagger = await createTokenTagger(v.model, { stepId: 'pseudo-label' });
  const wantEntities = Math.round(max * (1 - emptyShare));
  const wantEmpty = max - wantEntities;
  const out = createWriteStream(v.out);
  let withEntities = 0;
  let empty = 0;
  let entities = 0;
  let tagged = 0;
  try {
    for (let i = 0; i < sample.length && (withEntities < wantEntities || empty < wantEmpty); i += 64) {
      const batch = sample.slice(i, i + 64);
      const res = await tagger.predict(batch.map((tokens) => ({ tokens })));
      tagged += batch.length;
      for (const [k, r] of res.entries()) {
        const has = r.entities.length > 0;
        if (has ? withEntities >= wantEntities : empty >= wantEmpty) continue;
        if (has) withEntities++;
        else empty++;
        entities += r.entities.length;
        const lines = batch[k]!.map((t, j) => `${t}\t${r.tags[j]}`).join('\n');
        if (!out.write(lines + '\n\n')) await once(out, 'drain');
      }
    }
  } finally {
    await tagger.dispose();
    out.end();
    await once(out, 'finish');
  }
  const summary: PseudoLabelSummary = {
    input,
    candidates: cands.length,
    excluded: nExcluded,
    tagged,
    kept: withEntities + empty,
    withEntities,
    entities,
    out: v.out,
  };
  process.stdout.write(JSON.stringify(summary) + '\n');
  return summary;
}
