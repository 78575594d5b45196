// `npm run train -- <recipe> [options]`: drives the Python recipes (Debian's /usr/bin/python3 with
// PyTorch), then scores the exported bundle with the TypeScript runtime (`eval ner`) and writes the
// figures into model.json and the model card, so the card always states what the engine reaches.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dataPath } from '../src/io/dataPath.ts';
import { formatConll, parseConll } from '../src/text/conll.ts';
import { retokenizeLabeled } from '../src/text/retokenize.ts';
import { styleFor } from '../src/text/tokenize.ts';
import { finalizeBundle } from './lib/card.ts';
import { runNiced } from './lib/runNiced.ts';
import { TrainUsageError } from './lib/recipeArgs.ts';

export { TrainUsageError } from './lib/recipeArgs.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

/** Recipes this runner knows (others, e.g. H6b's, may be added beside them). */
export const RECIPES = [
  'word2vec',
  'ner',
  'ner-multitask',
  'keywords',
  'relations',
  'generator',
  'normalize',
  'gene-names',
  'cid',
  'ensemble',
  'pseudo-label',
] as const;

const USAGE = `usage: npm run train -- <recipe> [options]
recipes: ${RECIPES.join(', ')}
  --data <ds>          ner: bc5cdr | ncbi | bc2gm | jnlpba | ebmnlp (default bc5cdr); keywords: ignored
  --train <file> ...   training CoNLL file(s) instead of the shared data (repeat the flag)
  --dev <file>         dev CoNLL file (model selection + reported metrics)
  --out <dir>          bundle folder (default models/ner-<ds> or models/keywords)
  --seed <n>           default 1
  --epochs <n>         default 12 (ner), 8 (keywords)
  --max-steps <n>      stop after n optimizer steps (smoke tests)
  --max-train <n>      first n training sentences only;  --max-dev <n>: first n dev sentences only
  --time-budget <min>  stop starting epochs after this many minutes (the card records the epochs run)
  --w2v <file.kv>      word2vec vectors (default training/work/w2v/biomed.kv, trained first if missing)
  --corpus <file>      word2vec corpus (default corpus/biomed_sentences.txt); --w2v-max-lines <n> for smoke
  --tag-column <n>     1-based column of the tag (default 2 for ner, 4 for keywords)
  --verify-out <file>  reference PyTorch emissions for the ONNX check (default training/work/verify/<name>.json)
  --retokenize <style> ner: train (and select on dev) with the tokens the engine gives raw text (style
                       split, runs or ptb): each corpus token re-tokenized, B-X -> B-X I-X...; the card
                       still reports eval ner on the corpus's own dev tokens
  --hidden <n>         LSTM units per direction (default 160)
  --threads <n>        torch threads (default 1)
  --average-last <k>   ner: also average the weights of the last k epochs; kept when its dev F1 is better
  --lr-decay <x>       multiply the learning rate by x after every epoch (default 1: constant)
  --lm-corpus <file>   ner: pretrain the encoder as forward/backward language models on this unlabeled text
                       (repeat the flag; one tokenized sentence per line, or *.conll) before tagging;
                       sentences of the dev file are left out. --lm-epochs <n> (1), --lm-minutes <m> (40),
                       --lm-max-steps <n>, --lm-cache <file.pt> (reused when the vocabularies and the seed
                       match), --lm-seed <n> (the language model's seed, default --seed: several tagger
                       seeds on one pretrained encoder)
  --encoder-lr-scale <x> ner: the encoder's learning rate as a share of the tagger's (default 1; e.g. 0.5 to
                       move a language-model-pretrained encoder less while the tagger trains)
  --no-eval            skip the TypeScript evaluation and model card
  --with-dev           ner: train on train + dev (both re-tokenized like train), keep the last epoch of a
                       fixed --epochs (dev cannot select); the card's dev figures are then not held out:
                       report the train-only run's (training/README.md, "final bundles")
  --select <s>         ner: best (default: the epoch with the best dev F1) or last (the last epoch)
ner-multitask (shared char + word encoder, one emission layer + CRF head per corpus; training/README.md):
  --data <ds,ds,...>   corpora trained together (default bc5cdr,ncbi,bc2gm,jnlpba,ebmnlp), each with its
                       own labels; train ner/<ds>/<split>/train.conll, dev ner/<ds>/dev.conll
  --split <s>          all | 500 | 200 | 100 (default all; corpora without it fall back to 500)
  --export <h=dir,..>  heads to select on their dev set and export as single-head bundles
                       (default bc5cdr=models/ner-bc5cdr-mt,ncbi=models/ner-ncbi-mt)
  --temperature <T>    corpus sampling p_k ~ n_k^(1/T): 1 proportional, large uniform (default 2)
  --max-train <n>      here: first n sentences of each corpus; --verify-out <dir>: one <bundle>.json per head
  --device <d>         torch device for training: cpu (default) or cuda (needs a CUDA build of torch)
  --lm-init <file.pt>  start the shared encoder from a language-model encoder of \`ner --lm-cache\` (made with another
                       vocabulary: words and chars mapped by string, LSTMs and char CNN copied; same --hidden)
  --data-root <dir>    a tree laid out like the shared data instead of it (ner/<ds>/<split>/train.conll)
  (also --seed, --epochs, --time-budget, --max-steps, --max-dev, --w2v, --hidden, --lr-decay, --retokenize)
ensemble (one bundle from several: mean emissions and CRF scores; training/ensemble.ts):
  --member <dir> ...   member bundles (repeat; same labels); --out <dir>; --name <n>; --dev <conll>
                       (default: the first member's dev file) scored for the card unless --no-eval
pseudo-label (unlabeled sentences tagged by a teacher, as CoNLL; training/pseudoLabel.ts):
  --model <dir> --out <file.conll> [--input <sentences.txt>] [--exclude <conll> ...] [--max <n>]
  [--pool <n>] [--empty-share <x>] [--seed <n>]; default input corpus/biomed_sentences.txt, default
  exclusions every corpus's dev file and bc5cdr's training file
gene-names (the name lexicon of the document rule dropGeneNames; training/geneNames.ts):
  [--genes <conll> ...] [--train <pubtator>] [--types Chemical,Disease] [--min-length 4] [--dev <pubtator>]
  [--predictions <ner-tagging output on dev, rule off>] [--out <dir>] (default models/gene-names)
  --python <path>      default /usr/bin/python3`;

function runPython(python: string, args: string[], cwd: string): Promise<void> {
  return runNiced(python, args, cwd, 'train');
}

// NCBI's full keyword split plus the 500-sentence samples of the other corpora: every domain is
// represented while one epoch stays a few minutes on 2 shared cores.
const KEYWORD_TRAIN = [
  'keywords/ncbi/all/train.tsv',
  'keywords/bc5cdr/500/train.tsv',
  'keywords/bc2gm/500/train.tsv',
  'keywords/jnlpba/500/train.tsv',
  'keywords/ebmnlp/500/train.tsv',
];

/** Runs one recipe with `npm run train` arguments (argv without the node/script prefix). */
export async function runTrain(argv: string[]): Promise<void> {
  // relations / generator (H6b) take their own options: see training/gen/recipes.ts
  if (argv[0] === 'relations' || argv[0] === 'generator')
    return (await import('./gen/recipes.ts')).runGenRecipe(argv);
  // normalize / cid (issue 13): document-level recipes over PubTator abstracts
  if (argv[0] === 'normalize') return (await import('./normalize.ts')).runNormalizeRecipe(argv.slice(1));
  // gene-names (issue 12): the name lexicon of the document-level rule dropGeneNames
  if (argv[0] === 'gene-names') return (await import('./geneNames.ts')).runGeneNamesRecipe(argv.slice(1));
  if (argv[0] === 'cid') return (await import('./cid.ts')).runCidRecipe(argv.slice(1));
  // ensemble (issue 12, lever 4): several token-classification bundles as one (mean emissions and CRF)
  if (argv[0] === 'ensemble') return (await import('./ensemble.ts')).runEnsembleRecipe(argv.slice(1));
  // pseudo-label: unlabeled sentences tagged by a teacher bundle, as CoNLL for a student (ner --train ...)
  if (argv[0] === 'pseudo-label') {
    await (await import('./pseudoLabel.ts')).runPseudoLabelRecipe(argv.slice(1));
    return;
  }
  const options = {
    data: { type: 'string' },
    train: { type: 'string', multiple: true },
    dev: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string', default: '1' },
    epochs: { type: 'string' },
    'max-steps': { type: 'string' },
    'max-train': { type: 'string' },
    'max-dev': { type: 'string' },
    'time-budget': { type: 'string' },
    w2v: { type: 'string' },
    corpus: { type: 'string' },
    'w2v-max-lines': { type: 'string' },
    'tag-column': { type: 'string' },
    'verify-out': { type: 'string' },
    retokenize: { type: 'string' },
    'lr-decay': { type: 'string' },
    hidden: { type: 'string' },
    threads: { type: 'string' },
    'average-last': { type: 'string' },
    'lm-corpus': { type: 'string', multiple: true },
    'lm-epochs': { type: 'string' },
    'lm-minutes': { type: 'string' },
    'lm-max-steps': { type: 'string' },
    'lm-cache': { type: 'string' },
    'lm-init': { type: 'string' },
    'encoder-lr-scale': { type: 'string' },
    'lm-seed': { type: 'string' },
    'retokenize-mode': { type: 'string', default: 'replace' },
    split: { type: 'string' },
    'data-root': { type: 'string' },
    export: { type: 'string' },
    temperature: { type: 'string' },
    device: { type: 'string' },
    'no-eval': { type: 'boolean', default: false },
    'with-dev': { type: 'boolean', default: false },
    select: { type: 'string' },
    python: { type: 'string', default: '/usr/bin/python3' },
    help: { type: 'boolean', default: false },
  } as const;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options });
  } catch (e) {
    throw new TrainUsageError(
      `train: ${(e as Error).message.split('.')[0]}; npm run train -- --help lists the options`,
    );
  }
  const { values: v, positionals } = parsed;
  const recipe = positionals[0];
  if (v.help || !recipe) {
    process.stdout.write(USAGE + '\n');
    if (!recipe && !v.help) throw new TrainUsageError(`train: no recipe given; valid: ${RECIPES.join(', ')}`);
    return;
  }
  if (!(RECIPES as readonly string[]).includes(recipe))
    throw new TrainUsageError(
      `train: unknown recipe ${JSON.stringify(recipe)}; valid: ${RECIPES.join(', ')}`,
    );
  const python = v.python!;
  const w2v = resolve(v.w2v ?? resolve(here, 'work/w2v/biomed.kv'));
  const corpus = v.corpus ?? dataPath('corpus/biomed_sentences.txt');
  const ensureW2v = async (force: boolean) => {
    if (existsSync(w2v) && !force) return;
    const args = ['word2vec.py', '--corpus', corpus, '--out', w2v, '--seed', v.seed!];
    if (v['w2v-max-lines']) args.push('--max-lines', v['w2v-max-lines']);
    await runPython(python, args, here);
  };
  if (recipe === 'word2vec') return ensureW2v(true);
  if (recipe === 'ner-multitask') return runMultitask(v, argv, python, w2v, ensureW2v);

  const ds = v.data ?? 'bc5cdr';
  let train: string[];
  let dev: string;
  let out: string;
  let name: string;
  let tagColumn = 2;
  if (recipe === 'ner') {
    const all = dataPath('ner', ds, 'all', 'train.conll');
    const fallback = dataPath('ner', ds, '500', 'train.conll');
    // absolute: the Python recipe runs in training/, not where the command was typed
    train = v.train?.map((f) => resolve(f)) ?? [existsSync(all) ? all : fallback];
    dev = v.dev ? resolve(v.dev) : dataPath('ner', ds, 'dev.conll');
    if (v['with-dev']) train = [...train, dev];
    name = v.train ? 'ner-custom' : `ner-${ds}`;
    out = v.out ?? resolve(root, 'models', name);
  } else {
    train = v.train?.map((f) => resolve(f)) ?? KEYWORD_TRAIN.map((p) => dataPath(p));
    dev = v.dev ? resolve(v.dev) : dataPath('keywords/ncbi/dev.tsv');
    name = 'keywords';
    out = v.out ?? resolve(root, 'models/keywords');
    tagColumn = 4;
  }
  if (v['tag-column']) tagColumn = Number(v['tag-column']);
  if (!Number.isInteger(tagColumn) || tagColumn < 2)
    throw new TrainUsageError(`train: --tag-column must be an integer >= 2, got ${v['tag-column']}`);
  for (const f of [...train, dev])
    if (!existsSync(f)) throw new TrainUsageError(`train ${recipe}: data file ${f} does not exist`);
  // Every command-line check before any work (word2vec on the whole corpus takes minutes).
  const select = v['with-dev'] ? 'last' : (v.select ?? 'best');
  if (select !== 'best' && select !== 'last')
    throw new TrainUsageError(`train: --select must be best or last, got ${select}`);
  if (v['with-dev'] && v.select === 'best')
    throw new TrainUsageError('train: --with-dev trains on dev, so --select best cannot apply');
  if (select === 'last' && recipe !== 'ner')
    throw new TrainUsageError('train: --with-dev and --select apply to the ner recipe only');
  if (v['lm-corpus']?.length && recipe !== 'ner')
    throw new TrainUsageError('train: --lm-corpus applies to the ner recipe only');
  if (v.retokenize && v['retokenize-mode'] !== 'replace' && v['retokenize-mode'] !== 'add')
    throw new TrainUsageError(`train: --retokenize-mode must be replace or add, got ${v['retokenize-mode']}`);
  await ensureW2v(false);
  let pyTrain = train;
  let pyDev = dev;
  if (v.retokenize) {
    const dir = resolve(here, 'work/retok', `${name}-${v.retokenize}`);
    const mode = v['retokenize-mode'];
    const retok = train.map((f, i) =>
      retokenizeFile(f, resolve(dir, `train-${i}.conll`), v.retokenize!, tagColumn),
    );
    // add: both tokenizations of every training sentence (the corpus's rewritten with the tag in
    // column 2, like the re-tokenized files), model selection on the corpus's own dev tokens
    pyTrain =
      mode === 'add'
        ? [
            ...train.map((f, i) => retokenizeFile(f, resolve(dir, `orig-${i}.conll`), null, tagColumn)),
            ...retok,
          ]
        : retok;
    pyDev =
      mode === 'add'
        ? retokenizeFile(dev, resolve(dir, 'dev-orig.conll'), null, tagColumn)
        : retokenizeFile(dev, resolve(dir, 'dev.conll'), v.retokenize, tagColumn);
  }
  const command = `npm run train -- ${argv.join(' ')}`;
  const rel = (p: string) => (p.startsWith(dataPath()) ? relative(dataPath(), p) : p);
  const args = [
    recipe === 'ner' ? 'ner.py' : 'keywords.py',
    '--train',
    ...pyTrain,
    '--dev',
    pyDev,
    '--w2v',
    w2v,
    '--out',
    resolve(out),
    '--name',
    name,
    '--seed',
    v.seed!,
    '--epochs',
    v.epochs ?? (recipe === 'ner' ? '12' : '8'),
    '--time-budget',
    v['time-budget'] ?? '100000',
    '--command',
    command,
    '--data-desc',
    train.map(rel).join(' + ') +
      (v.retokenize ? ` (re-tokenized: ${v.retokenize}, ${v['retokenize-mode']})` : ''),
  ];
  args.push('--tag-col', String(v.retokenize ? 1 : tagColumn - 1));
  for (const k of [
    'max-steps',
    'max-train',
    'max-dev',
    'lr-decay',
    'hidden',
    'threads',
    'average-last',
    'lm-epochs',
    'lm-minutes',
    'lm-max-steps',
    'encoder-lr-scale',
    'lm-seed',
  ] as const)
    if (v[k]) args.push(`--${k}`, v[k]!);
  // a path: Python runs in training/, the user's relative path is from where they typed it
  for (const k of ['verify-out', 'lm-cache'] as const) if (v[k]) args.push(`--${k}`, resolve(v[k]!));
  if (v['lm-corpus']?.length) args.push('--lm-corpus', ...v['lm-corpus'].map((f) => resolve(f)));
  if (select === 'last') args.push('--select', 'last');
  await runPython(python, args, here);
  if (recipe === 'ner')
    recordNerProvenance(resolve(out), {
      train,
      dev,
      withDev: v['with-dev'] === true,
      // --train files from the shared corpora count as those corpora (their PubTator texts too)
      ds: v.train
        ? (['bc5cdr', 'ncbi', 'bc2gm', 'jnlpba', 'ebmnlp'].find((d) =>
            train.some((f) => f.startsWith(dataPath('ner', d) + '/')),
          ) ?? null)
        : ds,
      rel,
    });
  if (!v['no-eval']) await finalizeBundle({ bundle: resolve(out), dev, tagColumn, command });
}

/**
 * Adds to an NER bundle's provenance what `bundleSawData` reads: the training file, `training`
 * ("train" or "train+dev") and, for the shared corpora that are PubTator abstracts too (bc5cdr is the
 * CDR corpus), the PubTator files of the same texts, so that `eval ner` and `eval pubtator` can say
 * when the data they score is not held out.
 */
function recordNerProvenance(
  bundle: string,
  o: { train: string[]; dev: string; withDev: boolean; ds: string | null; rel: (p: string) => string },
): void {
  const file = resolve(bundle, 'model.json');
  const meta = JSON.parse(readFileSync(file, 'utf8')) as { provenance?: Record<string, unknown> };
  const texts: Record<string, string[]> = {
    bc5cdr: ['pubtator/cdr_train.pubtator', 'pubtator/cdr_dev.pubtator'],
  };
  const own = o.train.filter((f) => f !== o.dev);
  // every training file beyond the first (e.g. pseudo-labeled sentences) is listed with the texts
  const more = own.slice(1).map(o.rel);
  const corpusTexts =
    o.ds !== null && texts[o.ds] ? (o.withDev ? texts[o.ds]! : texts[o.ds]!.slice(0, 1)) : [];
  meta.provenance = {
    ...meta.provenance,
    train: o.rel(own[0] ?? o.train[0]!),
    dev: o.rel(o.dev),
    training: o.withDev ? 'train+dev' : 'train',
    ...(corpusTexts.length + more.length > 0 ? { texts: [...corpusTexts, ...more] } : {}),
  };
  writeFileSync(file, JSON.stringify(meta, null, 2) + '\n');
}

/**
 * The provenance `bundleSawData` reads, for one head of a multi-task run: its corpus's training file
 * (`train`), `training: "train"` (multitask.py never trains on dev) and, as `texts`, the training files
 * of the other corpora, which trained the shared encoder too (with the CDR PubTator abstracts when
 * bc5cdr is one of them), so an evaluation on any of them says it is not held out.
 */
export function recordMultitaskProvenance(
  bundle: string,
  o: { head: string; train: Record<string, string>; dev: string },
): void {
  const file = resolve(bundle, 'model.json');
  const meta = JSON.parse(readFileSync(file, 'utf8')) as { provenance?: Record<string, unknown> };
  const others = Object.entries(o.train)
    .filter(([ds]) => ds !== o.head)
    .map(([, f]) => f);
  const cdr = 'bc5cdr' in o.train ? ['pubtator/cdr_train.pubtator'] : [];
  meta.provenance = {
    ...meta.provenance,
    train: o.train[o.head],
    dev: o.dev,
    training: 'train',
    texts: [...others, ...cdr],
  };
  writeFileSync(file, JSON.stringify(meta, null, 2) + '\n');
}

export const MULTITASK_CORPORA = ['bc5cdr', 'ncbi', 'bc2gm', 'jnlpba', 'ebmnlp'] as const;

type TrainValues = Record<string, string | boolean | string[] | undefined>;

/**
 * `ner-multitask`: one shared encoder over several corpora (training/multitask.py), then one
 * single-head bundle per exported head, each scored by the engine and given its card.
 */
async function runMultitask(
  v: TrainValues,
  argv: string[],
  python: string,
  w2v: string,
  ensureW2v: (force: boolean) => Promise<void>,
): Promise<void> {
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const corpora = (str('data') ?? MULTITASK_CORPORA.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (new Set(corpora).size !== corpora.length)
    throw new TrainUsageError(`train ner-multitask: --data lists a corpus twice: ${corpora.join(',')}`);
  const split = str('split') ?? 'all';
  const exportSpec = str('export') ?? 'bc5cdr=models/ner-bc5cdr-mt,ncbi=models/ner-ncbi-mt';
  const exports = exportSpec.split(',').map((part) => {
    const [head, dir] = part.split('=', 2);
    if (!head || !dir)
      throw new TrainUsageError(`train ner-multitask: --export wants head=dir[,head=dir], got ${part}`);
    if (!corpora.includes(head))
      throw new TrainUsageError(
        `train ner-multitask: --export head ${head} is not in --data ${corpora.join(',')}`,
      );
    return { head, dir: resolve(dir) };
  });
  const lmInit = str('lm-init') === undefined ? undefined : resolve(str('lm-init')!);
  if (lmInit !== undefined && !existsSync(lmInit))
    throw new TrainUsageError(`train ner-multitask: --lm-init ${lmInit} does not exist`);
  const retok = str('retokenize');
  const mode = str('retokenize-mode') ?? 'replace';
  if (mode !== 'replace' && mode !== 'add')
    throw new TrainUsageError(`train: --retokenize-mode must be replace or add, got ${mode}`);
  // --data-root: another tree laid out like the shared data (ner/<ds>/<split>/train.conll, ner/<ds>/dev.conll)
  const root = str('data-root');
  const dp = (...parts: string[]) => (root ? resolve(root, ...parts) : dataPath(...parts));
  const rel = (p: string) => (p.startsWith(dp()) ? relative(dp(), p) : p);
  const tasks: string[] = [];
  const desc: Record<string, { data: string; dev: string }> = {};
  const devOf: Record<string, string> = {};
  const trainOf: Record<string, string> = {};
  for (const ds of corpora) {
    const wanted = dp('ner', ds, split, 'train.conll');
    const train = existsSync(wanted) ? wanted : dp('ner', ds, '500', 'train.conll');
    const dev = dp('ner', ds, 'dev.conll');
    for (const f of [train, dev])
      if (!existsSync(f)) throw new TrainUsageError(`train ner-multitask: data file ${f} does not exist`);
    devOf[ds] = dev;
    trainOf[ds] = train;
    let pyTrain = [train];
    let pyDev = dev;
    if (retok) {
      const dir = root ? resolve(root, 'retok', ds) : resolve(here, 'work/retok', `mt-${ds}-${retok}`);
      const r = retokenizeFile(train, resolve(dir, 'train-0.conll'), retok, 2);
      pyTrain = mode === 'add' ? [retokenizeFile(train, resolve(dir, 'orig-0.conll'), null, 2), r] : [r];
      pyDev =
        mode === 'add'
          ? retokenizeFile(dev, resolve(dir, 'dev-orig.conll'), null, 2)
          : retokenizeFile(dev, resolve(dir, 'dev.conll'), retok, 2);
    }
    tasks.push('--task', ds, pyDev, ...pyTrain);
    desc[ds] = { data: rel(train) + (retok ? ` (re-tokenized: ${retok}, ${mode})` : ''), dev: rel(dev) };
  }
  await ensureW2v(false);
  const command = `npm run train -- ${argv.join(' ')}`;
  const args = [
    'multitask.py',
    ...tasks,
    '--export',
    exports.map((e) => `${e.head}=${e.dir}`).join(','),
    '--w2v',
    w2v,
    '--seed',
    str('seed') ?? '1',
    '--epochs',
    str('epochs') ?? '12',
    '--command',
    command,
    '--data-desc',
    JSON.stringify(desc),
    '--tag-col',
    '1',
  ];
  if (str('time-budget')) args.push('--time-budget', str('time-budget')!);
  if (str('verify-out')) args.push('--verify-dir', resolve(str('verify-out')!));
  for (const k of ['max-steps', 'max-train', 'max-dev', 'lr-decay', 'hidden', 'temperature', 'device'])
    if (str(k)) args.push(`--${k}`, str(k)!);
  if (lmInit) args.push('--lm-init', lmInit);
  await runPython(python, args, here);
  for (const e of exports)
    recordMultitaskProvenance(e.dir, {
      head: e.head,
      train: Object.fromEntries(corpora.map((ds) => [ds, rel(trainOf[ds]!)])),
      dev: rel(devOf[e.head]!),
    });
  if (v['no-eval']) return;
  for (const e of exports)
    await finalizeBundle({ bundle: e.dir, dev: devOf[e.head]!, tagColumn: 2, command });
}

/**
 * Writes `file` re-tokenized with `style` (or with its own tokens when null) to `out`: token and the
 * tag of 1-based `tagColumn`, other columns dropped.
 */
function retokenizeFile(file: string, out: string, style: string | null, tagColumn: number): string {
  const styleName = style === null ? null : styleFor(style);
  const sentences = parseConll(readFileSync(file, 'utf8'), { source: file, validateTags: tagColumn === 2 });
  const rows = sentences.map((s) => {
    const tags = tagColumn === 2 ? s.tags : s.extra[tagColumn - 3]!;
    return styleName === null
      ? { tokens: s.tokens, tags }
      : retokenizeLabeled({ tokens: s.tokens, tags }, styleName);
  });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, formatConll(rows));
  const before = sentences.reduce((n, s) => n + s.tokens.length, 0);
  const after = rows.reduce((n, r) => n + r.tokens.length, 0);
  process.stdout.write(
    `train: ${file} re-tokenized (${style ?? 'own tokens'}): ${before} -> ${after} tokens -> ${out}\n`,
  );
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runTrain(process.argv.slice(2)).catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(e instanceof TrainUsageError ? 2 : 1);
  });
}
