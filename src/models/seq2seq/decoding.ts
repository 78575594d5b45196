// What a decoding strategy works with: the model calls, the token constraints, and how a finished
// sequence of ids becomes a Generated result.
import type { Generated } from './generator.ts';
import type { Seq2SeqModel } from './seq2seqModel.ts';
import type { TokenConstraints } from './tokenConstraints.ts';

export interface Decoding {
  model: Seq2SeqModel;
  constraints: TokenConstraints;
  /** The result of generated ids (final EOS included if written), their score and log-prob sum. */
  result(ids: number[], score: number, sum?: number): Generated;
}
