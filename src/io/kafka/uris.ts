// Kafka URIs of the CLI (`kafka:<topic>[?schema=Name]`) and the default Avro schema of well-known topics.
import { SCHEMA_NAMES, type SchemaName } from '../avro/schemaNames.ts';

/** Schema of the project's standard topics, used when a URI names none. */
export const TOPIC_SCHEMAS: Record<string, SchemaName> = {
  'pubmed.abstracts': 'PubmedArticle',
  sentences: 'Sentence',
  'ner.predictions': 'NerPrediction',
  relations: 'RelationTriple',
  'labeled.sentences': 'LabeledSentence',
  'augmented.sentences': 'AugmentedSentence',
  'training.pairs': 'TrainingPair',
  'dead.letters': 'DeadLetter',
};

/** A parsed `kafka:` URI. */
export interface KafkaUri {
  topic: string;
  schema?: SchemaName;
}

/** True for `kafka:...` URIs. */
export function isKafkaUri(uri: string): boolean {
  return uri.startsWith('kafka:');
}

/** Parses `kafka:<topic>[?schema=<Name>]`; errors list the valid schema names. */
export function parseKafkaUri(uri: string): KafkaUri {
  if (!isKafkaUri(uri))
    throw new Error(`'${uri}' is not a Kafka URI (expected kafka:<topic>[?schema=<Name>])`);
  const [topic = '', query = ''] = uri.slice('kafka:'.length).split('?', 2);
  if (!/^[A-Za-z0-9._-]+$/.test(topic))
    throw new Error(`'${uri}': invalid topic name '${topic}' (letters, digits, '.', '_', '-')`);
  const params = new URLSearchParams(query);
  const schema = params.get('schema') ?? TOPIC_SCHEMAS[topic];
  if (schema !== undefined && !(SCHEMA_NAMES as readonly string[]).includes(schema))
    throw new Error(`'${uri}': unknown schema '${schema}'; valid: ${SCHEMA_NAMES.join(', ')}`);
  return schema === undefined ? { topic } : { topic, schema: schema as SchemaName };
}
