// Steps shared by the topologies that start from abstracts (ner-tagging, ingest).
import { basename } from 'node:path';
import type { Observable, OperatorFunction } from 'rxjs';
import type { Envelope } from '../../src/engine/envelope.ts';
import type { SinkMap, SourceStreams } from '../../src/engine/runner.ts';
import { mapStep } from '../../src/engine/step.ts';
import type { Sink } from '../../src/engine/types.ts';
import type { NerPrediction, PubmedArticle } from '../../src/io/avro/types.generated.ts';
import { tagEntities, type Tagged } from '../../src/models/ner/tagEntities.ts';
import { splitSentences, type SentenceRecord } from '../../src/text/splitSentences.ts';
import { tokenizeWords } from '../../src/text/tokenizeWords.ts';
import { styleFor } from '../../src/text/tokenize.ts';
import { bridgeHyphens } from './bridgeHyphens.ts';
import { backend, batching, defaultModel, type ModelStepConfig } from './config.ts';

/** A typed input error of a topology step: the record goes to the dead letters. */
export class TopologyInputError extends Error {
  readonly retriable = false;
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(`${step}: ${message}`);
    this.name = 'TopologyInputError';
  }
}

/** The named stream a topology needs; the error lists the streams it was given. */
export function requireStream<T>(
  sources: SourceStreams,
  name: string,
  topology: string,
): Observable<Envelope<T>> {
  const s = sources[name];
  if (!s)
    throw new TopologyInputError(
      topology,
      `needs a source named "${name}"; given: ${Object.keys(sources).join(', ') || '(none)'}`,
    );
  return s as Observable<Envelope<T>>;
}

/** The named sink a topology needs; the error lists the sinks it was given. */
export function requireSink<T>(sinks: SinkMap, name: string, topology: string): Sink<T> {
  const s = sinks[name];
  if (!s)
    throw new TopologyInputError(
      topology,
      `needs a sink named "${name}"; given: ${Object.keys(sinks).join(', ') || '(none)'}`,
    );
  return s as Sink<T>;
}

/** Validates an article: a PMID, string fields, and (unless allowed) a non-empty abstract. */
export function articleStep(
  requireAbstract: boolean,
): OperatorFunction<Envelope<PubmedArticle>, Envelope<PubmedArticle>> {
  return mapStep<PubmedArticle, PubmedArticle>('validate-article', (a) => {
    if (typeof a?.pmid !== 'string' || a.pmid.trim() === '')
      throw new TopologyInputError('validate-article', 'article without a PMID');
    if (typeof a.title !== 'string' || typeof a.abstract !== 'string')
      throw new TopologyInputError('validate-article', `PMID ${a.pmid}: title and abstract must be strings`);
    if (requireAbstract && a.abstract.trim() === '')
      throw new TopologyInputError('validate-article', `PMID ${a.pmid}: empty abstract`);
    if (a.title.trim() === '' && a.abstract.trim() === '')
      throw new TopologyInputError('validate-article', `PMID ${a.pmid}: no text`);
    return a;
  });
}

/** A sentence after NER: word tokens with document offsets, tags and entities. */
export type TaggedSentence = Tagged<
  SentenceRecord & { tokens: string[]; offsets: [number, number][]; modelId: string }
>;

/** The model id written into outputs: model.json's folder name. */
export function modelIdOf(dir: string): string {
  return basename(dir.replace(/\/+$/, ''));
}

/** split -> tokenize (document offsets) -> NER: the tagged sentences of each article (fan-out with acks). */
export function taggedSentences(c: {
  ner: ModelStepConfig;
  tokenizerStyle: string;
  bridgeHyphens?: boolean;
}): OperatorFunction<Envelope<PubmedArticle>, Envelope<TaggedSentence>> {
  const model = c.ner.model ?? defaultModel('ner-bc5cdr');
  const modelId = modelIdOf(model);
  const style = styleFor(c.tokenizerStyle);
  return (articles) =>
    articles.pipe(
      splitSentences(),
      tokenizeWords<SentenceRecord>({ style, offsets: 'document' }),
      mapStep('ner-input', (s) => ({
        pmid: s.pmid,
        index: s.index,
        start: s.start,
        end: s.end,
        text: s.text,
        tokens: s.tokens.map((t) => t.text),
        offsets: s.tokens.map((t) => [t.start, t.end] as [number, number]),
        modelId,
      })),
      tagEntities({
        stepId: 'ner',
        model,
        taggerOptions: { stepId: 'ner', backend: backend(c.ner) },
        ...batching(c.ner),
      }),
      mapStep('bridge-hyphens', (s) =>
        c.bridgeHyphens === false
          ? s
          : { ...s, ...bridgeHyphens(s.tokens, s.offsets, s.tags, s.tagScores, s.entities) },
      ),
    );
}

/** The NerPrediction record of a tagged sentence (entity text sliced from the document). */
export function toPrediction(
  s: TaggedSentence,
  docText: (pmid: string) => string | undefined,
): NerPrediction {
  const text = docText(s.pmid);
  return {
    id: `${s.pmid}:${s.index}`,
    pmid: s.pmid,
    sentenceIndex: s.index,
    sentenceStart: s.start,
    sentenceEnd: s.end,
    tokens: s.tokens,
    tokenStarts: s.offsets.map((o) => o[0]),
    tokenEnds: s.offsets.map((o) => o[1]),
    tags: s.tags,
    entities: s.entities.map((e) => ({
      start: e.start,
      end: e.end,
      text:
        text !== undefined ? text.slice(e.start, e.end) : s.text.slice(e.start - s.start, e.end - s.start),
      type: e.type,
      score: e.score,
    })),
    tokenScores: s.tagScores,
    modelId: s.modelId,
    createdAt: Date.now(),
  };
}

/** The whole sentence-level NER path from articles to prediction records. */
export function sentencePipeline(c: {
  ner: ModelStepConfig;
  tokenizerStyle: string;
  bridgeHyphens?: boolean;
}): OperatorFunction<Envelope<PubmedArticle>, Envelope<NerPrediction>> {
  return (articles) =>
    articles.pipe(
      taggedSentences(c),
      // Entity offsets are document offsets already; slicing the sentence text avoids holding documents.
      mapStep('to-prediction', (s) => toPrediction(s, () => undefined)),
    );
}
