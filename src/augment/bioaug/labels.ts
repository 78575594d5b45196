// Label tokens of BioAug's linearized text: `<b-disease>` / `<i-disease>` around each entity token,
// `<mask>` for masked spans, `</s>` before knowledge. Type names are lowercased as in the paper,
// so a vocabulary maps them back to the corpus spelling.
import { TopologyInputError } from '../../engine/topology.ts';

/** Mask token of corrupted text (BART's). */
export const MASK = '<mask>';
/** Separator between the corrupted sentence and each knowledge triple. */
export const SEP = '</s>';

/** Matches a label token; group 1 the prefix (b/i), group 2 the lowercased type. */
export const LABEL_TOKEN = /^<([bi])-([^<>\s]+)>$/;
/** Tokens reserved by the linearized format: label tokens and `<mask>`, `<s>`, `</s>`, `<pad>`, `<unk>`. */
export const RESERVED_TOKEN = /^<(?:[bi]-[^<>\s]+|mask|\/?s|pad|unk)>$/i;

/** The label token for a BIO prefix and type: `labelToken('B', 'Disease')` is `<b-disease>`. */
export function labelToken(prefix: 'B' | 'I', type: string): string {
  return `<${prefix.toLowerCase()}-${type.toLowerCase()}>`;
}

/** Every label token of a set of entity types (`<b-x>`, `<i-x>` per type, sorted): tokenizer additions. */
export function labelTokensFor(types: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const t of types) {
    out.add(labelToken('B', t));
    out.add(labelToken('I', t));
  }
  return [...out].sort();
}

/** Maps lowercased type names (as in label tokens) back to the corpus spelling. */
export class LabelVocabulary {
  private readonly byLower = new Map<string, string>();

  /** Builds the vocabulary; throws when two types differ only by case (they would be ambiguous). */
  constructor(types: Iterable<string>) {
    for (const t of types) {
      if (t === '' || /[\s<>]/.test(t))
        throw new TopologyInputError(
          'bioaug-labels',
          `entity type ${JSON.stringify(t)} cannot be a label token`,
        );
      const l = t.toLowerCase();
      const prev = this.byLower.get(l);
      if (prev !== undefined && prev !== t)
        throw new TopologyInputError('bioaug-labels', `entity types ${prev} and ${t} differ only by case`);
      this.byLower.set(l, t);
    }
  }

  /** The corpus type for a lowercased label type, or undefined when unknown. */
  type(lower: string): string | undefined {
    return this.byLower.get(lower);
  }

  /** All known types (corpus spelling). */
  types(): string[] {
    return [...this.byLower.values()];
  }
}
