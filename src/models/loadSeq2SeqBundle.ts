// Loads an encoder-decoder in the Optimum layout (encoder_model.onnx, decoder_model.onnx +
// decoder_with_past_model.onnx or decoder_model_merged.onnx), from either bundle layout.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelSession } from './backend.ts';
import type { LoadOptions, Seq2SeqBundle, Seq2SeqConfig } from './bundle.ts';
import { checkIo, int, loadHfTokenizer, open, readJson, type Json } from './bundleFiles.ts';
import { bundleError } from './errors.ts';

/** Loads the seq2seq sessions, config and tokenizer of `dir`; `meta` is its model.json or config.json. */
export async function loadSeq2SeqBundle(
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
    decoderLayers: int(
      cfg,
      'decoder_layers',
      cfgFile,
      typeof cfg.num_layers === 'number' ? cfg.num_layers : undefined,
    ),
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
      decoderWithPast = await open(
        dir,
        'decoder_with_past_model.onnx',
        'seq2seq decoder with past',
        opts.backend,
      );
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
        throw bundleError(
          join(dir, 'tokenizer.json'),
          `label token "${t}" from model.json is not in the vocabulary`,
        );
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
