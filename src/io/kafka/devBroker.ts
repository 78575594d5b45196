// The development broker behind `bioaug-stream broker`: librdkafka's in-memory mock cluster with the
// topologies' topics, reachable on a fixed bootstrap port. The mock binds its brokers to random
// ports, so a small TCP relay listens on the fixed port and forwards to the first mock broker:
// clients bootstrap through it and then connect to the brokers the metadata names. Nothing is
// durable: the data lives in this process and is gone when it stops.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { StreamError } from '../../engine/errors.ts';
import { startMockCluster, type MockCluster } from './mockCluster.ts';
import { DEV_TOPICS } from './devTopics.ts';

export { DEV_TOPICS } from './devTopics.ts';

/** Options of {@link startDevBroker}. */
export interface DevBrokerOptions {
  /** Bootstrap port (default 9092; 0 picks a free one). */
  port?: number;
  /** Interface of the bootstrap port (default 127.0.0.1: a development broker is not for other hosts). */
  host?: string;
  /** Mock brokers (default 3). */
  brokers?: number;
  /** Partitions of each topic (default 3). */
  partitions?: number;
  /** Topics to create (default DEV_TOPICS). */
  topics?: readonly string[];
}

/** A running development broker. */
export interface DevBroker {
  /** What clients give as --brokers: the fixed bootstrap address. */
  bootstrap: string;
  /** The mock brokers' own addresses (random ports). */
  brokers: string[];
  topics: readonly string[];
  cluster: MockCluster;
  stop(): Promise<void>;
}

/** Starts the mock cluster, creates the topics and opens the bootstrap port; rejects when the port is taken. */
export async function startDevBroker(o: DevBrokerOptions = {}): Promise<DevBroker> {
  const host = o.host ?? '127.0.0.1';
  const port = o.port ?? 9092;
  const partitions = o.partitions ?? 3;
  const topics = o.topics ?? DEV_TOPICS;
  const count = o.brokers ?? 3;
  if (!Number.isInteger(count) || count < 1)
    throw new StreamError(`broker: --brokers must be a positive integer, got ${count}`, { stage: 'config' });
  if (!Number.isInteger(partitions) || partitions < 1)
    throw new StreamError(`broker: --partitions must be a positive integer, got ${partitions}`, {
      stage: 'config',
    });
  const cluster = startMockCluster(count);
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  try {
    for (const t of topics) cluster.createTopic(t, partitions, Math.min(3, count));
    const [upHost = '127.0.0.1', upPort = '0'] = (cluster.brokers[0] ?? '').split(':');
    server = createServer((client) => {
      const upstream = connect(Number(upPort), upHost);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        // A reset on one side ends the other: the client reconnects, as it would to a real broker.
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    const bound = await listen(server, port, host);
    const stop = async (): Promise<void> => {
      const s = server;
      server = null;
      if (!s) return;
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((r) => s.close(() => r()));
      cluster.destroy();
    };
    return { bootstrap: `${host}:${bound}`, brokers: cluster.brokers, topics, cluster, stop };
  } catch (e) {
    server?.close();
    cluster.destroy();
    throw e;
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new StreamError(`broker: cannot listen on ${host}:${port} (${e.code ?? e.message})`, {
          stage: 'config',
          ...(e.code === 'EADDRINUSE'
            ? { hint: `port ${port} is taken (a broker already running?): choose another with --port` }
            : {}),
          cause: e,
        }),
      ),
    );
    server.listen(port, host, () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    });
  });
}
