import { Tokenizer } from '@huggingface/tokenizers';
import { bundleError } from './errors.ts';

type Json = Record<string, unknown>;

/** Bounded memo: subword pieces per word, dropped wholesale when full (vocabularies are Zipfian). */
class Memo<V> {
  private m = new Map<string, V>();
  constructor(private readonly max = 50_000) {}
  get(k: string, make: () => V): V {
    const hit = this.m.get(k);
    if (hit !== undefined) return hit;
    const v = make();
    if (this.m.size >= this.max) this.m.clear();
    this.m.set(k, v);
    return v;
  }
}

/**
 * Word-level vocabulary of a project bundle: each pre-tokenized word goes through the tokenizer.json
 * normalizer and maps to one id (unknown words to unk). @huggingface/tokenizers has no WordLevel model, so
 * the normalizer is built by the library from a copy of the JSON whose model is swapped for a WordPiece.
 */
export class WordVocab {
  readonly unkId: number;
  readonly padId: number;
  private readonly normalize: (s: string) => string;
  private readonly memo = new Memo<number>();

  constructor(
    readonly vocab: Map<string, number>,
    json: Json,
    file: string,
  ) {
    const model = json.model as Json;
    const unk = typeof model.unk_token === 'string' ? model.unk_token : '[UNK]';
    const unkId = vocab.get(unk);
    if (unkId === undefined) throw bundleError(file, `unk_token "${unk}" is not in the vocab`);
    this.unkId = unkId;
    this.padId = vocab.get('[PAD]') ?? vocab.get('<pad>') ?? 0;
    // Only the normalizer is used, so the shim's WordPiece holds the unk token alone: the library copies the
    // vocabulary it is given into its own map, which cost more than the rest of loading a bundle.
    const shim = {
      ...json,
      added_tokens: [],
      pre_tokenizer: null,
      post_processor: null,
      decoder: null,
      model: { type: 'WordPiece', vocab: { [unk]: unkId }, unk_token: unk, continuing_subword_prefix: '##' },
    };
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(shim, {});
    } catch (e) {
      throw bundleError(file, `unsupported normalizer: ${(e as Error).message}`, e);
    }
    const n = tok.normalizer;
    this.normalize = n ? (s) => n.normalize(s) : (s) => s;
  }

  /** Reads a tokenizer.json with a vocab (WordLevel, or WordPiece used word-level). */
  static fromJson(json: Json, file: string): WordVocab {
    const model = json.model as Json | undefined;
    const v = model?.vocab;
    if (!model || !v || typeof v !== 'object' || Array.isArray(v))
      throw bundleError(file, 'expected model.vocab as an object {word: id} (a WordLevel tokenizer)');
    return new WordVocab(new Map(Object.entries(v as Record<string, number>)), json, file);
  }

  private readonly bigMemo = new Memo<bigint>();

  /** Id of one raw word. */
  id(word: string): number {
    return this.memo.get(word, () => this.vocab.get(this.normalize(word)) ?? this.unkId);
  }

  /** Id of one raw word as a bigint (int64 tensors), memoized since BigInt conversion is slow. */
  bigId(word: string): bigint {
    return this.bigMemo.get(word, () => BigInt(this.id(word)));
  }
}

/** chars.json of a project bundle: character ids of the raw word, padded/truncated to maxWordLength. */
export class CharVocab {
  constructor(
    readonly vocab: Map<string, number>,
    readonly pad: number,
    readonly unk: number,
    readonly maxWordLength: number,
  ) {}

  /** Validates and reads chars.json. */
  static fromJson(json: Json, file: string): CharVocab {
    const v = json.vocab;
    if (!v || typeof v !== 'object') throw bundleError(file, 'expected "vocab": {char: id}');
    const num = (k: string, d?: number): number => {
      const x = json[k] ?? d;
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0)
        throw bundleError(file, `expected "${k}" as a non-negative integer`);
      return x;
    };
    return new CharVocab(
      new Map(Object.entries(v as Record<string, number>)),
      num('pad', 0),
      num('unk', 1),
      num('maxWordLength'),
    );
  }

  private readonly memo = new Memo<BigInt64Array>();

  /** Writes the ids of `word` into out[offset .. offset+maxWordLength) (memoized per word: BigInt is slow). */
  fill(word: string, out: BigInt64Array, offset: number): void {
    out.set(
      this.memo.get(word, () => {
        const ids = new BigInt64Array(this.maxWordLength).fill(BigInt(this.pad));
        let i = 0;
        for (const ch of word) {
          if (i >= this.maxWordLength) break;
          ids[i++] = BigInt(this.vocab.get(ch) ?? this.unk);
        }
        return ids;
      }),
      offset,
    );
  }
}

/**
 * Subword tokenizer for Hugging Face bundles over pre-tokenized words: pieces per word (memoized), plus the
 * special ids the post-processor puts before and after a sequence ([CLS] ... [SEP], <s> ... </s>).
 */
export class SubwordTokenizer {
  readonly prefix: number[];
  readonly suffix: number[];
  readonly padId: number;
  private readonly memo = new Memo<number[]>();

  constructor(
    readonly tok: Tokenizer,
    file: string,
  ) {
    const probe = 'a';
    const bare = tok.encode(probe, { add_special_tokens: false }).ids;
    const full = tok.encode(probe, { add_special_tokens: true }).ids;
    const at = findSub(full, bare);
    if (at < 0) throw bundleError(file, 'post-processor output does not contain the encoded text');
    this.prefix = full.slice(0, at);
    this.suffix = full.slice(at + bare.length);
    this.padId = ['[PAD]', '<pad>', '<PAD>'].map((t) => tok.token_to_id(t)).find((x) => x !== undefined) ?? 0;
  }

  /** Subword ids of one word (never empty: an unencodable word gives the unk id or the pad id). */
  pieces(word: string): number[] {
    return this.memo.get(word, () => {
      const ids = this.tok.encode(word, { add_special_tokens: false }).ids;
      if (ids.length > 0) return ids;
      const unk = ['[UNK]', '<unk>'].map((t) => this.tok.token_to_id(t)).find((x) => x !== undefined);
      return [unk ?? this.padId];
    });
  }
}

function findSub(hay: number[], needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
