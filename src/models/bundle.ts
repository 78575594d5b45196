import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelSession, type BackendOptions } from './backend.ts';
import { bundleError } from './errors.ts';
import { CharVocab, SubwordTokenizer, WordVocab } from './tokenizer.ts';

type Json = Record<string, unknown>;

export const TASKS = ['token-classification', 'relation-classification', 'seq2seq'] as const;
export type Task = (typeof TASKS)[number];
export const TOKEN_DECODERS = ['crf', 'argmax', 'span'] as const;
export type TokenDecoder = (typeof TOKEN_DECODERS)[number];

/** CRF parameters from crf.json: transitions[i][j] scores label i followed by label j. */
export interface CrfParams {
  transitions: number[][];
  start: number[];
  end: number[];
}

interface BundleBase {
  dir: string;
  name: string;
  /** 'project' when model.json is present, 'hf' for a plain Optimum export. */
  layout: 'project' | 'hf';
  meta: Json;
}

/** A token classifier (NER, keywords): project word-level layout or HF subword layout. */
export interface TokenClassificationBundle extends BundleBase {
  task: 'token-classification';
  labels: string[];
  decoder: TokenDecoder;
  /** Model window: words (project) or subwords including specials (hf). */
  maxLength: number;
  session: ModelSession;
  inputs: Record<string, string>;
  outputs: Record<string, string>;
  words?: WordVocab;
  chars?: CharVocab;
  subwords?: SubwordTokenizer;
  crf?: CrfParams;
  /** Span decoder: the widest span (in words) the span head scores. */
  maxSpanWidth?: number;
}

/** A relation classifier (project layout). */
export interface RelationBundle extends BundleBase {
  task: 'relation-classification';
  labels: string[];
  maxLength: number;
  session: ModelSession;
  inputs: Record<string, string>;
  outputs: Record<string, string>;
  words: WordVocab;
  chars?: CharVocab;
  verbalize: Record<string, string>;
}

/** Seq2seq generator config (from config.json / generation_config.json). */
export interface Seq2SeqConfig {
  vocabSize: number;
  decoderLayers: number;
  padTokenId: number;
  bosTokenId: number;
  eosTokenId: number;
  decoderStartTokenId: number;
  maxPositionEmbeddings: number;
  dModel: number;
  decoderHeads: number;
}

/** An encoder-decoder in the Optimum layout. */
export interface Seq2SeqBundle extends BundleBase {
  task: 'seq2seq';
  config: Seq2SeqConfig;
  tokenizer: Tokenizer;
  encoder: ModelSession;
  /** decoder_model.onnx (no past) or decoder_model_merged.onnx. */
  decoder: ModelSession;
  /** decoder_with_past_model.onnx, absent when the merged decoder serves both. */
  decoderWithPast?: ModelSession;
  merged: boolean;
  labelTokens: string[];
  maskToken: string;
}

export type Bundle = TokenClassificationBundle | RelationBundle | Seq2SeqBundle;

export interface LoadOptions {
  backend?: BackendOptions;
  /** Fail unless the bundle is of this task. */
  task?: Task;
}

function readJson(dir: string, file: string, what: string): Json {
  const p = join(dir, file);
  if (!existsSync(p)) throw bundleError(p, `missing (${what})`);
  try {
    const v = JSON.parse(readFileSync(p, 'utf8')) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Json;
  } catch (e) {
    throw bundleError(p, `not valid JSON: ${(e as Error).message}`, e);
  }
}

function need(dir: string, file: string, what: string): string {
  const p = join(dir, file);
  if (!existsSync(p)) throw bundleError(p, `missing (${what})`);
  return p;
}

function str(obj: Json, key: string, file: string, allowed?: readonly string[]): string {
  const v = obj[key];
  if (typeof v !== 'string' || (allowed && !allowed.includes(v)))
    throw bundleError(file, `"${key}" must be ${allowed ? `one of ${allowed.join(', ')}` : 'a string'}, got ${JSON.stringify(v)}`);
  return v;
}

function int(obj: Json, key: string, file: string, dflt?: number): number {
  const v = obj[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw bundleError(file, `"${key}" must be a non-negative integer, got ${JSON.stringify(v)}`);
  return v;
}

function strRecord(v: unknown, file: string, key: string): Record<string, string> {
  if (v === undefined) return {};
  if (!v || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string'))
    throw bundleError(file, `"${key}" must be an object of strings`);
  return v as Record<string, string>;
}

function checkIo(session: ModelSession, names: Record<string, string>, side: 'input' | 'output', file: string): void {
  const have = side === 'input' ? session.inputNames : session.outputNames;
  for (const [role, name] of Object.entries(names)) {
    if (!have.includes(name))
      throw bundleError(file, `expected ${side} "${name}" (${role}); the graph has ${side}s: ${have.join(', ')}`);
  }
}

function checkLabels(session: ModelSession, output: string, labels: string[], file: string, labelsFrom: string): void {
  const d = session.outputLastDim(output);
  if (d !== undefined && d !== labels.length)
    throw bundleError(file, `output "${output}" has ${d} classes but ${labelsFrom} lists ${labels.length} labels`);
}

function labelsFromId2Label(cfg: Json, file: string): string[] {
  const m = cfg.id2label;
  if (!m || typeof m !== 'object') throw bundleError(file, 'expected "id2label" for a token classifier');
  const entries = Object.entries(m as Record<string, unknown>);
  const labels: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    const v = (m as Record<string, unknown>)[String(i)];
    if (typeof v !== 'string')
      throw bundleError(file, `id2label has a gap or a non-string at id ${i} (expected ids 0..${entries.length - 1})`);
    labels.push(v);
  }
  return labels;
}

function readCrf(dir: string, file: string, n: number): CrfParams {
  const j = readJson(dir, file, 'CRF transitions');
  const p = join(dir, file);
  const isVec = (v: unknown): v is number[] =>
    Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number');
  const t = j.transitions;
  if (!Array.isArray(t) || t.length !== n || !t.every(isVec))
    throw bundleError(p, `"transitions" must be a ${n}x${n} number matrix (one row and column per label)`);
  const start = j.start ?? new Array<number>(n).fill(0);
  const end = j.end ?? new Array<number>(n).fill(0);
  if (!isVec(start) || !isVec(end)) throw bundleError(p, `"start" and "end" must be ${n} numbers`);
  return { transitions: t, start, end };
}

function loadHfTokenizer(dir: string): { tok: Tokenizer; json: Json } {
  const json = readJson(dir, 'tokenizer.json', 'Hugging Face tokenizer');
  const cfg = existsSync(join(dir, 'tokenizer_config.json')) ? readJson(dir, 'tokenizer_config.json', '') : {};
  try {
    return { tok: new Tokenizer(json, cfg), json };
  } catch (e) {
    throw bundleError(join(dir, 'tokenizer.json'), `cannot build the tokenizer: ${(e as Error).message}`, e);
  }
}

/** Loads a model bundle folder: the project layout (model.json) or a plain Hugging Face Optimum export. */
export async function loadBundle(dir: string, opts: LoadOptions = {}): Promise<Bundle> {
  if (!existsSync(dir)) throw bundleError(dir, 'folder does not exist');
  const hasModelJson = existsSync(join(dir, 'model.json'));
  const bundle = hasModelJson ? await loadProject(dir, opts) : await loadHf(dir, opts);
  if (opts.task && bundle.task !== opts.task) {
    await disposeBundle(bundle);
    throw bundleError(dir, `expected a ${opts.task} bundle, found ${bundle.task}`);
  }
  return bundle;
}

/** Releases every ONNX session of a bundle. */
export async function disposeBundle(b: Bundle): Promise<void> {
  if (b.task === 'seq2seq') {
    await Promise.all([b.encoder.dispose(), b.decoder.dispose(), b.decoderWithPast?.dispose()]);
  } else await b.session.dispose();
}

async function open(dir: string, file: string, what: string, backend?: BackendOptions): Promise<ModelSession> {
  return ModelSession.open(need(dir, file, what), backend);
}

async function loadProject(dir: string, opts: LoadOptions): Promise<Bundle> {
  const mjFile = join(dir, 'model.json');
  const mj = readJson(dir, 'model.json', 'bundle description');
  const task = str(mj, 'task', mjFile, TASKS) as Task;
  const name = typeof mj.name === 'string' ? mj.name : dir;
  const files = strRecord(mj.files, mjFile, 'files');
  if (task === 'seq2seq') return loadSeq2Seq(dir, opts, mj, name, 'project');
  const labels = mj.labels;
  if (!Array.isArray(labels) || labels.length === 0 || !labels.every((l) => typeof l === 'string'))
    throw bundleError(mjFile, '"labels" must be a non-empty array of strings');
  const maxLength = int(mj, 'maxLength', mjFile, 512);
  const inputs = strRecord(mj.inputs, mjFile, 'inputs');
  const outputs = strRecord(mj.outputs, mjFile, 'outputs');
  const tokFile = files.tokenizer ?? 'tokenizer.json';
  const tokJson = readJson(dir, tokFile, 'word-level tokenizer');
  const modelType = (tokJson.model as Json | undefined)?.type;
  const wordLevel = modelType === 'WordLevel' || inputs.words !== undefined;
  const modelFile = files.model ?? 'model.onnx';
  const session = await open(dir, modelFile, 'ONNX model', opts.backend);
  const onnxPath = join(dir, modelFile);
  try {
    if (task === 'relation-classification') {
      const ins: Record<string, string> = {
        words: 'word_ids',
        mask: 'mask',
        head: 'head_mask',
        tail: 'tail_mask',
        ...inputs,
      };
      if (ins.chars === undefined && session.inputNames.includes('char_ids')) ins.chars = 'char_ids';
      const outs = { logits: 'logits', ...outputs };
      checkIo(session, ins, 'input', onnxPath);
      checkIo(session, outs, 'output', onnxPath);
      checkLabels(session, outs.logits, labels as string[], onnxPath, 'model.json');
      return {
        task,
        dir,
        name,
        layout: 'project',
        meta: mj,
        labels: labels as string[],
        maxLength,
        session,
        inputs: ins,
        outputs: outs,
        words: WordVocab.fromJson(tokJson, join(dir, tokFile)),
        ...(ins.chars ? { chars: readChars(dir, files.chars) } : {}),
        verbalize: strRecord(mj.verbalize, mjFile, 'verbalize'),
      };
    }
    const decoder = str(mj, 'decoder', mjFile, TOKEN_DECODERS) as TokenDecoder;
    const b: TokenClassificationBundle = {
      task,
      dir,
      name,
      layout: 'project',
      meta: mj,
      labels: labels as string[],
      decoder,
      maxLength,
      session,
      inputs: {},
      outputs: {},
    };
    if (wordLevel) {
      b.inputs = { words: 'word_ids', mask: 'mask', ...inputs };
      if (b.inputs.chars === undefined && session.inputNames.includes('char_ids')) b.inputs.chars = 'char_ids';
      b.words = WordVocab.fromJson(tokJson, join(dir, tokFile));
      if (b.inputs.chars) b.chars = readChars(dir, files.chars);
    } else {
      // A project bundle around a subword encoder (fine-tuned BERT): HF input names.
      b.inputs = { ids: 'input_ids', mask: 'attention_mask', ...inputs };
      b.subwords = new SubwordTokenizer(loadHfTokenizer(dir).tok, join(dir, tokFile));
    }
    b.outputs =
      decoder === 'span'
        ? { start: 'start_logits', end: 'end_logits', span: 'span_logits', ...outputs }
        : { emissions: wordLevel ? 'emissions' : 'logits', ...outputs };
    checkIo(session, b.inputs, 'input', onnxPath);
    checkIo(session, b.outputs, 'output', onnxPath);
    if (decoder === 'span') {
      b.maxSpanWidth = int(mj, 'maxSpanWidth', mjFile, 8);
    } else {
      checkLabels(session, b.outputs.emissions ?? '', b.labels, onnxPath, 'model.json');
    }
    if (decoder === 'crf') b.crf = readCrf(dir, files.crf ?? 'crf.json', b.labels.length);
    return b;
  } catch (e) {
    await session.dispose();
    throw e;
  }
}

function readChars(dir: string, file = 'chars.json'): CharVocab {
  return CharVocab.fromJson(readJson(dir, file, 'character vocabulary'), join(dir, file));
}

async function loadHf(dir: string, opts: LoadOptions): Promise<Bundle> {
  const cfgFile = join(dir, 'config.json');
  if (!existsSync(cfgFile))
    throw bundleError(dir, 'neither model.json (project layout) nor config.json (Hugging Face layout) found');
  const cfg = readJson(dir, 'config.json', 'Hugging Face config');
  const name = typeof cfg._name_or_path === 'string' && cfg._name_or_path ? cfg._name_or_path : dir;
  if (existsSync(join(dir, 'encoder_model.onnx')) || cfg.is_encoder_decoder === true)
    return loadSeq2Seq(dir, opts, cfg, name, 'hf');
  const labels = labelsFromId2Label(cfg, cfgFile);
  const { tok } = loadHfTokenizer(dir);
  const session = await open(dir, 'model.onnx', 'ONNX token classifier', opts.backend);
  const onnxPath = join(dir, 'model.onnx');
  try {
    const inputs: Record<string, string> = { ids: 'input_ids', mask: 'attention_mask' };
    if (session.inputNames.includes('token_type_ids')) inputs.types = 'token_type_ids';
    const outputs = { emissions: 'logits' };
    checkIo(session, inputs, 'input', onnxPath);
    checkIo(session, outputs, 'output', onnxPath);
    checkLabels(session, 'logits', labels, onnxPath, 'config.json id2label');
    const tcfg = existsSync(join(dir, 'tokenizer_config.json'))
      ? readJson(dir, 'tokenizer_config.json', '')
      : {};
    const limits = [cfg.max_position_embeddings, tcfg.model_max_length].filter(
      (x): x is number => typeof x === 'number' && x > 0 && x < 1e6,
    );
    return {
      task: 'token-classification',
      dir,
      name,
      layout: 'hf',
      meta: cfg,
      labels,
      decoder: 'argmax',
      maxLength: limits.length ? Math.min(...limits) : 512,
      session,
      inputs,
      outputs,
      subwords: new SubwordTokenizer(tok, join(dir, 'tokenizer.json')),
    };
  } catch (e) {
    await session.dispose();
    throw e;
  }
}

async function loadSeq2Seq(
  dir: string,
  opts: LoadOptions,
  meta: Json,
  name: string,
  layout: 'project' | 'hf',
): Promise<Seq2SeqBundle> {
  const cfgFile = join(dir, 'config.json');
  const cfg = readJson(dir, 'config.json', 'seq2seq config');
  const gen = existsSync(join(dir, 'generation_config.json'))
    ? readJson(dir, 'generation_config.json', '')
    : {};
  const pick = (k: string, d?: number): number => int({ [k]: gen[k] ?? cfg[k] }, k, cfgFile, d);
  const eos = pick('eos_token_id', 2);
  const config: Seq2SeqConfig = {
    vocabSize: int(cfg, 'vocab_size', cfgFile),
    decoderLayers: int(cfg, 'decoder_layers', cfgFile, typeof cfg.num_layers === 'number' ? cfg.num_layers : undefined),
    padTokenId: pick('pad_token_id', 1),
    bosTokenId: pick('bos_token_id', 0),
    eosTokenId: eos,
    decoderStartTokenId: pick('decoder_start_token_id', eos),
    maxPositionEmbeddings: int(cfg, 'max_position_embeddings', cfgFile, 1024),
    dModel: int(cfg, 'd_model', cfgFile, 1),
    decoderHeads: Math.max(1, int(cfg, 'decoder_attention_heads', cfgFile, 1)),
  };
  const { tok } = loadHfTokenizer(dir);
  const merged = existsSync(join(dir, 'decoder_model_merged.onnx'));
  if (!merged && !existsSync(join(dir, 'decoder_model.onnx')))
    throw bundleError(
      join(dir, 'decoder_model.onnx'),
      'missing (expected decoder_model.onnx + decoder_with_past_model.onnx, or decoder_model_merged.onnx)',
    );
  const sessions: ModelSession[] = [];
  try {
    const encoder = await open(dir, 'encoder_model.onnx', 'seq2seq encoder', opts.backend);
    sessions.push(encoder);
    checkIo(encoder, { ids: 'input_ids' }, 'input', join(dir, 'encoder_model.onnx'));
    checkIo(encoder, { hidden: 'last_hidden_state' }, 'output', join(dir, 'encoder_model.onnx'));
    const decFile = merged ? 'decoder_model_merged.onnx' : 'decoder_model.onnx';
    const decoder = await open(dir, decFile, 'seq2seq decoder', opts.backend);
    sessions.push(decoder);
    checkIo(decoder, { ids: 'input_ids', enc: 'encoder_hidden_states' }, 'input', join(dir, decFile));
    checkIo(decoder, { logits: 'logits', cache: 'present.0.decoder.key' }, 'output', join(dir, decFile));
    let decoderWithPast: ModelSession | undefined;
    if (!merged && existsSync(join(dir, 'decoder_with_past_model.onnx'))) {
      decoderWithPast = await open(dir, 'decoder_with_past_model.onnx', 'seq2seq decoder with past', opts.backend);
      sessions.push(decoderWithPast);
      checkIo(
        decoderWithPast,
        { ids: 'input_ids', past: 'past_key_values.0.decoder.key' },
        'input',
        join(dir, 'decoder_with_past_model.onnx'),
      );
    }
    const layers = decoder.outputNames.filter((n) => /^present\.\d+\.decoder\.key$/.test(n)).length;
    if (layers !== config.decoderLayers)
      throw bundleError(
        join(dir, decFile),
        `has ${layers} decoder layers in its present.* outputs but config.json says decoder_layers=${config.decoderLayers}`,
      );
    const labelTokens = Array.isArray(meta.labelTokens)
      ? meta.labelTokens.filter((x): x is string => typeof x === 'string')
      : [];
    for (const t of labelTokens)
      if (tok.token_to_id(t) === undefined)
        throw bundleError(join(dir, 'tokenizer.json'), `label token "${t}" from model.json is not in the vocabulary`);
    return {
      task: 'seq2seq',
      dir,
      name,
      layout,
      meta,
      config,
      tokenizer: tok,
      encoder,
      decoder,
      ...(decoderWithPast ? { decoderWithPast } : {}),
      merged,
      labelTokens,
      maskToken: typeof meta.maskToken === 'string' ? meta.maskToken : '<mask>',
    };
  } catch (e) {
    await Promise.all(sessions.map((s) => s.dispose()));
    throw e;
  }
}
