// Linearization (BioAug step 4): each entity token is wrapped in its label token,
// `<b-disease> colorectal <b-disease> <i-disease> cancer <i-disease>`; O tokens stay bare.
import { TopologyInputError } from '../../engine/topology.ts';
import { labelToken, RESERVED_TOKEN } from './labels.ts';

/**
 * Linearized tokens of a sentence. Throws when a word itself looks like a reserved token
 * (`<b-x>`, `<mask>`, `</s>`...): it could not be told apart from markup when parsing back.
 */
export function linearizeTokens(
  tokens: readonly string[],
  tags: readonly string[],
  step = 'linearize',
): string[] {
  if (tokens.length !== tags.length)
    throw new TopologyInputError(step, `${tokens.length} tokens but ${tags.length} tags`);
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const w = tokens[i]!;
    if (RESERVED_TOKEN.test(w))
      throw new TopologyInputError(
        step,
        `token ${i} ${JSON.stringify(w)} collides with the linearized markup`,
      );
    const t = tags[i]!;
    if (t === 'O') out.push(w);
    else {
      const lt = labelToken(t[0] === 'B' ? 'B' : 'I', t.slice(2));
      out.push(lt, w, lt);
    }
  }
  return out;
}

/** The linearized sentence as one space-joined string (the seq2seq target). */
export function linearize(tokens: readonly string[], tags: readonly string[]): string {
  return linearizeTokens(tokens, tags).join(' ');
}
