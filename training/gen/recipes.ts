// `npm run train -- relations|generator [options]`: the relation classifier and the BioAug generator.
// The generator's fine-tuning pairs are written by the engine's own `training-pairs` command first,
// so corruption has one implementation (TypeScript) for training and serving.
import { parseRecipeArgs, TrainUsageError } from '../lib/recipeArgs.ts';
import { runNiced } from '../lib/runNiced.ts';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataPath } from '../../src/io/dataPath.ts';

const here = dirname(fileURLToPath(import.meta.url));
const training = resolve(here, '..');
const root = resolve(training, '..');

/** The recipes this module runs. */
export const GEN_RECIPES = ['relations', 'generator'] as const;
const DATASETS = ['bc5cdr', 'ncbi', 'bc2gm', 'jnlpba', 'ebmnlp'];

function run(cmd: string, args: string[], cwd: string): Promise<void> {
  return runNiced(cmd, args, cwd, 'train');
}

function concat(files: string[], out: string, headLines = 0): void {
  const parts = files.map((f) => {
    const lines = readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    return (headLines > 0 ? lines.slice(0, headLines) : lines).join('\n');
  });
  writeFileSync(out, parts.filter((p) => p !== '').join('\n') + '\n');
}

/** Runs `relations` or `generator` with `npm run train` arguments (argv[0] is the recipe). */
export async function runGenRecipe(argv: string[]): Promise<void> {
  const recipe = argv[0];
  if (!recipe || !(GEN_RECIPES as readonly string[]).includes(recipe))
    throw new TrainUsageError(
      `train: unknown recipe ${JSON.stringify(recipe)}; valid: ${GEN_RECIPES.join(', ')}`,
    );
  const options = {
    out: { type: 'string' },
    seed: { type: 'string', default: '1' },
    datasets: { type: 'string', default: DATASETS.join(',') },
    size: { type: 'string', default: '500' },
    n: { type: 'string', default: '5' },
    epochs: { type: 'string' },
    'max-steps': { type: 'string' },
    'max-sentences': { type: 'string' },
    'max-lines': { type: 'string' },
    'pretrain-minutes': { type: 'string' },
    'finetune-minutes': { type: 'string' },
    'vocab-size': { type: 'string' },
    'd-model': { type: 'string' },
    layers: { type: 'string' },
    ffn: { type: 'string' },
    heads: { type: 'string' },
    device: { type: 'string' },
    work: { type: 'string' },
    stages: { type: 'string' },
    'no-eval': { type: 'boolean', default: false },
    reference: { type: 'boolean', default: false },
    python: { type: 'string', default: '/usr/bin/python3' },
  } as const;
  const parsed = parseRecipeArgs(
    `train ${recipe}`,
    argv.slice(1),
    options,
    `npm run train -- ${recipe} ${Object.keys(options)
      .map((o) => `[--${o}]`)
      .join(' ')}  (training/README.md describes each)`,
  );
  if (!parsed) return;
  const v = parsed.values;
  const datasets = v.datasets!.split(',').filter((d) => d !== '');
  for (const d of datasets)
    if (!DATASETS.includes(d))
      throw new TrainUsageError(`train ${recipe}: unknown dataset ${d}; valid: ${DATASETS.join(', ')}`);
  const python = v.python!;
  const pass = (keys: readonly string[]): string[] =>
    keys
      .flatMap((k) =>
        v[k as keyof typeof v] !== undefined ? [`--${k}`, String(v[k as keyof typeof v])] : [],
      )
      .concat(v.reference ? ['--reference'] : []);

  if (recipe === 'relations') {
    const out = resolve(v.out ?? resolve(root, 'models/relations'));
    await run(
      python,
      [
        'relations.py',
        '--out',
        out,
        '--seed',
        v.seed!,
        '--datasets',
        datasets.join(','),
        ...pass(['epochs', 'max-steps', 'max-sentences']),
      ],
      training,
    );
    return;
  }

  const work = resolve(v.work ?? resolve(training, 'work/gen'));
  const pairsDir = resolve(work, 'pairs');
  mkdirSync(pairsDir, { recursive: true });
  const bin = resolve(root, 'src/cli/bin.mjs');
  const trainFiles: string[] = [];
  for (const ds of datasets) {
    const f = resolve(pairsDir, `${ds}-${v.size}.jsonl`);
    await run(
      process.execPath,
      [
        bin,
        'training-pairs',
        '--dataset',
        ds,
        '--size',
        v.size!,
        '--n',
        v.n!,
        '--seed',
        v.seed!,
        '--output',
        f,
      ],
      root,
    );
    trainFiles.push(f);
  }
  const devFiles: string[] = [];
  for (const ds of datasets.filter((d) => d === 'ncbi' || d === 'bc5cdr')) {
    const f = resolve(pairsDir, `${ds}-dev.jsonl`);
    await run(
      process.execPath,
      [
        bin,
        'training-pairs',
        '--dataset',
        ds,
        '--split',
        'dev',
        '--n',
        '1',
        '--seed',
        String(Number(v.seed) + 1),
        '--output',
        f,
      ],
      root,
    );
    devFiles.push(f);
  }
  const trainPairs = resolve(pairsDir, 'train.jsonl');
  const devPairs = resolve(pairsDir, 'dev.jsonl');
  concat(trainFiles, trainPairs);
  // 400 dev sentences per corpus keep the reported loss cheap to compute on one thread
  concat(devFiles.length ? devFiles : trainFiles.slice(0, 1), devPairs, 400);
  const out = resolve(v.out ?? resolve(root, 'models/generator'));
  const corpus = dataPath('corpus/biomed_sentences.txt');
  if (!existsSync(corpus)) throw new TrainUsageError(`train generator: corpus ${corpus} does not exist`);
  await run(
    python,
    [
      'generator.py',
      '--corpus',
      corpus,
      '--work',
      work,
      '--out',
      out,
      '--seed',
      v.seed!,
      '--train-pairs',
      trainPairs,
      '--dev-pairs',
      devPairs,
      ...pass([
        'max-steps',
        'max-lines',
        'pretrain-minutes',
        'finetune-minutes',
        'vocab-size',
        'd-model',
        'layers',
        'ffn',
        'heads',
        'stages',
        'device',
      ]),
    ],
    training,
  );
  if (!v['no-eval'] && devFiles.length) {
    const specs = datasets
      .filter((d) => d === 'ncbi' || d === 'bc5cdr')
      .map((d) => `${d}=${resolve(pairsDir, `${d}-dev.jsonl`)}`);
    await run(
      python,
      ['gen/evaluate_generator.py', '--work', work, '--pairs', ...specs, '--out', resolve(work, 'eval.json')],
      training,
    );
  }
}
