// Loads a plain Hugging Face Optimum export (config.json, no model.json): a subword token
// classifier (model.onnx + id2label) or an encoder-decoder.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, LoadOptions } from './bundle.ts';
import { checkIo, checkLabels, labelsFromId2Label, loadHfTokenizer, open, readJson } from './bundleFiles.ts';
import { bundleError } from './errors.ts';
import { loadSeq2SeqBundle } from './loadSeq2SeqBundle.ts';
import { SubwordTokenizer } from './tokenizer.ts';

/** Loads a Hugging Face Optimum export; `dir` must hold config.json. */
export async function loadHfBundle(dir: string, opts: LoadOptions): Promise<Bundle> {
  const cfgFile = join(dir, 'config.json');
  if (!existsSync(cfgFile))
    throw bundleError(dir, 'neither model.json (project layout) nor config.json (Hugging Face layout) found');
  const cfg = readJson(dir, 'config.json', 'Hugging Face config');
  const name = typeof cfg._name_or_path === 'string' && cfg._name_or_path ? cfg._name_or_path : dir;
  if (existsSync(join(dir, 'encoder_model.onnx')) || cfg.is_encoder_decoder === true)
    return loadSeq2SeqBundle(dir, opts, cfg, name, 'hf');
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
