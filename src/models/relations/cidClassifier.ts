// The CID relation model: an ONNX graph over candidate-pair features (src/models/relations/cidFeatures.ts)
// plus the training-set pair prior, loaded from a bundle folder (model.json, model.onnx, prior.json).
// One model run scores every candidate of every abstract in a batch (rows = pairs).
import { join } from 'node:path';
import { z } from 'zod';
import { f32, float32, ModelSession, type BackendConfig } from '../backend.ts';
import { bundleError, ModelError } from '../errors.ts';
import { readJsonAs, readJsonValue } from '../bundleFiles.ts';
import {
  CID_FEATURES,
  cidCandidates,
  type CidCandidate,
  type CidDocument,
  type CidPrior,
} from './cidFeatures.ts';

/** A scored candidate: the pair, its probability and evidence. */
export interface CidRelation extends CidCandidate {
  probability: number;
}

/** The classifier's answer for one abstract: every candidate scored, and pairs left out by the cap. */
export interface CidResult {
  relations: CidRelation[];
  dropped: number;
}

/** A loaded CID classifier. */
export interface CidClassifier {
  readonly modelId: string;
  /** Probability at or above which a pair is emitted (picked on dev, in model.json). */
  readonly threshold: number;
  /** Scores every candidate pair of every abstract in one model run. */
  predict(docs: CidDocument[]): Promise<CidResult[]>;
  dispose(): Promise<void>;
}

/** model.json of a CID bundle. */
export const CidBundleJson = z.object({
  task: z.literal('cid-relations'),
  name: z.string().default('cid-relations'),
  features: z.array(z.string()).min(1),
  threshold: z.number().min(0).max(1).default(0.5),
  files: z
    .object({ model: z.string().default('model.onnx'), prior: z.string().default('prior.json') })
    .prefault({}),
  inputs: z.object({ features: z.string().default('features') }).prefault({}),
  outputs: z.object({ probability: z.string().default('probability') }).prefault({}),
});

/** Config of {@link createCidClassifier}; every field has a default. */
export const CidClassifierConfig = z
  .object({
    stepId: z.string().default('cid-relations'),
    /** Candidate pairs per abstract beyond this are not scored (quadratic pair counts stay bounded). */
    maxPairsPerDocument: z.number().int().min(1).default(2000),
    /** Mention pairs kept as evidence per relation. */
    maxEvidence: z.number().int().min(1).max(100).default(3),
    /** Overrides the bundle's threshold. */
    threshold: z.number().min(0).max(1).optional(),
    backend: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type CidClassifierConfig = z.output<typeof CidClassifierConfig>;

/** Loads a CID bundle folder; the feature list must match the engine's (else the bundle is stale). */
export async function createCidClassifier(
  dir: string,
  options: z.input<typeof CidClassifierConfig> = {},
): Promise<CidClassifier> {
  const o = CidClassifierConfig.parse(options);
  const mjFile = join(dir, 'model.json');
  const mj = readJsonAs(dir, 'model.json', 'bundle description', CidBundleJson, 'not a cid-relations bundle');
  if (mj.features.join(',') !== CID_FEATURES.join(','))
    throw bundleError(
      mjFile,
      `features differ from the engine's (${mj.features.length} vs ${CID_FEATURES.length}): retrain with npm run train -- cid`,
    );
  const prior = readJsonValue(dir, mj.files.prior, 'pair prior') as CidPrior;
  if (
    !prior ||
    typeof prior.pairs !== 'object' ||
    typeof prior.chemicals !== 'object' ||
    typeof prior.diseases !== 'object'
  )
    throw bundleError(join(dir, mj.files.prior), 'expected {pairs, chemicals, diseases}');
  const session = await ModelSession.open(
    join(dir, mj.files.model),
    (o.backend ?? {}) as z.input<typeof BackendConfig>,
  );
  if (
    !session.inputNames.includes(mj.inputs.features) ||
    !session.outputNames.includes(mj.outputs.probability)
  ) {
    await session.dispose();
    throw bundleError(
      join(dir, mj.files.model),
      `expected input "${mj.inputs.features}" and output "${mj.outputs.probability}"; the graph has ${session.inputNames.join(', ')} -> ${session.outputNames.join(', ')}`,
    );
  }
  const modelId = dir.replace(/\/+$/, '').split('/').pop() ?? mj.name;
  const F = CID_FEATURES.length;
  return {
    modelId,
    threshold: o.threshold ?? mj.threshold,
    async predict(docs) {
      const per = docs.map((d, i) => {
        if (!d || typeof d.text !== 'string' || !Array.isArray(d.mentions) || !Array.isArray(d.sentences))
          throw new ModelError('input', `${o.stepId}: document ${i}: expected text, sentences and mentions`);
        return cidCandidates(d, { prior, maxPairs: o.maxPairsPerDocument, maxEvidence: o.maxEvidence });
      });
      const rows = per.reduce((n, p) => n + p.candidates.length, 0);
      if (rows === 0) return per.map((p) => ({ relations: [], dropped: p.dropped }));
      const x = new Float32Array(rows * F);
      let r = 0;
      for (const p of per) for (const c of p.candidates) x.set(c.features, F * r++);
      const res = await session.run({ [mj.inputs.features]: float32(x, [rows, F]) }, o.stepId);
      const prob = f32(res[mj.outputs.probability], `${o.stepId}: output ${mj.outputs.probability}`);
      if (prob.length !== rows)
        throw new ModelError(
          'bundle',
          `${o.stepId}: ${mj.outputs.probability} has ${prob.length} values for ${rows} pairs`,
        );
      r = 0;
      return per.map((p) => ({
        relations: p.candidates.map((c) => ({ ...c, probability: prob[r++]! })),
        dropped: p.dropped,
      }));
    },
    dispose: () => session.dispose(),
  };
}
