// Strict entity-level precision/recall/F1, equivalent to seqeval's default (non-strict-mode)
// `classification_report`: chunks are (type, start, end); seqeval's chunker, not a strict IOB2
// parser, decides where chunks start, so an I-X without a preceding B-X still opens a chunk and a
// type change inside a run splits it. Scores are on the 0-100 scale reported in papers.
import { StreamError } from '../engine/errors.ts';
import { prf, type Prf } from './documentF1.ts';

/** The eval module's Prf (0-100, with tp/fp/fn) plus seqeval's support: the number of gold chunks. */
export type EntityScore = Prf & { support: number };

/** Micro-averaged scores plus one entry per entity type. */
export interface EntityF1Result extends EntityScore {
  per_type: Record<string, EntityScore>;
  /** Number of predicted chunks (all types). */
  predicted: number;
}

/** One chunk: entity type and inclusive token offsets. */
export interface Chunk {
  type: string;
  start: number;
  end: number;
}

function splitTag(chunk: string): { tag: string; type: string } {
  // seqeval: tag = chunk[0]; type = chunk[1:].split('-', 1)[-1] or '_'
  const tag = chunk.charAt(0);
  const rest = chunk.slice(1);
  const dash = rest.indexOf('-');
  const type = (dash >= 0 ? rest.slice(dash + 1) : rest) || '_';
  return { tag, type };
}

function endOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === 'E' || prevTag === 'S') return true;
  if ((prevTag === 'B' || prevTag === 'I') && (tag === 'B' || tag === 'S' || tag === 'O')) return true;
  return prevTag !== 'O' && prevTag !== '.' && prevType !== type;
}

function startOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === 'B' || tag === 'S') return true;
  if ((prevTag === 'E' || prevTag === 'S' || prevTag === 'O') && (tag === 'E' || tag === 'I')) return true;
  return tag !== 'O' && tag !== '.' && prevType !== type;
}

/** Chunks of one tag sequence exactly as seqeval's `get_entities` finds them (IOB1/IOB2/IOBES). */
export function getEntities(tags: readonly string[]): Chunk[] {
  const chunks: Chunk[] = [];
  let prevTag = 'O';
  let prevType = '';
  let begin = 0;
  for (let i = 0; i <= tags.length; i++) {
    const { tag, type } = splitTag(i < tags.length ? tags[i]! : 'O');
    if (endOfChunk(prevTag, tag, prevType, type)) chunks.push({ type: prevType, start: begin, end: i - 1 });
    if (startOfChunk(prevTag, tag, prevType, type)) begin = i;
    prevTag = tag;
    prevType = type;
  }
  return chunks;
}

// seqeval's scores from chunk counts: the same prf (0 where a denominator is 0), support = gold chunks.
function entityScore(tp: number, predicted: number, gold: number): EntityScore {
  return { ...prf(tp, predicted - tp, gold - tp), support: gold };
}

/** Thrown when gold and predicted sequences do not line up; names the sentence. */
export class EntityF1InputError extends StreamError {
  constructor(message: string) {
    super(message, {
      stage: 'eval',
      hint: 'give one predicted tag sequence per gold sentence, of the same length',
    });
  }
}

/** Strict entity P/R/F1 (0-100), micro and per type, over parallel gold and predicted tag sequences. */
export function entityF1(
  gold: readonly (readonly string[])[],
  pred: readonly (readonly string[])[],
): EntityF1Result {
  if (gold.length !== pred.length)
    throw new EntityF1InputError(`entityF1: ${gold.length} gold sentences but ${pred.length} predicted`);
  const counts = new Map<string, { tp: number; gold: number; pred: number }>();
  const bump = (type: string) => {
    let c = counts.get(type);
    if (!c) counts.set(type, (c = { tp: 0, gold: 0, pred: 0 }));
    return c;
  };
  for (let s = 0; s < gold.length; s++) {
    const g = gold[s]!;
    const p = pred[s]!;
    if (g.length !== p.length)
      throw new EntityF1InputError(
        `entityF1: sentence ${s} has ${g.length} gold tags but ${p.length} predicted`,
      );
    const goldKeys = new Set<string>();
    for (const c of getEntities(g)) {
      goldKeys.add(`${c.type}\u0000${c.start}\u0000${c.end}`);
      bump(c.type).gold++;
    }
    for (const c of getEntities(p)) {
      const k = bump(c.type);
      k.pred++;
      if (goldKeys.has(`${c.type}\u0000${c.start}\u0000${c.end}`)) k.tp++;
    }
  }
  let tp = 0;
  let ng = 0;
  let np = 0;
  const per_type: Record<string, EntityScore> = {};
  for (const type of [...counts.keys()].sort()) {
    const c = counts.get(type)!;
    per_type[type] = entityScore(c.tp, c.pred, c.gold);
    tp += c.tp;
    ng += c.gold;
    np += c.pred;
  }
  return { ...entityScore(tp, np, ng), per_type, predicted: np };
}
