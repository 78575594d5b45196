import type { z } from 'zod';
// Model bundles: the types of the three kinds (token classifier, relation classifier, seq2seq) and
// the one entry point, loadBundle, which picks the loader by layout (loadProjectBundle for model.json,
// loadHfBundle for a plain Optimum export; both use loadSeq2SeqBundle for encoder-decoders).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Tokenizer } from '@huggingface/tokenizers';
import type { BackendConfig, ModelSession } from './backend.ts';
import type { Json } from './bundleFiles.ts';
import { bundleError } from './errors.ts';
import { loadHfBundle } from './loadHfBundle.ts';
import { loadProjectBundle } from './loadProjectBundle.ts';
import type { CharVocab, SubwordTokenizer, WordVocab } from './tokenizer.ts';

/** The tasks a bundle may declare (model.json `task`). */
export const TASKS = ['token-classification', 'relation-classification', 'seq2seq'] as const;
export type Task = (typeof TASKS)[number];
/** The decoders of a token classifier (model.json `decoder`). */
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
  backend?: z.input<typeof BackendConfig>;
  /** Fail unless the bundle is of this task. */
  task?: Task;
}

/** Loads a model bundle folder: the project layout (model.json) or a plain Hugging Face Optimum export. */
export async function loadBundle(dir: string, opts: LoadOptions = {}): Promise<Bundle> {
  if (!existsSync(dir)) throw bundleError(dir, 'folder does not exist');
  const hasModelJson = existsSync(join(dir, 'model.json'));
  const bundle = hasModelJson ? await loadProjectBundle(dir, opts) : await loadHfBundle(dir, opts);
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
