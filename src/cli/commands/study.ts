import type { Command } from 'commander';

const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

function int(name: string, s: string, min: number): number {
  const v = Number(s);
  if (!Number.isInteger(v) || v < min)
    throw new Error(`study: --${name} must be an integer >= ${min}, got ${JSON.stringify(s)}`);
  return v;
}

function unit(name: string, s: string): number {
  const v = Number(s);
  if (!(v >= 0 && v <= 1)) throw new Error(`study: --${name} must be in [0, 1], got ${JSON.stringify(s)}`);
  return v;
}

const STRATEGIES = ['sample', 'beam', 'beam-sample'] as const;
function strategyOf(s: string): (typeof STRATEGIES)[number] {
  if (!(STRATEGIES as readonly string[]).includes(s))
    throw new Error(`study: --strategy must be one of ${STRATEGIES.join(', ')}, got ${JSON.stringify(s)}`);
  return s as (typeof STRATEGIES)[number];
}

/** Registers `study`: the low-resource augmentation study (training/study, docs/results). */
export function register(program: Command): void {
  program
    .command('study')
    .description(
      'Augment ner/<ds>/<size>/train.conll per method and seed, train the NER recipe on gold + augmentations, score on dev; writes study.json/.md/.png',
    )
    .option('--dataset <list>', 'comma-separated datasets (ncbi, bc5cdr, ...)', 'ncbi')
    .option('--size <list>', 'comma-separated train sizes (100, 200, 500)', '100')
    .option('--seeds <list>', 'comma-separated seeds; one seed drives augmentation and training', '1,2,3')
    .option(
      '--methods <list>',
      'gold, mr, lwtr, sis, sr, all4, bioaug, bioaug-ce (entity-constrained decoding), bioaug-filtered (scored by the gold cell tagger, --filter-*)',
      'gold,mr,lwtr,sis,sr,all4,bioaug',
    )
    .option('--n <n>', 'augmentations per gold sentence and method', '5')
    .option('--p <p>', 'Bernoulli probability of the simple augmenters', '0.3')
    .option('--out <dir>', 'results folder', 'docs/results')
    .option('--work <dir>', 'cell cache, bundles, logs', 'training/work/study')
    .option('--steps <n>', 'optimizer steps per training (the same maximum for every method)', '600')
    .option(
      '--eval-every <n>',
      'score the --select-dev subset every n optimizer steps instead of after every epoch (0 = per epoch)',
      '0',
    )
    .option(
      '--patience <n>',
      'stop a training after n evaluations without a better dev F1 (0 = never; needs --eval-every)',
      '0',
    )
    .option(
      '--gold-weight <n>',
      'augmented methods: each gold sentence seen n times per epoch, each augmentation once (1 = no up-weighting)',
      '1',
    )
    .option(
      '--finetune-gold',
      'augmented methods: after gold + augmentations, continue on the gold sentences alone (same evaluations, patience and step maximum)',
    )
    .option('--batch-size <n>', 'training batch size', '8')
    .option('--select-dev <n>', 'pick the exported epoch on the first n dev sentences (0 = all)', '1000')
    .option('--jobs <n>', 'trainings at once', '1')
    .option('--generator <dir>', 'generator bundle for bioaug (default models/generator)')
    .option('--top-k <n>', 'BioAug top-k sampling', '10')
    .option(
      '--strategy <s>',
      'BioAug decoding: sample, beam, beam-sample (beam search over top-k samples)',
      'sample',
    )
    .option('--num-beams <n>', 'beams of beam and beam-sample', '4')
    .option(
      '--samples <n>',
      'sequences per corruption; the valid one with the best mean log-likelihood is kept',
      '1',
    )
    .option('--mu <x>', "mean of BioAug's keyword keep share e (higher = fewer tokens masked)", '0.5')
    .option('--filter-top-k <n>', 'bioaug-filtered: keep the k best-quality copies per sentence')
    .option('--filter-min-quality <x>', 'bioaug-filtered: drop copies whose quality is below x')
    .option(
      '--filter-min-agreement <x>',
      "bioaug-filtered: drop copies whose agreement with the gold cell's tagger is below x",
    )
    .option(
      '--filter-min-log-prob <x>',
      'bioaug-filtered: drop copies whose mean token log-likelihood is below x',
    )
    .option('--filter-min-new-token-share <x>', 'bioaug-filtered: drop near-copies (new-token share below x)')
    .option('--w2v <file>', 'word2vec vectors for the embedding init', 'training/work/w2v/biomed.kv')
    .option('--no-w2v', 'random embedding init')
    .option('--python <path>', 'python with torch', '/usr/bin/python3')
    .option('--limit-train <n>', 'smoke: first n gold sentences only (0 = all)', '0')
    .option('--limit-dev <n>', 'smoke: score on the first n dev sentences only (0 = all)', '0')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const { runStudy, STUDY_METHODS } = await import('../../../training/study/study.ts');
      const methods = list(String(opts.methods));
      for (const m of methods)
        if (!(STUDY_METHODS as readonly string[]).includes(m))
          throw new Error(`study: unknown method ${JSON.stringify(m)}; valid: ${STUDY_METHODS.join(', ')}`);
      const p = Number(opts.p);
      if (!(p >= 0 && p <= 1)) throw new Error(`study: --p must be in [0, 1], got ${JSON.stringify(opts.p)}`);
      const records = await runStudy({
        datasets: list(String(opts.dataset)),
        sizes: list(String(opts.size)),
        seeds: list(String(opts.seeds)).map((s) => int('seeds', s, 0)),
        methods: methods as Parameters<typeof runStudy>[0]['methods'],
        n: int('n', String(opts.n), 1),
        p,
        out: String(opts.out),
        work: String(opts.work),
        maxSteps: int('steps', String(opts.steps), 1),
        evalEvery: int('eval-every', String(opts.evalEvery), 0),
        patience: int('patience', String(opts.patience), 0),
        goldWeight: int('gold-weight', String(opts.goldWeight), 1),
        finetuneGold: opts.finetuneGold === true,
        batchSize: int('batch-size', String(opts.batchSize), 1),
        selectDev: int('select-dev', String(opts.selectDev), 0),
        jobs: int('jobs', String(opts.jobs), 1),
        generator: typeof opts.generator === 'string' ? opts.generator : undefined,
        topK: int('top-k', String(opts.topK), 0),
        strategy: strategyOf(String(opts.strategy)),
        numBeams: int('num-beams', String(opts.numBeams), 1),
        samples: int('samples', String(opts.samples), 1),
        mu: unit('mu', String(opts.mu)),
        filter: {
          ...(opts.filterTopK !== undefined ? { topK: int('filter-top-k', String(opts.filterTopK), 1) } : {}),
          ...(opts.filterMinQuality !== undefined
            ? { minQuality: unit('filter-min-quality', String(opts.filterMinQuality)) }
            : {}),
          ...(opts.filterMinAgreement !== undefined
            ? { minAgreement: unit('filter-min-agreement', String(opts.filterMinAgreement)) }
            : {}),
          ...(opts.filterMinLogProb !== undefined ? { minMeanLogProb: Number(opts.filterMinLogProb) } : {}),
          ...(opts.filterMinNewTokenShare !== undefined
            ? { minNewTokenShare: unit('filter-min-new-token-share', String(opts.filterMinNewTokenShare)) }
            : {}),
        },
        w2v: opts.w2v === false ? null : String(opts.w2v),
        python: String(opts.python),
        limitTrain: int('limit-train', String(opts.limitTrain), 0),
        limitDev: int('limit-dev', String(opts.limitDev), 0),
        log: (line) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`),
      });
      process.stdout.write(JSON.stringify({ records }) + '\n');
    });
}
