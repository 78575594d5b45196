// In-process Kafka-protocol broker: librdkafka's mock cluster, loaded through koffi.
// It runs on librdkafka's own threads, so it keeps answering while the JS event loop is busy.
import koffi from 'koffi';

const DEFAULT_LIB = '/usr/lib/x86_64-linux-gnu/librdkafka.so.1';

/** Kafka API keys accepted by `pushRequestErrors`. */
export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  SyncGroup: 14,
} as const;

/** Kafka protocol error codes useful for fault injection (retriable ones). */
export const KafkaErr = {
  NOT_LEADER_FOR_PARTITION: 6,
  REQUEST_TIMED_OUT: 7,
  NOT_ENOUGH_REPLICAS: 19,
  NOT_COORDINATOR: 16,
  COORDINATOR_NOT_AVAILABLE: 15,
  LEADER_NOT_AVAILABLE: 5,
} as const;

type Bindings = {
  confNew: () => unknown;
  confSet: (conf: unknown, name: string, value: string, errstr: Buffer, size: number) => number;
  kafkaNew: (type: number, conf: unknown, errstr: Buffer, size: number) => unknown;
  kafkaDestroy: (rk: unknown) => void;
  clusterNew: (rk: unknown, brokers: number) => unknown;
  clusterDestroy: (mc: unknown) => void;
  bootstraps: (mc: unknown) => string;
  topicCreate: (mc: unknown, topic: string, partitions: number, replication: number) => number;
  brokerDown: (mc: unknown, id: number) => number;
  brokerUp: (mc: unknown, id: number) => number;
  brokerRtt: (mc: unknown, id: number, ms: number) => number;
  coordinatorSet: (mc: unknown, keyType: string, key: string, id: number) => number;
  partitionSetLeader: (mc: unknown, topic: string, partition: number, id: number) => number;
  pushErrors: (mc: unknown, apiKey: number, cnt: number, errs: number[]) => void;
  pushBrokerErrors: (mc: unknown, id: number, apiKey: number, cnt: number, ...pairs: unknown[]) => number;
  brokerErrorCount: (mc: unknown, id: number, apiKey: number, cnt: [number]) => number;
};

let bindings: Bindings | null = null;

function load(path: string): Bindings {
  if (bindings) return bindings;
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load(path);
  } catch (e) {
    throw new Error(
      `mockCluster: cannot load librdkafka at ${path} (install the Debian package librdkafka1): ${String(e)}`,
      { cause: e },
    );
  }
  koffi.opaque('rd_kafka_conf_t');
  koffi.opaque('rd_kafka_t');
  koffi.opaque('rd_kafka_mock_cluster_t');
  bindings = {
    confNew: lib.func('rd_kafka_conf_t *rd_kafka_conf_new()'),
    confSet: lib.func(
      'int rd_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, _Out_ uint8_t *errstr, size_t size)',
    ),
    kafkaNew: lib.func(
      'rd_kafka_t *rd_kafka_new(int type, rd_kafka_conf_t *conf, _Out_ uint8_t *errstr, size_t size)',
    ),
    kafkaDestroy: lib.func('void rd_kafka_destroy(rd_kafka_t *rk)'),
    clusterNew: lib.func('rd_kafka_mock_cluster_t *rd_kafka_mock_cluster_new(rd_kafka_t *rk, int cnt)'),
    clusterDestroy: lib.func('void rd_kafka_mock_cluster_destroy(rd_kafka_mock_cluster_t *mc)'),
    bootstraps: lib.func('const char *rd_kafka_mock_cluster_bootstraps(rd_kafka_mock_cluster_t *mc)'),
    topicCreate: lib.func(
      'int rd_kafka_mock_topic_create(rd_kafka_mock_cluster_t *mc, const char *topic, int partitions, int replication)',
    ),
    brokerDown: lib.func('int rd_kafka_mock_broker_set_down(rd_kafka_mock_cluster_t *mc, int32_t id)'),
    brokerUp: lib.func('int rd_kafka_mock_broker_set_up(rd_kafka_mock_cluster_t *mc, int32_t id)'),
    brokerRtt: lib.func('int rd_kafka_mock_broker_set_rtt(rd_kafka_mock_cluster_t *mc, int32_t id, int ms)'),
    coordinatorSet: lib.func(
      'int rd_kafka_mock_coordinator_set(rd_kafka_mock_cluster_t *mc, const char *type, const char *key, int32_t id)',
    ),
    partitionSetLeader: lib.func(
      'int rd_kafka_mock_partition_set_leader(rd_kafka_mock_cluster_t *mc, const char *topic, int32_t partition, int32_t id)',
    ),
    pushErrors: lib.func(
      'void rd_kafka_mock_push_request_errors_array(rd_kafka_mock_cluster_t *mc, int16_t apiKey, size_t cnt, const int *errs)',
    ),
    // Variadic: cnt pairs of (int error code, int rtt ms).
    pushBrokerErrors: lib.func(
      'int rd_kafka_mock_broker_push_request_error_rtts(rd_kafka_mock_cluster_t *mc, int32_t id, int16_t apiKey, size_t cnt, ...)',
    ),
    brokerErrorCount: lib.func(
      'int rd_kafka_mock_broker_error_stack_cnt(rd_kafka_mock_cluster_t *mc, int32_t id, int16_t apiKey, _Out_ size_t *cnt)',
    ),
  };
  return bindings;
}

function check(step: string, code: number): void {
  if (code !== 0) throw new Error(`mockCluster.${step}: librdkafka returned error code ${code}`);
}

/** A running librdkafka mock cluster with fault-injection controls. */
export interface MockCluster {
  readonly brokers: string[];
  readonly brokerIds: number[];
  createTopic(name: string, partitions: number, replication?: number): void;
  setBrokerDown(id: number): void;
  setBrokerUp(id: number): void;
  setBrokerRtt(id: number, ms: number): void;
  /** Moves the group (or transaction) coordinator of `key` to broker `id`. */
  setCoordinator(keyType: 'group' | 'transaction', key: string, id: number): void;
  setPartitionLeader(topic: string, partition: number, id: number): void;
  /** Makes the next `errors.length` requests of `apiKey` (cluster-wide) fail with those codes. */
  pushRequestErrors(apiKey: number, errors: number[]): void;
  /**
   * Makes the next `errors.length` requests of `apiKey` to broker `id` fail with those codes, each
   * answered after `rttMs`; `brokerErrorsLeft` tells how many are still waiting for a request.
   */
  pushBrokerRequestErrors(id: number, apiKey: number, errors: number[], rttMs?: number): void;
  /** Errors pushed with pushBrokerRequestErrors that no request has consumed yet. */
  brokerErrorsLeft(id: number, apiKey: number): number;
  destroy(): void;
}

/** Starts a mock cluster of `brokerCount` brokers (ids 1..n) inside this process. */
export function startMockCluster(
  brokerCount = 3,
  libPath = process.env.LIBRDKAFKA_PATH ?? DEFAULT_LIB,
): MockCluster {
  const b = load(libPath);
  const errstr = Buffer.alloc(512);
  const conf = b.confNew();
  // The host handle never connects anywhere: it only owns the mock cluster's threads.
  check('conf', b.confSet(conf, 'log_level', '0', errstr, errstr.length));
  const rk = b.kafkaNew(0, conf, errstr, errstr.length);
  if (!rk)
    throw new Error(`mockCluster: rd_kafka_new failed: ${errstr.toString('utf8').replace(/\0.*$/s, '')}`);
  const mc = b.clusterNew(rk, brokerCount);
  if (!mc) {
    b.kafkaDestroy(rk);
    throw new Error('mockCluster: rd_kafka_mock_cluster_new returned NULL');
  }
  const brokers = b.bootstraps(mc).split(',');
  let destroyed = false;
  const live = (step: string): unknown => {
    if (destroyed) throw new Error(`mockCluster.${step}: cluster already destroyed`);
    return mc;
  };
  return {
    brokers,
    brokerIds: Array.from({ length: brokerCount }, (_, i) => i + 1),
    createTopic: (name, partitions, replication = Math.min(3, brokerCount)) =>
      check('createTopic', b.topicCreate(live('createTopic'), name, partitions, replication)),
    setBrokerDown: (id) => check('setBrokerDown', b.brokerDown(live('setBrokerDown'), id)),
    setBrokerUp: (id) => check('setBrokerUp', b.brokerUp(live('setBrokerUp'), id)),
    setBrokerRtt: (id, ms) => check('setBrokerRtt', b.brokerRtt(live('setBrokerRtt'), id, ms)),
    setCoordinator: (keyType, key, id) =>
      check('setCoordinator', b.coordinatorSet(live('setCoordinator'), keyType, key, id)),
    setPartitionLeader: (topic, partition, id) =>
      check('setPartitionLeader', b.partitionSetLeader(live('setPartitionLeader'), topic, partition, id)),
    pushRequestErrors: (apiKey, errors) =>
      b.pushErrors(live('pushRequestErrors'), apiKey, errors.length, errors),
    pushBrokerRequestErrors: (id, apiKey, errors, rttMs = 0) => {
      // koffi passes a bounded number of variadic arguments: push in chunks (the stack appends).
      for (let i = 0; i < errors.length; i += 8)
        check(
          'pushBrokerRequestErrors',
          b.pushBrokerErrors(
            live('pushBrokerRequestErrors'),
            id,
            apiKey,
            Math.min(8, errors.length - i),
            ...errors.slice(i, i + 8).flatMap((e) => ['int', e, 'int', rttMs]),
          ),
        );
    },
    brokerErrorsLeft: (id, apiKey) => {
      const out: [number] = [0];
      check('brokerErrorsLeft', b.brokerErrorCount(live('brokerErrorsLeft'), id, apiKey, out));
      return Number(out[0]);
    },
    destroy: () => {
      if (destroyed) return;
      destroyed = true;
      b.clusterDestroy(mc);
      b.kafkaDestroy(rk);
    },
  };
}
