// Loads a bundle in the project layout (model.json): word-level or subword token classifiers,
// relation classifiers, and seq2seq generators described by model.json.
import { join } from 'node:path';
import {
  TASKS,
  TOKEN_DECODERS,
  type Bundle,
  type LoadOptions,
  type Task,
  type TokenClassificationBundle,
  type TokenDecoder,
} from './bundle.ts';
import {
  checkIo,
  checkLabels,
  int,
  loadHfTokenizer,
  open,
  readChars,
  readCrf,
  readJson,
  str,
  strRecord,
  type Json,
} from './bundleFiles.ts';
import { bundleError } from './errors.ts';
import { loadSeq2SeqBundle } from './loadSeq2SeqBundle.ts';
import { SubwordTokenizer, WordVocab } from './tokenizer.ts';

/** Loads a project-layout bundle (model.json names the task, labels, decoder and files). */
export async function loadProjectBundle(dir: string, opts: LoadOptions): Promise<Bundle> {
  const mjFile = join(dir, 'model.json');
  const mj = readJson(dir, 'model.json', 'bundle description');
  const task = str(mj, 'task', mjFile, TASKS) as Task;
  const name = typeof mj.name === 'string' ? mj.name : dir;
  const files = strRecord(mj.files, mjFile, 'files');
  if (task === 'seq2seq') return loadSeq2SeqBundle(dir, opts, mj, name, 'project');
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
      if (b.inputs.chars === undefined && session.inputNames.includes('char_ids'))
        b.inputs.chars = 'char_ids';
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
