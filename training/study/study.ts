// The low-resource augmentation study: per dataset, size, method and seed, augment the gold split with
// the engine's augment topology, train the NER recipe (training/ner.py) on gold + valid augmentations,
// score the exported model on the full dev set with the engine's tagger (`eval ner`), and aggregate
// into study.json / study.md / study.png. Each cell is cached under the work dir, so reruns resume.
import { StreamError } from '../../src/engine/errors.ts';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { attachKeywords, readLabeled } from '../../src/augment/corpus.ts';
import { delinearize } from '../../src/augment/bioaug/delinearize.ts';
import { LabelVocabulary } from '../../src/augment/bioaug/labels.ts';
import type { SentenceToAugment } from '../../src/augment/types.ts';
import { MemoryDeadLetters } from '../../src/engine/deadLetters.ts';
import { MemorySink, MemorySource } from '../../src/engine/memory.ts';
import { runTopology } from '../../src/engine/runner.ts';
import { evalNer } from '../../src/eval/evalNer.ts';
import { loadTagger } from '../../src/cli/loadTagger.ts';
import type { AugmentedSentence, LabeledSentence } from '../../src/io/avro/types.generated.ts';
import { dataPath, projectRoot } from '../../src/io/dataPath.ts';
import { bioToSpans } from '../../src/text/bio.ts';
import { CORPUS_STYLES } from '../../src/text/tokenize.ts';
import {
  AUGMENT_METHODS,
  build as buildAugment,
  resolve as resolveAugment,
} from '../../topologies/augment.ts';
import {
  aggregate,
  mergeRecords,
  renderMarkdown,
  type CellResult,
  type GenerationStats,
  type StudyRecord,
} from './aggregate.ts';
import { renderChart } from './chart.ts';

/** Methods the study knows: gold-only plus the augment topology's methods. */
export const STUDY_METHODS = [
  'gold',
  'mr',
  'lwtr',
  'sis',
  'sr',
  'all4',
  'bioaug',
  'bioaug-ce',
  'bioaug-filtered',
] as const;
/**
 * BioAug methods: `bioaug` as published (free generation, then validation), `bioaug-ce` with
 * entity-constrained decoding, `bioaug-filtered` free generation scored by the tagger of the gold cell
 * (same dataset, size and seed: it saw exactly the gold being augmented, so the score leaks nothing)
 * and filtered by the study's filter options.
 */
const isBioaug = (m: string): boolean => m === 'bioaug' || m === 'bioaug-ce' || m === 'bioaug-filtered';
export type StudyMethod = (typeof STUDY_METHODS)[number];

/** Thrown for bad study options; the message names the option and the valid values. */
export class StudyUsageError extends StreamError {
  constructor(message: string) {
    super(message, { stage: 'training' });
  }
}

/** Options of {@link runStudy}. */
export interface StudyOptions {
  datasets: string[];
  sizes: string[];
  seeds: number[];
  methods: StudyMethod[];
  /** Augmentations per gold sentence and method. */
  n: number;
  /** Results folder (study.json, study.md, study.png). */
  out: string;
  /** Cell cache, bundles and logs. */
  work: string;
  /** Optimizer steps per training (same for every method; see README for why steps, not epochs). */
  maxSteps: number;
  /**
   * Score the dev subset every this many optimizer steps instead of after every epoch (0: per epoch),
   * so methods whose epochs differ in length are evaluated at the same steps.
   */
  evalEvery?: number;
  /** Early stopping: stop after this many evaluations without a better dev F1 (0: train all maxSteps). Needs evalEvery. */
  patience?: number;
  /** Times each gold sentence is seen per epoch against once for each augmentation (1: no up-weighting). */
  goldWeight?: number;
  /**
   * Augmented methods: after training on gold + augmentations stops, continue from the selected state on
   * the gold sentences alone (same evaluations and patience, within the same maximum of steps).
   */
  finetuneGold?: boolean;
  batchSize: number;
  /** Dev sentences (the first k of dev.conll) used to pick the exported epoch; 0 = all. */
  selectDev: number;
  /** Bernoulli p of the simple augmenters. */
  p: number;
  /** Trainings run at once. */
  jobs: number;
  /** Generator bundle for bioaug (default models/generator). */
  generator?: string;
  /** BioAug sampling: top-k. */
  topK: number;
  /** BioAug decoding: sample (one draw per sequence), beam, or beam-sample (beam search over top-k samples). */
  strategy?: 'sample' | 'beam' | 'beam-sample';
  /** Beams of beam and beam-sample. */
  numBeams?: number;
  /** Sequences generated per corruption; the valid one with the best mean token log-likelihood is kept. */
  samples?: number;
  /** Mean of BioAug's keyword keep share e (corrupt.mu; higher = fewer tokens masked). */
  mu?: number;
  /** bioaug-filtered: the quality filter (src/augment/filterAugmented.ts), e.g. { topK: 2 }. */
  filter?: {
    topK?: number;
    minQuality?: number;
    minAgreement?: number;
    minMeanLogProb?: number;
    minNewTokenShare?: number;
  };
  /** word2vec vectors for the recipe's embedding init, or null for random init. */
  w2v: string | null;
  python: string;
  /** Smoke runs: first k gold sentences only (0 = all). */
  limitTrain: number;
  /** Smoke runs: score on the first k dev sentences only (0 = all). */
  limitDev: number;
  log: (line: string) => void;
}

interface Cell {
  dataset: string;
  size: string;
  method: StudyMethod;
  seed: number;
}

/** The settings that make cells comparable; part of the cache key, recorded in every record. */
export function settingsOf(o: StudyOptions): string {
  const parts = [
    `n=${o.n}`,
    `p=${o.p}`,
    `steps=${o.maxSteps}`,
    `batch=${o.batchSize}`,
    `select-dev=${o.selectDev || 'all'}`,
    `w2v=${o.w2v ? 'yes' : 'no'}`,
    `topk=${o.topK}`,
  ];
  // Generation choices (issue 17) enter the key only when set away from the defaults, so cells cached
  // before they existed keep their folder.
  if (o.strategy && o.strategy !== 'sample') parts.push(`strategy=${o.strategy}`);
  if (o.strategy && o.strategy !== 'sample' && o.numBeams !== undefined && o.numBeams !== 4)
    parts.push(`beams=${o.numBeams}`);
  if (o.samples !== undefined && o.samples !== 1) parts.push(`samples=${o.samples}`);
  if (o.mu !== undefined && o.mu !== 0.5) parts.push(`mu=${o.mu}`);
  const f = Object.entries(o.filter ?? {}).filter(([, v]) => v !== undefined);
  if (f.length) parts.push(`filter=${f.map(([k, v]) => `${k}:${v}`).join(',')}`);
  // Training to convergence (issue 17, item 4): named only when used, like the generation choices.
  if (o.evalEvery) parts.push(`eval-every=${o.evalEvery}`);
  if (o.patience) parts.push(`patience=${o.patience}`);
  if (o.goldWeight !== undefined && o.goldWeight !== 1) parts.push(`gold-weight=${o.goldWeight}`);
  if (o.finetuneGold) parts.push('finetune-gold=yes');
  if (o.generator && resolve(o.generator) !== resolve(projectRoot, 'models/generator'))
    parts.push(`generator=${generatorKey(o.generator)}`);
  if (o.limitTrain) parts.push(`limit-train=${o.limitTrain}`);
  if (o.limitDev) parts.push(`limit-dev=${o.limitDev}`);
  return parts.join(' ');
}

/** Keys of the settings that only generation (BioAug) reads: a cell that generates nothing ignores them. */
const GENERATION_KEYS = new Set(['topk', 'strategy', 'beams', 'samples', 'mu', 'filter', 'generator']);

/** The settings a cell without generation depends on: the key minus the generation choices. */
export function trainingSettingsOf(settings: string, ignore: readonly string[] = []): string {
  return settings
    .split(' ')
    .filter((part) => {
      const key = part.slice(0, part.indexOf('='));
      return !GENERATION_KEYS.has(key) && !ignore.includes(key);
    })
    .join(' ');
}

/** Settings keys a method's training does not read: gold-only training has no augmentations to weigh gold against or to fine-tune after. */
export function keysIgnoredBy(method: string): string[] {
  return method === 'gold' ? ['gold-weight', 'finetune-gold'] : [];
}

/**
 * A finished cell of the same name in another settings folder of `work` whose settings differ only
 * in generation choices (and in `ignore`d keys, e.g. the gold weight for a gold-only cell), for a cell
 * that generates nothing (gold, and the simple methods, whose augmentations depend on n, p and the
 * seed): its folder, or null.
 */
export function reusableCell(
  work: string,
  root: string,
  name: string,
  settings: string,
  ignore: readonly string[] = [],
): string | null {
  const want = trainingSettingsOf(settings, ignore);
  if (!existsSync(work)) return null;
  for (const entry of readdirSync(work).sort()) {
    const other = join(work, entry);
    if (resolve(other) === resolve(root)) continue;
    const s = join(other, 'settings.txt');
    const cell = join(other, name);
    if (!existsSync(s) || !existsSync(join(cell, 'result.json'))) continue;
    if (trainingSettingsOf(readFileSync(s, 'utf8').trim(), ignore) === want) return cell;
  }
  return null;
}

/**
 * A generator bundle other than the shipped one, in the cache key: its folder name and a hash of its
 * model.json (which holds its training summary), so a retrained bundle at the same path is not mistaken
 * for the old one.
 */
function generatorKey(dir: string): string {
  const meta = join(resolve(dir), 'model.json');
  const hash = existsSync(meta)
    ? createHash('sha1').update(readFileSync(meta)).digest('hex').slice(0, 8)
    : 'missing';
  return `${basename(resolve(dir))}@${hash}`;
}

const cellName = (c: Cell): string => `${c.dataset}-${c.size}-${c.method}-s${c.seed}`;

function writeJsonAtomic(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}

function toConll(sents: Array<{ tokens: string[]; tags: string[] }>): string {
  return sents.map((s) => s.tokens.map((t, i) => `${t}\t${s.tags[i]}`).join('\n') + '\n').join('\n');
}

/** Reads the gold split, with the keyword column attached for bioaug (checked to be the same sentences). */
function readGold(c: Cell, o: StudyOptions): SentenceToAugment[] {
  const path = dataPath('ner', c.dataset, c.size, 'train.conll');
  if (!existsSync(path))
    throw new StudyUsageError(`study: no training split ${path} (dataset ${c.dataset}, size ${c.size})`);
  let gold = readLabeled(path);
  if (isBioaug(c.method)) attachKeywords(gold, dataPath('keywords', c.dataset, c.size, 'train.tsv'));
  if (o.limitTrain) gold = gold.slice(0, o.limitTrain);
  return gold;
}

/** Entity types of a set of sentences, sorted. */
function datasetTypes(gold: SentenceToAugment[]): string[] {
  const t = new Set<string>();
  for (const s of gold) for (const sp of bioToSpans(s.tags)) t.add(sp.type);
  return [...t].sort();
}

/** Why an invalid BioAug generation failed (recomputed with the topology's de-linearizer). */
function invalidReason(a: AugmentedSentence, src: SentenceToAugment | undefined, types: string[]): string {
  if (a.rejectReason) return a.rejectReason;
  const text = a.generatedText ?? '';
  if (text.startsWith('(not generated')) return 'input-too-long';
  if (!src) return 'unknown';
  const expected = bioToSpans(src.tags).map((sp) => ({
    type: sp.type,
    tokens: src.tokens.slice(sp.start, sp.end),
  }));
  const d = delinearize(text, new LabelVocabulary([...new Set([...expected.map((e) => e.type), ...types])]), {
    expected,
  });
  return d.ok ? 'unknown' : d.reason;
}

/** Augments the gold sentences of a cell with the augment topology (in process); gold rows excluded. */
export async function augmentCell(
  c: Cell,
  gold: SentenceToAugment[],
  o: Pick<
    StudyOptions,
    'n' | 'p' | 'generator' | 'topK' | 'limitTrain' | 'strategy' | 'numBeams' | 'samples' | 'mu' | 'filter'
  >,
  trainPath: string,
  /** bioaug-filtered: the gold cell's bundle, the agreement tagger. */
  goldTagger?: string,
): Promise<{ augmented: AugmentedSentence[]; stats: GenerationStats }> {
  const empty: GenerationStats = { produced: 0, valid: 0, new_token_share: 0, mean_abs_length_diff: 0 };
  if (c.method === 'gold') return { augmented: [], stats: empty };
  const records: LabeledSentence[] = gold.map((s) => ({
    id: s.id,
    tokens: s.tokens,
    tags: s.tags,
    keywordTags: s.keywords ?? null,
    source: trainPath,
  }));
  const dlq = new MemoryDeadLetters();
  const source = new MemorySource<LabeledSentence>('sentences', records, {
    maxInFlight: 32,
    deadLetters: dlq,
    keyOf: (v) => (v as LabeledSentence).id,
  });
  const sink = new MemorySink<AugmentedSentence>('augmented');
  const config = {
    methods: [isBioaug(c.method) ? 'bioaug' : c.method] as Array<(typeof AUGMENT_METHODS)[number]>,
    n: o.n,
    seed: c.seed,
    p: o.p,
    // MR pools / LwTR distributions from the same gold sentences that are augmented.
    train: trainPath,
    // The generator may write entities of any type of the dataset (as BioAug's label set does), not
    // only the types present in the sentence at hand.
    bioaug: {
      generator: { ...(o.generator ? { model: o.generator } : {}), maxBatch: 16 },
      topK: o.topK,
      ...(o.strategy ? { strategy: o.strategy } : {}),
      ...(o.numBeams !== undefined ? { numBeams: o.numBeams } : {}),
      ...(o.samples !== undefined ? { samples: o.samples } : {}),
      ...(o.mu !== undefined ? { corrupt: { mu: o.mu } } : {}),
      entityTypes: datasetTypes(gold),
      constrainEntities: c.method === 'bioaug-ce',
      // generated words outside entities re-split the way this corpus tokenizes
      wordStyle: c.dataset in CORPUS_STYLES ? c.dataset : 'split',
    },
    // Rejected records come back as valid: false with their reason, so the cell can count them.
    quality:
      c.method === 'bioaug-filtered'
        ? {
            tagger: { enabled: true, model: goldTagger },
            filter: { ...o.filter, emitRejected: true },
          }
        : {},
  };
  if (c.method === 'bioaug-filtered' && !goldTagger)
    throw new StudyUsageError(`study ${cellName(c)}: bioaug-filtered needs the gold cell's bundle`);
  const inputs = await resolveAugment(config);
  await runTopology({
    sources: { sentences: source },
    sinks: { augmented: sink },
    build: (s, k) => buildAugment(s, k, inputs),
    config: {},
    handleSignals: false,
  }).done;
  if (dlq.records.length > 0) {
    const f = dlq.records[0]!.failures[0];
    throw new Error(
      `study ${cellName(c)}: ${dlq.records.length} gold sentences dead-lettered by the augment topology; first: step ${f?.stepId}: ${f?.error?.message ?? JSON.stringify(f)}`,
    );
  }
  const bySource = new Map(gold.map((s) => [s.id, s]));
  const all = sink.items.map((i) => i.value).sort((a, b) => a.id.localeCompare(b.id));
  const valid = all.filter((a) => a.valid && a.tokens.length > 0);
  const reasons: Record<string, number> = {};
  for (const a of all)
    if (!(a.valid && a.tokens.length > 0)) {
      const r = invalidReason(a, bySource.get(a.sourceId), config.bioaug.entityTypes);
      reasons[r] = (reasons[r] ?? 0) + 1;
    }
  // New-token share and length difference recomputed here from the source sentences, the same way for
  // every method (the records carry the same figures: newTokenShare, lengthDiff).
  let share = 0;
  let len = 0;
  const mean = (xs: Array<number | null>): number | undefined => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : undefined;
  };
  const scores = {
    mean_log_prob: mean(valid.map((a) => a.meanLogProb)),
    mean_quality: mean(valid.map((a) => a.quality)),
    mean_agreement: mean(valid.map((a) => a.taggerAgreement)),
  };
  for (const a of valid) {
    const src = bySource.get(a.sourceId);
    if (!src) throw new Error(`study ${cellName(c)}: augmentation ${a.id} has unknown source ${a.sourceId}`);
    const seen = new Set(src.tokens);
    share += a.tokens.filter((t) => !seen.has(t)).length / a.tokens.length;
    len += Math.abs(a.tokens.length - src.tokens.length);
  }
  return {
    augmented: valid,
    stats: {
      produced: all.length,
      valid: valid.length,
      new_token_share: valid.length ? share / valid.length : 0,
      mean_abs_length_diff: valid.length ? len / valid.length : 0,
      ...(Object.keys(reasons).length ? { invalid_reasons: reasons } : {}),
      ...(all[0]?.modelId ? { model_id: all[0].modelId } : {}),
      ...Object.fromEntries(Object.entries(scores).filter(([, v]) => v !== undefined)),
    },
  };
}

function runLogged(cmd: string, args: string[], cwd: string, logPath: string): Promise<void> {
  return new Promise((res, rej) => {
    const log = createWriteStream(logPath);
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.pipe(log, { end: false });
    p.stderr.pipe(log, { end: false });
    p.on('error', (e) => rej(new Error(`study: cannot start ${cmd}: ${e.message}`)));
    p.on('close', (code, sig) => {
      log.end();
      if (code === 0) res();
      else {
        const tail = existsSync(logPath)
          ? readFileSync(logPath, 'utf8').split('\n').slice(-6).join('\n')
          : '';
        rej(new Error(`study: ${args[0]} exited with ${code ?? sig} (log ${logPath}):\n${tail}`));
      }
    });
  });
}

/** Runs (or loads from cache) one cell. */
async function runCell(c: Cell, o: StudyOptions, root: string): Promise<CellResult> {
  const dir = join(root, cellName(c));
  const resultPath = join(dir, 'result.json');
  if (existsSync(resultPath)) return JSON.parse(readFileSync(resultPath, 'utf8')) as CellResult;
  // A cell that generates nothing is the same under any generation choice: copy a finished one (its
  // bundle too, which bioaug-filtered scores agreement with) rather than train it again.
  if (!isBioaug(c.method)) {
    const from = reusableCell(dirname(root), root, cellName(c), settingsOf(o), keysIgnoredBy(c.method));
    if (from) {
      cpSync(from, dir, { recursive: true });
      o.log(`${cellName(c)}: reused from ${from} (same training settings)`);
      return JSON.parse(readFileSync(resultPath, 'utf8')) as CellResult;
    }
  }
  mkdirSync(dir, { recursive: true });
  const t0 = Date.now();
  const trainSplit = dataPath('ner', c.dataset, c.size, 'train.conll');
  const gold = readGold(c, o);
  // Smoke slices train MR/LwTR on the slice, not the full split.
  let statePath = trainSplit;
  if (o.limitTrain) {
    statePath = join(dir, 'gold-slice.conll');
    writeFileSync(statePath, toConll(gold));
  }
  // bioaug-filtered scores agreement with the gold cell's tagger: run (or load) that cell first.
  let goldTagger: string | undefined;
  if (c.method === 'bioaug-filtered') {
    const g = { ...c, method: 'gold' as const };
    await runCell(g, o, root);
    goldTagger = join(root, cellName(g), 'bundle');
  }
  const { augmented, stats } = await augmentCell(c, gold, o, statePath, goldTagger);
  const trainFile = join(dir, 'train.conll');
  writeFileSync(trainFile, toConll([...gold, ...augmented]));
  // Gold up-weighting: gold and augmentations as two files, the gold one repeated in every epoch (the
  // recipe's --train-repeat; its vocabularies count one copy, as from train.conll).
  // Fine-tuning on gold (--finetune-gold) needs the two files apart too: the recipe's --finetune-first.
  const goldWeight = o.goldWeight ?? 1;
  const finetune = o.finetuneGold === true && c.method !== 'gold' && augmented.length > 0;
  const trainArgs =
    (goldWeight !== 1 || finetune) && c.method !== 'gold' && augmented.length > 0
      ? (() => {
          const g = join(dir, 'train-gold.conll');
          const a = join(dir, 'train-augmented.conll');
          writeFileSync(g, toConll(gold));
          writeFileSync(a, toConll(augmented));
          return [
            '--train',
            g,
            a,
            ...(goldWeight !== 1 ? ['--train-repeat', String(goldWeight), '1'] : []),
            ...(finetune ? ['--finetune-first'] : []),
          ];
        })()
      : ['--train', trainFile];
  writeFileSync(
    join(dir, 'augmented.jsonl'),
    augmented.map((a) => JSON.stringify(a)).join('\n') + (augmented.length ? '\n' : ''),
  );
  o.log(
    `${cellName(c)}: ${gold.length} gold + ${augmented.length}/${stats.produced} valid augmentations (${((Date.now() - t0) / 1000).toFixed(0)} s); training`,
  );
  // No augmentation survived: the training file is the gold file byte for byte and the seed is the
  // same, so the training would repeat the gold cell's exactly; reuse its result (marked) if it is done.
  const goldResult = join(root, cellName({ ...c, method: 'gold' }), 'result.json');
  if (c.method !== 'gold' && augmented.length === 0 && existsSync(goldResult)) {
    const g = JSON.parse(readFileSync(goldResult, 'utf8')) as CellResult;
    const reused: CellResult = { ...g, method: c.method, generation: stats, reused_gold_training: true };
    writeJsonAtomic(resultPath, reused);
    o.log(
      `${cellName(c)}: no valid augmentation; training data = gold, gold cell result reused (F1 ${g.f1.toFixed(2)})`,
    );
    return reused;
  }
  const dev = dataPath('ner', c.dataset, 'dev.conll');
  const bundle = join(dir, 'bundle');
  const script = resolve(projectRoot, 'training/ner.py');
  const args = [
    '-n',
    '10',
    o.python,
    script,
    ...trainArgs,
    '--dev',
    dev,
    '--out',
    bundle,
    '--name',
    `study-${cellName(c)}`,
    '--seed',
    String(c.seed),
    // Training length is set by steps, not epochs: see settingsOf / README.
    '--epochs',
    '100000',
    '--max-steps',
    String(o.maxSteps),
    '--batch-size',
    String(o.batchSize),
    '--time-budget',
    '100000',
    '--tag-col',
    '1',
    '--verify-out',
    join(dir, 'verify.json'),
    '--command',
    `bioaug-stream study (cell ${cellName(c)}, ${settingsOf(o)})`,
    '--data-desc',
    `ner/${c.dataset}/${c.size}/train.conll${goldWeight !== 1 && c.method !== 'gold' ? ` (x${goldWeight} per epoch)` : ''} + ${c.method} x${o.n}`,
  ];
  if (o.selectDev) args.push('--max-dev', String(o.selectDev));
  if (o.evalEvery) args.push('--eval-every', String(o.evalEvery));
  if (o.patience) args.push('--patience', String(o.patience));
  if (o.w2v) args.push('--w2v', o.w2v);
  await runLogged('nice', args, resolve(projectRoot, 'training'), join(dir, 'train.log'));
  const card = JSON.parse(readFileSync(join(bundle, 'model.json'), 'utf8')) as {
    training?: {
      best_epoch?: number;
      epochs_run?: number;
      train_minutes?: number;
      steps_run?: number;
      best_step?: number;
      stopped_early?: boolean;
      finetune?: { steps: number; selected_f1_before: number; best_f1: number; improved: boolean } | null;
    };
  };
  const tagger = await loadTagger(bundle);
  let r;
  try {
    r = await evalNer(tagger, { data: dev, tagColumn: 2, batchSize: 64, limit: o.limitDev });
  } finally {
    await tagger.close?.();
  }
  const result: CellResult = {
    dataset: c.dataset,
    size: c.size,
    method: c.method,
    seed: c.seed,
    f1: r.f1,
    precision: r.precision,
    recall: r.recall,
    n_train_sentences: gold.length + augmented.length,
    n_augmented_valid: augmented.length,
    best_epoch: card.training?.best_epoch ?? 0,
    epochs_run: card.training?.epochs_run ?? 0,
    train_minutes: card.training?.train_minutes ?? 0,
    ...(card.training?.steps_run !== undefined
      ? {
          steps_run: card.training.steps_run,
          best_step: card.training.best_step ?? 0,
          stopped_early: card.training.stopped_early ?? false,
        }
      : {}),
    gold_weight: c.method === 'gold' ? 1 : goldWeight,
    ...(card.training?.finetune
      ? {
          finetune: {
            steps: card.training.finetune.steps,
            improved: card.training.finetune.improved,
            selectF1Before: card.training.finetune.selected_f1_before,
            selectF1After: card.training.finetune.best_f1,
          },
        }
      : {}),
    generation: stats,
    settings: settingsOf(o),
  };
  writeJsonAtomic(resultPath, result);
  o.log(
    `${cellName(c)}: dev F1 ${r.f1.toFixed(2)} (best epoch ${result.best_epoch}/${result.epochs_run}, step ${result.best_step ?? '?'}/${result.steps_run ?? '?'}${result.stopped_early ? ', stopped early' : ''}, ${((Date.now() - t0) / 60000).toFixed(1)} min)`,
  );
  return result;
}

/** Every cached cell result under the settings folder. */
function cachedCells(root: string, cells: Cell[]): CellResult[] {
  return cells
    .map((c) => join(root, cellName(c), 'result.json'))
    .filter((p) => existsSync(p))
    .map((p) => JSON.parse(readFileSync(p, 'utf8')) as CellResult);
}

/** Rewrites study.json (merged with what is there), study.md and study.png from the cached cells. */
export function writeResults(out: string, cells: CellResult[]): StudyRecord[] {
  const jsonPath = join(out, 'study.json');
  const existing: StudyRecord[] = existsSync(jsonPath)
    ? ((JSON.parse(readFileSync(jsonPath, 'utf8')) as { records: StudyRecord[] }).records ?? [])
    : [];
  const records = mergeRecords(existing, aggregate(cells));
  writeJsonAtomic(jsonPath, { updated: new Date().toISOString(), records });
  writeFileSync(join(out, 'study.md'), renderMarkdown(records));
  if (records.length) writeFileSync(join(out, 'study.png'), renderChart(records));
  return records;
}

/** Plans cells seed-major (every dataset/method at seed 1 before seed 2), runs them `jobs` at a time. */
export async function runStudy(o: StudyOptions): Promise<StudyRecord[]> {
  for (const m of o.methods)
    if (!(STUDY_METHODS as readonly string[]).includes(m))
      throw new StudyUsageError(
        `study: unknown method ${JSON.stringify(m)}; valid: ${STUDY_METHODS.join(', ')}`,
      );
  if (o.methods.some(isBioaug)) {
    const g = o.generator ?? resolve(projectRoot, 'models/generator');
    if (!existsSync(join(g, 'model.json')))
      throw new StudyUsageError(
        `study: method bioaug needs a generator bundle; ${g}/model.json is missing (train it, pass --generator, or leave bioaug out of --methods)`,
      );
  }
  if (o.patience && !o.evalEvery)
    throw new StudyUsageError(
      'study: --patience needs --eval-every: counted in epochs, patience would give methods with longer epochs (more augmentations) more steps without improvement',
    );
  if (o.finetuneGold && !(o.evalEvery && o.patience))
    throw new StudyUsageError(
      'study: --finetune-gold needs --eval-every and --patience: the gold-only stage stops the way the first one does',
    );
  if (o.goldWeight !== undefined && !(Number.isInteger(o.goldWeight) && o.goldWeight >= 1))
    throw new StudyUsageError(`study: --gold-weight must be an integer >= 1, got ${o.goldWeight}`);
  if (o.w2v) o = { ...o, w2v: resolve(o.w2v) };
  if (o.w2v && !existsSync(o.w2v))
    throw new StudyUsageError(
      `study: word2vec vectors ${o.w2v} missing (npm run train -- word2vec, or --no-w2v)`,
    );
  const hash = createHash('sha1').update(settingsOf(o)).digest('hex').slice(0, 8);
  // Absolute: the recipe runs with training/ as its working directory.
  const root = resolve(o.work, hash);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'settings.txt'), settingsOf(o) + '\n');
  const cells: Cell[] = [];
  for (const seed of o.seeds)
    for (const dataset of o.datasets)
      for (const size of o.sizes) for (const method of o.methods) cells.push({ dataset, size, method, seed });
  mkdirSync(o.out, { recursive: true });
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cells.length) {
      const c = cells[next++]!;
      try {
        await runCell(c, o, root);
      } catch (e) {
        if (e instanceof StudyUsageError) throw e;
        failures.push(`${cellName(c)}: ${(e as Error).message}`);
        o.log(`${cellName(c)}: FAILED: ${(e as Error).message}`);
        continue;
      }
      writeResults(o.out, cachedCells(root, cells));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.jobs) }, worker));
  const records = writeResults(o.out, cachedCells(root, cells));
  if (failures.length) throw new Error(`study: ${failures.length} cells failed:\n${failures.join('\n')}`);
  return records;
}
