// The topics of the development broker (devBroker.ts), apart from the broker itself (which loads
// librdkafka's mock cluster): `bioaug-stream broker --help` lists them without loading it.
import { TOPIC_SCHEMAS } from './uris.ts';

/** Topics the development broker creates: the standard topics of the topologies and their dead letters. */
export const DEV_TOPICS: readonly string[] = [
  ...Object.keys(TOPIC_SCHEMAS),
  'pubmed.abstracts.dlq',
  'labeled.sentences.dlq',
];
