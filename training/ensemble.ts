// `npm run train -- ensemble --member <bundle> --member <bundle> [...] --out <dir> [--dev <conll>]
//                             [--name <name>] [--no-eval]`:
// one token-classification bundle from several (training/ensemble.py: one ONNX graph returning the mean
// of the members' emissions, the mean CRF scores), loaded by the ordinary bundle loader. Its provenance
// joins the members' (what any member trained on, the ensemble saw), and unless --no-eval it is scored
// with the engine on the dev file (default: the first member's) and gets a model card.
import { parseRecipeArgs, TrainUsageError } from './lib/recipeArgs.ts';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { EvalNerResult } from '../src/eval/evalNer.ts';
import { dataPath } from '../src/io/dataPath.ts';
import { bundleFiles, perTypeRows, scoreOnDev } from './lib/card.ts';
import { runNiced } from './lib/runNiced.ts';

const here = dirname(fileURLToPath(import.meta.url));

interface MemberJson {
  name: string;
  labels: string[];
  provenance?: Record<string, unknown> & {
    train?: string;
    dev?: string;
    training?: string;
    texts?: string[];
  };
  metrics?: { dev?: { f1?: number } };
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

/**
 * The ensemble's provenance from its members': the first member's training and dev files, `training`
 * "train+dev" when any member saw dev, and as `texts` every other file any member trained on, so
 * `bundleSawData` (eval ner / eval pubtator) says when scored data is not held out for any member.
 */
export function joinProvenance(members: MemberJson[]): Record<string, unknown> {
  const first = members[0]!.provenance ?? {};
  const withDev = members.some((m) => m.provenance?.training === 'train+dev');
  const seen = new Set<string>();
  for (const m of members) {
    const p = m.provenance ?? {};
    if (typeof p.train === 'string') seen.add(p.train);
    for (const t of p.texts ?? []) seen.add(t);
    if (p.training === 'train+dev' && typeof p.dev === 'string') seen.add(p.dev);
  }
  if (typeof first.train === 'string') seen.delete(first.train);
  return {
    ...(first.train !== undefined ? { train: first.train } : {}),
    ...(first.dev !== undefined ? { dev: first.dev } : {}),
    training: withDev ? 'train+dev' : 'train',
    texts: [...seen],
  };
}

/** Runs the `ensemble` recipe (argv after the recipe name). */
export async function runEnsembleRecipe(argv: string[]): Promise<void> {
  const options = {
    member: { type: 'string', multiple: true },
    out: { type: 'string' },
    name: { type: 'string' },
    dev: { type: 'string' },
    'tag-column': { type: 'string', default: '2' },
    'no-eval': { type: 'boolean', default: false },
    python: { type: 'string', default: '/usr/bin/python3' },
  } as const;
  const parsed = parseRecipeArgs(
    'train ensemble',
    argv,
    options,
    'npm run train -- ensemble --member <bundle> --member <bundle> [--member ...] --out <dir> [--name n] [--dev f.conll] [--tag-column 2] [--no-eval] [--python path]',
  );
  if (!parsed) return;
  const v = parsed.values;
  const members = (v.member ?? []).map((m) => resolve(m));
  if (members.length < 2) throw new TrainUsageError('ensemble: give at least two --member bundles');
  if (!v.out) throw new TrainUsageError('ensemble: --out <dir> is required');
  for (const m of members)
    if (!existsSync(join(m, 'model.json')))
      throw new TrainUsageError(`ensemble: ${m} is not a bundle (no model.json)`);
  const out = resolve(v.out);
  const name = v.name ?? basename(out);
  const command = `npm run train -- ensemble ${argv.join(' ')}`;
  await runNiced(
    v.python!,
    [
      'ensemble.py',
      ...members.flatMap((m) => ['--member', m]),
      '--out',
      out,
      '--name',
      name,
      '--command',
      command,
    ],
    here,
    'ensemble',
  );
  const metas = members.map((m) => JSON.parse(readFileSync(join(m, 'model.json'), 'utf8')) as MemberJson);
  const metaPath = join(out, 'model.json');
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as MemberJson & {
    ensemble: { members: { path: string; dev_f1?: number }[] };
    metrics?: unknown;
  };
  meta.provenance = { ...joinProvenance(metas), recipe: 'training/ensemble.py', command };
  // paths relative to the working directory, as typed
  meta.ensemble.members = meta.ensemble.members.map((m) => ({
    ...m,
    path: relative(process.cwd(), m.path) || '.',
  }));
  writeFileSync(metaPath, JSON.stringify(meta, null, 2) + '\n');
  if (v['no-eval']) return;
  const devFile = v.dev
    ? resolve(v.dev)
    : typeof metas[0]!.provenance?.dev === 'string'
      ? resolveDev(metas[0]!.provenance.dev)
      : null;
  if (!devFile || !existsSync(devFile))
    throw new TrainUsageError(`ensemble: no dev file to score (give --dev <conll>)`);
  await writeEnsembleCard(out, devFile, Number(v['tag-column']), command, metas, members);
}

/** A member's recorded dev path (`../shared/data/...` or relative to the shared data) as a file path. */
function resolveDev(p: string): string {
  const m = /^(?:\.\.\/)+shared\/data\/(.*)$/.exec(p);
  if (m) return dataPath(m[1]!);
  return existsSync(p) ? resolve(p) : dataPath(p);
}

async function writeEnsembleCard(
  out: string,
  dev: string,
  tagColumn: number,
  command: string,
  metas: MemberJson[],
  members: string[],
): Promise<EvalNerResult> {
  const metaPath = join(out, 'model.json');
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Omit<MemberJson, 'metrics'> & {
    metrics?: unknown;
  };
  const { r, evalCmd, metrics } = await scoreOnDev(out, dev, tagColumn);
  meta.metrics = { dev: metrics };
  writeFileSync(metaPath, JSON.stringify(meta, null, 2) + '\n');
  const { files, bytes } = bundleFiles(out);
  const rows = metas
    .map((m, i) => {
      const p = m.provenance ?? {};
      return `| ${relative(process.cwd(), members[i]!) || '.'} | ${String(p.seed ?? '?')} | ${String(p.training ?? '?')} | ${m.metrics?.dev?.f1 ?? '?'} | \`${String(p.command ?? '?')}\` |`;
    })
    .join('\n');
  const perType = perTypeRows(r);
  const card = `# ${meta.name}

Ensemble of ${metas.length} token-classification bundles in one (training/ensemble.py): one ONNX graph runs
every member on the same words and characters and returns the mean of their emissions; crf.json holds the
mean of their transition, start and end scores. Viterbi on these mean scores finds the tag sequence of the
product of the members' CRF distributions, so the engine decodes it with its ordinary CRF decoder. The
vocabulary is the union of the members' (each member reads its own ids through a lookup in the graph).
Labels: ${meta.labels.join(', ')}.

## Members

| bundle | seed | trained on | dev F1 (its card) | command |
|---|---|---|---|---|
${rows}

Build: \`${command}\`

## Dev metrics (strict entity level, through the engine's NER runtime)

\`${evalCmd}\`

| type | P | R | F1 | support |
|---|---|---|---|---|
| **all** | ${r2(r.precision)} | ${r2(r.recall)} | ${r2(r.f1)} | ${Object.values(r.per_type).reduce((s, x) => s + x.support, 0)} |
${perType}

## Size and speed

- Bundle: ${(bytes / 1e6).toFixed(2)} MB (${files.join(', ')}).
- CPU: ${r2(r.sentences_per_s)} sentences/s (${r.sentences} dev sentences, batches of 32, onnxruntime-node CPU,
  ${cpus().length} cores shared with other jobs; measured by the eval command above): about 1/${metas.length} of one member's.

No GPU was used. Test splits were never used.
`;
  writeFileSync(join(out, 'README.md'), card);
  process.stdout.write(`train: ${basename(out)} dev F1 ${r2(r.f1)} (engine) -> ${metaPath}\n`);
  return r;
}
