// The names of the project's message schemas, apart from the schema loader (schemas.ts, which pulls in
// avsc): the CLI lists them in its help text without loading Avro.
import type { GeneratedSchemaName } from './types.generated.ts';

/** Every message schema of the project, by record name (file `schemas/<name>.avsc`). */
export const SCHEMA_NAMES = [
  'PubmedArticle',
  'Sentence',
  'NerPrediction',
  'RelationTriple',
  'LabeledSentence',
  'AugmentedSentence',
  'TrainingPair',
  'DeadLetter',
] as const;

/** One of the project's message schemas. */
export type SchemaName = (typeof SCHEMA_NAMES)[number];

// Compile-time guard: the list above and the generated types name the same schemas.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _sameNames: Same<SchemaName, GeneratedSchemaName> = true;
void _sameNames;
