// After training: score the bundle with the engine (eval ner), record the figures in model.json and
// write the model card, so every number in the card is one `eval ner` reproduces.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { cpus } from 'node:os';
import { evalNer, type EvalNerResult } from '../../src/eval/evalNer.ts';
import { loadTagger } from '../../src/cli/loadTagger.ts';
import { dataPath } from '../../src/io/dataPath.ts';

interface ModelJson {
  name: string;
  labels: string[];
  provenance: Record<string, unknown> & { command?: string; data?: string; seed?: number };
  training?: {
    epochs_run?: number;
    best_epoch?: number;
    adaptive_loss_a?: number;
    train_sentences?: number;
    train_minutes?: number;
    history?: { epoch: number; dev_f1: number; a: number }[];
    lm_pretraining?: {
      sentences: number;
      epochs: number;
      steps: number;
      minutes: number;
      out_vocab: number;
      corpus?: string[];
      seed?: number;
      history: { epoch: number; ppl_fwd: number; ppl_bwd: number }[];
      /** multitask.py --lm-init: the encoder came from a cache made with another vocabulary. */
      warm_start?: {
        cache: string;
        words_mapped: number;
        words: number;
        chars_mapped: number;
        chars: number;
      };
    };
    /** Learning rate of the encoder as a share of the tagger's (ner.py --encoder-lr-scale; 1 when absent). */
    encoder_lr_scale?: number;
  };
  metrics: Record<string, unknown>;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** The command line that reproduces the run: a time budget is replaced by the epochs it allowed. */
export function reproducibleCommand(command: string, epochsRun: number | undefined): string {
  if (!/--time-budget\s+\S+/.test(command) || !epochsRun) return command;
  return command
    .replace(/\s*--time-budget\s+\S+/, '')
    .replace(/\s*--epochs\s+\S+/, '')
    .concat(` --epochs ${epochsRun}`);
}

/**
 * Scores a bundle on a dev CoNLL file with the engine (`eval ner`): the result, the dev path as a card
 * shows it, the command that reproduces the figure and the `metrics.dev` block model.json records.
 */
export async function scoreOnDev(
  bundle: string,
  dev: string,
  tagColumn: number,
): Promise<{ r: EvalNerResult; devShown: string; evalCmd: string; metrics: Record<string, unknown> }> {
  const tagger = await loadTagger(bundle);
  let r: EvalNerResult;
  try {
    r = await evalNer(tagger, { data: dev, tagColumn });
  } finally {
    await tagger.close?.();
  }
  const relBundle = relative(process.cwd(), resolve(bundle)) || '.';
  const devShown = dev.startsWith(dataPath()) ? `../shared/data/${relative(dataPath(), dev)}` : dev;
  const evalCmd =
    `npm run cli -- eval ner --model ${relBundle} --data ${devShown}` +
    (tagColumn !== 2 ? ` --tag-column ${tagColumn}` : '');
  const metrics = {
    precision: r2(r.precision),
    recall: r2(r.recall),
    f1: r2(r.f1),
    per_type: Object.fromEntries(
      Object.entries(r.per_type).map(([k, v]) => [
        k,
        { precision: r2(v.precision), recall: r2(v.recall), f1: r2(v.f1), support: v.support },
      ]),
    ),
    sentences: r.sentences,
    sentences_per_s: r2(r.sentences_per_s),
    command: evalCmd,
  };
  return { r, devShown, evalCmd, metrics };
}

/** A bundle's files (the card excluded) and their total size in bytes. */
export function bundleFiles(bundle: string): { files: string[]; bytes: number } {
  const files = readdirSync(bundle).filter((f) => f !== 'README.md');
  return { files, bytes: files.reduce((s, f) => s + statSync(join(bundle, f)).size, 0) };
}

/** The per-type rows of a card's metrics table. */
export function perTypeRows(r: EvalNerResult): string {
  return Object.entries(r.per_type)
    .map(([k, v]) => `| ${k} | ${r2(v.precision)} | ${r2(v.recall)} | ${r2(v.f1)} | ${v.support} |`)
    .join('\n');
}

/** Evaluates `bundle` on `dev` with the engine and writes metrics into model.json and README.md. */
export async function finalizeBundle(o: {
  bundle: string;
  dev: string;
  tagColumn: number;
  command: string;
}): Promise<EvalNerResult> {
  const metaPath = join(o.bundle, 'model.json');
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as ModelJson;
  const { r, devShown, evalCmd, metrics } = await scoreOnDev(o.bundle, o.dev, o.tagColumn);
  const command = reproducibleCommand(o.command, meta.training?.epochs_run);
  meta.provenance.command = command;
  meta.provenance.dev = devShown;
  meta.metrics = { dev: metrics };
  writeFileSync(metaPath, JSON.stringify(meta, null, 2) + '\n');
  const { files, bytes } = bundleFiles(o.bundle);
  const t = meta.training ?? {};
  const perType = perTypeRows(r);
  const mt = meta.provenance.multitask as
    | {
        head: string;
        corpora: Record<string, { train_sentences: number; sampling_p: number; final_a: number }>;
        sampling: string;
        selection: string;
        dev_f1_at_best_epoch: Record<string, number>;
        hidden: number;
      }
    | undefined;
  const mtLine = mt
    ? `- **Multi-task** (training/multitask.py): head \`${mt.head}\` of one shared char + word encoder (LSTMs ${mt.hidden}
  per direction) trained with one emission layer + CRF head per corpus on ${Object.entries(mt.corpora)
    .map(([k, c]) => `${k} (${c.train_sentences} sentences, p=${c.sampling_p}, a=${c.final_a})`)
    .join(', ')}; batches interleaved by ${mt.sampling}; selection ${mt.selection}
  (python dev F1 of the selected heads at that epoch: ${Object.entries(mt.dev_f1_at_best_epoch)
    .map(([k, f]) => `${k} ${f}`)
    .join(', ')}). Only this head's emission layer and CRF are in the bundle.
`
    : '';
  const lm = t.lm_pretraining;
  const lmLine = lm
    ? `- **Language-model pretraining** (training/lib/lmpretrain.py): before tagging, word embeddings, char CNN and
  both LSTMs trained as next-word (forward) and previous-word (backward) language models on ${lm.sentences} unlabeled
  sentences of ${(lm.corpus ?? ['?']).join(', ')} (the dev file's sentences left out), ${lm.epochs} epoch(s)${lm.seed !== undefined ? ` (seed ${lm.seed})` : ''}, ${lm.steps} steps,
  ${lm.minutes} min, adaptive softmax over the ${lm.out_vocab} first vocabulary words (perplexity per epoch, forward/backward:
  ${lm.history.map((h) => `${h.epoch}: ${h.ppl_fwd}/${h.ppl_bwd}`).join(', ')}); the output heads are dropped, so the
  exported model has the shape and cost of one without it.${
    lm.warm_start
      ? ` The multi-task encoder started from that single-corpus encoder (\`${lm.warm_start.cache}\`, another vocabulary): ${lm.warm_start.words_mapped} of its ${lm.warm_start.words} words and ${lm.warm_start.chars_mapped} of ${lm.warm_start.chars} chars mapped by string, the rest from word2vec or random.`
      : ''
  }${
    (t.encoder_lr_scale ?? 1) !== 1
      ? ` The tagger then trained the pretrained encoder at ${t.encoder_lr_scale} times the tagger's learning rate.`
      : ''
  }
`
    : '';
  // The LSTM size: the multi-task run records it; ner.py's is in the command (its default is 160).
  const hidden = mt?.hidden ?? Number(/--hidden[ =](\d+)/.exec(command)?.[1] ?? 160);
  const hist = (t.history ?? []).map((h) => `${h.epoch}: ${r2(h.dev_f1)} (a=${h.a.toFixed(3)})`).join(', ');
  const card = `# ${meta.name}

Word-level BiLSTM-CRF token tagger (project token-classification layout, docs/bundle-format.md), trained
with AdaBioBERT's adaptive loss L = a*CE + (1-a)*CRF, a = sigmoid(w) learned. Labels: ${meta.labels.join(', ')}.

- **Architecture**: word embeddings (128-d, initialised from word2vec trained on corpus/biomed_sentences.txt,
  window 7, skip-gram; vocabulary ${'capped at 20k'}: training words then corpus words; lowercase + digits->0;
  stored fp16 in the ONNX) + char CNN (64 filters) -> forward and backward LSTMs (${hidden} each; the backward one
  runs within each sentence's length, so padding never changes a result) -> emissions; CRF transitions in crf.json.
- **Data**: train ${String(meta.provenance.data)} (${t.train_sentences ?? '?'} sentences); dev ${devShown} (model selection).
- **Retrain**: \`${command}\` (seed ${String(meta.provenance.seed)}, 1 torch thread; ${t.epochs_run ?? '?'} epochs,
  best dev epoch ${t.best_epoch ?? '?'}, ${t.train_minutes ?? '?'} min on the shared 2-core CPU).
- **Final adaptive-loss weight a**: ${t.adaptive_loss_a !== undefined ? t.adaptive_loss_a.toFixed(4) : '?'}
  (per epoch: ${hist || 'n/a'}).
${lmLine}${mtLine}
## Dev metrics (strict entity level, seqeval-equivalent, through the engine's NER runtime)

\`${evalCmd}\`

| type | P | R | F1 | support |
|---|---|---|---|---|
| **all** | ${r2(r.precision)} | ${r2(r.recall)} | ${r2(r.f1)} | ${r.per_type ? Object.values(r.per_type).reduce((s, v) => s + v.support, 0) : 0} |
${perType}

## Size and speed

- Bundle: ${(bytes / 1e6).toFixed(2)} MB (${files.join(', ')}).
- CPU: ${r2(r.sentences_per_s)} sentences/s (${r.sentences} dev sentences, batches of 32, onnxruntime-node CPU,
  ${cpus().length} cores shared with other jobs; measured by the eval command above).

No GPU was used. Test splits were never used.
`;
  writeFileSync(join(o.bundle, 'README.md'), card);
  process.stdout.write(`train: ${basename(o.bundle)} dev F1 ${r2(r.f1)} (engine) -> ${metaPath}\n`);
  return r;
}
