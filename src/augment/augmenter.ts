// Creates an augmenter operator from a method name plus config, so the CLI, the augment topology
// and the benchmark share one switch and one list of valid methods.
import { map, type OperatorFunction } from 'rxjs';
import type { Envelope } from '../engine/envelope.ts';
import { all4 } from './all4.ts';
import type { CorruptConfig } from './bioaug/corrupt.ts';
import { corruptSentences } from './bioaug/corruptSentences.ts';
import type { KeywordTagger } from './bioaug/keywords.ts';
import { lwtr } from './lwtr.ts';
import { mr } from './mr.ts';
import { sis } from './sis.ts';
import { sr } from './sr.ts';
import type { AugmentState } from './state.ts';
import { TopologyInputError } from '../engine/topology.ts';
import { makeCopy, METHODS, type AugmentedCopy, type SentenceToAugment, type Method } from './types.ts';
import type { Synonyms } from './wordnet.ts';

/** Everything any augmenter may need; each method reads what it uses. */
export interface AugmenterInit {
  method: string;
  n: number;
  seed: number;
  /** Bernoulli probability of each decision (MR, LwTR, SiS, SR, all4). */
  p?: number;
  /** MR pools and LwTR distributions (required by mr, lwtr, all4). */
  state?: AugmentState;
  /** SR synonyms (default: WordNet from wordnetDir / default folders). */
  synonyms?: Pick<Synonyms, 'get'>;
  wordnetDir?: string;
  /** BioAug corruption settings (corrupt). */
  corrupt?: Partial<CorruptConfig>;
  tagger?: KeywordTagger;
  stepId?: string;
}

/** Parses a method name, listing the valid ones when it is unknown. */
export function parseMethod(name: string): Method {
  if ((METHODS as readonly string[]).includes(name)) return name as Method;
  throw new TopologyInputError(
    'augment',
    `unknown method ${JSON.stringify(name)}; valid methods: ${METHODS.join(', ')}`,
  );
}

/** The operator of a method: `n` augmented copies per labeled sentence. */
export function augmenter(
  config: AugmenterInit,
): OperatorFunction<Envelope<SentenceToAugment>, Envelope<AugmentedCopy>> {
  const method = parseMethod(config.method);
  const base = { n: config.n, seed: config.seed, stepId: config.stepId ?? method };
  const p = config.p === undefined ? {} : { p: config.p };
  const needState = (): AugmentState => {
    if (!config.state)
      throw new TopologyInputError(
        method,
        'needs training-set state (mention pools, label distributions): give --train or --state',
      );
    return config.state;
  };
  switch (method) {
    case 'mr':
      return mr({ ...base, ...p, state: needState() });
    case 'lwtr':
      return lwtr({ ...base, ...p, state: needState() });
    case 'sis':
      return sis({ ...base, ...p });
    case 'sr':
      return sr({ ...base, ...p, synonyms: config.synonyms, wordnetDir: config.wordnetDir });
    case 'all4':
      return all4({
        ...base,
        ...p,
        state: needState(),
        synonyms: config.synonyms,
        wordnetDir: config.wordnetDir,
      });
    case 'corrupt':
      return (src) =>
        src.pipe(
          corruptSentences({ ...base, corrupt: config.corrupt ?? {}, tagger: config.tagger }),
          map((env) => {
            const copy = makeCopy(
              env.value.source,
              'corrupt',
              'corrupt',
              env.value.n,
              config.seed,
              env.value,
            );
            // The corrupted text is what a generator reads; keep it with the CoNLL view.
            copy.generatedText = env.value.input;
            return { ...env, key: copy.id, value: copy };
          }),
        );
  }
}
