// Aggregation of the study's per-cell results (one training per dataset, size, method and seed) into
// one record per (dataset, size, method), merged over an existing study.json so runs accumulate.

/** Generation quality of one cell's augmentations (BioAug; the simple methods are valid by construction). */
export interface GenerationStats {
  /** Augmentations produced (n per gold sentence). */
  produced: number;
  /** Of those, how many passed de-linearization/validation and went into the training file. */
  valid: number;
  /** Mean share of tokens in a valid augmentation that do not occur in its source sentence. */
  new_token_share: number;
  /** Mean |augmented length - source length| in tokens over valid augmentations. */
  mean_abs_length_diff: number;
  /** Invalid generations by reason (delinearize's reasons), when known. */
  invalid_reasons?: Record<string, number>;
  /** Model id of the generator (BioAug methods): which bundle made the augmentations. */
  model_id?: string;
  /** Mean of the records' meanLogProb over valid augmentations (BioAug). */
  mean_log_prob?: number;
  /** Mean of the records' combined quality over valid augmentations. */
  mean_quality?: number;
  /** Mean taggerAgreement over valid augmentations (bioaug-filtered: the gold cell's tagger). */
  mean_agreement?: number;
}

/** Result of one cell: one training run on gold + augmentations, scored on the full dev set. */
export interface CellResult {
  dataset: string;
  size: string;
  method: string;
  seed: number;
  /** Strict entity F1 (0-100) of the exported epoch on the full dev set (`eval ner`). */
  f1: number;
  precision: number;
  recall: number;
  /** Sentences in the training file (gold + valid augmentations). */
  n_train_sentences: number;
  n_augmented_valid: number;
  best_epoch: number;
  epochs_run: number;
  train_minutes: number;
  generation: GenerationStats;
  /** Optimizer steps the training ran (at most the study's maximum; fewer when it stopped early). */
  steps_run?: number;
  /** The step whose state was exported (best dev F1 on the selection subset). */
  best_step?: number;
  /** The training stopped for lack of dev improvement (patience) before the maximum. */
  stopped_early?: boolean;
  /** Times each gold sentence was seen per epoch against once per augmentation (1: not up-weighted). */
  gold_weight?: number;
  /**
   * The gold-only second stage (--finetune-gold): its steps, whether it beat the first stage on the dev
   * subset, and that subset's F1 before and after (the full-dev F1 is `f1`).
   */
  finetune?: { steps: number; improved: boolean; selectF1Before: number; selectF1After: number };
  /** Set when no augmentation survived and the gold cell's training (identical data and seed) was reused. */
  reused_gold_training?: boolean;
  /** Settings the cell ran with, so a cache hit under other settings is noticed. */
  settings: string;
}

/** One row of study.json. */
export interface StudyRecord {
  dataset: string;
  size: string;
  method: string;
  f1_mean: number;
  f1_std: number;
  f1_per_seed: Record<string, number>;
  seeds: number;
  n_train_sentences: number;
  n_augmented_valid: number;
  /** Steps each seed's training ran, and the exported step (cells from before steps were recorded: absent). */
  steps_per_seed?: Record<string, { run: number; best: number; early: boolean }>;
  /** The cells' gold up-weighting (see CellResult.gold_weight). */
  gold_weight?: number;
  generation?: {
    valid_share: number;
    new_token_share: number;
    mean_abs_length_diff: number;
    produced: number;
    valid: number;
    invalid_reasons?: Record<string, number>;
    model_id?: string;
  };
  settings: string;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Mean and sample standard deviation (n - 1; 0 for a single value). */
export function meanStd(xs: number[]): { mean: number; std: number } {
  if (xs.length === 0) throw new Error('study: meanStd of an empty list');
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length === 1) return { mean, std: 0 };
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, std: Math.sqrt(v) };
}

/** Canonical method order for tables and charts (unknown methods after, alphabetically). */
export const METHOD_ORDER = [
  'gold',
  'mr',
  'lwtr',
  'sis',
  'sr',
  'all4',
  'bioaug',
  'bioaug-ce',
  'bioaug-filtered',
];

function methodRank(m: string): number {
  const i = METHOD_ORDER.indexOf(m);
  return i < 0 ? METHOD_ORDER.length : i;
}

/** Sorts records by dataset, size (numeric), then method order. */
export function sortRecords(rs: StudyRecord[]): StudyRecord[] {
  return [...rs].sort(
    (a, b) =>
      a.dataset.localeCompare(b.dataset) ||
      Number(a.size) - Number(b.size) ||
      methodRank(a.method) - methodRank(b.method) ||
      a.method.localeCompare(b.method),
  );
}

/** Groups cells by (dataset, size, method) into study records; cells of one group must share settings. */
export function aggregate(cells: CellResult[]): StudyRecord[] {
  const groups = new Map<string, CellResult[]>();
  for (const c of cells) {
    const k = `${c.dataset}\u0000${c.size}\u0000${c.method}`;
    const g = groups.get(k);
    if (g) g.push(c);
    else groups.set(k, [c]);
  }
  const out: StudyRecord[] = [];
  for (const g of groups.values()) {
    const first = g[0]!;
    const settings = new Set(g.map((c) => c.settings));
    if (settings.size > 1)
      throw new Error(
        `study: ${first.dataset}/${first.size}/${first.method}: cells ran with different settings (${[...settings].join(' | ')})`,
      );
    g.sort((a, b) => a.seed - b.seed);
    const { mean, std } = meanStd(g.map((c) => c.f1));
    const rec: StudyRecord = {
      dataset: first.dataset,
      size: first.size,
      method: first.method,
      f1_mean: round2(mean),
      f1_std: round2(std),
      f1_per_seed: Object.fromEntries(g.map((c) => [String(c.seed), round2(c.f1)])),
      seeds: g.length,
      n_train_sentences: Math.round(meanStd(g.map((c) => c.n_train_sentences)).mean),
      n_augmented_valid: Math.round(meanStd(g.map((c) => c.n_augmented_valid)).mean),
      settings: first.settings,
    };
    if (g.every((c) => c.steps_run !== undefined))
      rec.steps_per_seed = Object.fromEntries(
        g.map((c) => [
          String(c.seed),
          { run: c.steps_run!, best: c.best_step ?? 0, early: c.stopped_early ?? false },
        ]),
      );
    if (first.gold_weight !== undefined) rec.gold_weight = first.gold_weight;
    if (first.method !== 'gold') {
      const produced = g.reduce((a, c) => a + c.generation.produced, 0);
      const valid = g.reduce((a, c) => a + c.generation.valid, 0);
      // Means over valid augmentations, pooled across seeds (weighted by each seed's survivors).
      const w = (f: (s: GenerationStats) => number) =>
        valid === 0 ? 0 : g.reduce((a, c) => a + f(c.generation) * c.generation.valid, 0) / valid;
      const reasons: Record<string, number> = {};
      for (const c of g)
        for (const [r, n] of Object.entries(c.generation.invalid_reasons ?? {}))
          reasons[r] = (reasons[r] ?? 0) + n;
      rec.generation = {
        valid_share: produced === 0 ? 0 : Math.round((valid / produced) * 10000) / 10000,
        new_token_share: Math.round(w((s) => s.new_token_share) * 10000) / 10000,
        mean_abs_length_diff: round2(w((s) => s.mean_abs_length_diff)),
        produced,
        valid,
        ...(Object.keys(reasons).length ? { invalid_reasons: reasons } : {}),
        ...(first.generation.model_id
          ? { model_id: [...new Set(g.map((c) => c.generation.model_id ?? '?'))].join(' | ') }
          : {}),
      };
    }
    out.push(rec);
  }
  return sortRecords(out);
}

/** Replaces the records of `existing` that `fresh` covers (same dataset, size, method), keeps the rest. */
export function mergeRecords(existing: StudyRecord[], fresh: StudyRecord[]): StudyRecord[] {
  const key = (r: StudyRecord) => `${r.dataset}\u0000${r.size}\u0000${r.method}`;
  const have = new Set(fresh.map(key));
  return sortRecords([...existing.filter((r) => !have.has(key(r))), ...fresh]);
}

const fmt = (x: number): string => x.toFixed(2);

/** Markdown table of the records: one row per dataset/size/method, plus delta to gold. */
export function renderMarkdown(records: StudyRecord[], title = 'Low-resource augmentation study'): string {
  const rs = sortRecords(records);
  const lines = [
    `# ${title}`,
    '',
    'Strict entity F1 (0-100) on the full dev set, mean ± sample std over seeds; Δgold = mean minus the',
    'gold-only mean of the same dataset and size. Generation columns: valid share = augmentations that',
    'survived de-linearization/validation, new tok = mean share of tokens not in the source sentence,',
    '|Δlen| = mean absolute length difference (tokens). Steps: optimizer steps each seed trained',
    '(exported step in brackets, * = stopped early for lack of dev improvement).',
    '',
    '| dataset | size | method | F1 mean | ± std | Δgold | seeds | per seed | train sents | valid aug | valid share | new tok | \\|Δlen\\| | steps (best) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rs) {
    const gold = rs.find((g) => g.dataset === r.dataset && g.size === r.size && g.method === 'gold');
    const delta =
      gold && r.method !== 'gold'
        ? (r.f1_mean - gold.f1_mean >= 0 ? '+' : '') + fmt(r.f1_mean - gold.f1_mean)
        : '';
    const per = Object.entries(r.f1_per_seed)
      .map(([s, f]) => `${s}: ${fmt(f)}`)
      .join(', ');
    const g = r.generation;
    const steps = Object.entries(r.steps_per_seed ?? {})
      .map(([s, x]) => `${s}: ${x.run}${x.early ? '*' : ''} (${x.best})`)
      .join(', ');
    lines.push(
      `| ${r.dataset} | ${r.size} | ${r.method} | ${fmt(r.f1_mean)} | ${fmt(r.f1_std)} | ${delta} | ${r.seeds} | ${per} | ${r.n_train_sentences} | ${r.n_augmented_valid} | ${g ? (g.valid_share * 100).toFixed(1) + '%' : ''} | ${g ? (g.new_token_share * 100).toFixed(1) + '%' : ''} | ${g ? fmt(g.mean_abs_length_diff) : ''} | ${steps} |`,
    );
  }
  return lines.join('\n') + '\n';
}
