// Dead letters that cannot be written, against the mock cluster's injected errors: a payload too
// large for the dead-letter topic is truncated with headers saying so; a fatal error (authorization)
// stops the stream (policy stop) or holds the partition not ready and retries (policy block),
// never committing past the record; /readyz turns false when a partition's commit stalls; and
// SIGTERM ends a stuck worker within the hard timeout.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Observable } from 'rxjs';
import type { MockCluster } from '../helpers/kafkaBroker.ts';
import { committedTotal, produceRaw, readAll, waitFor } from '../helpers/kafkaData.ts';
import { decodeJson, encodeJson, type Rec } from '../helpers/topologies.ts';
import { KafkaSource } from '../../src/io/kafka/kafkaSource.ts';
import { KafkaSink } from '../../src/io/kafka/kafkaSink.ts';
import { KafkaDeadLetters, TRUNCATION_HEADERS } from '../../src/io/kafka/kafkaDeadLetters.ts';
import { ApiKey } from '../../src/io/kafka/mockCluster.ts';
import { runTopology, type RunningTopology } from '../../src/engine/runner.ts';
import { mapStep } from '../../src/engine/step.ts';
import { DeadLetterWriteError, type DeadLetterFailurePolicy } from '../../src/engine/deadLetters.ts';
import type { Envelope } from '../../src/engine/envelope.ts';
import { startObservabilityServer } from '../../src/obs/server.ts';
import { createCodec } from '../../src/io/avro/index.ts';
import { useTestBroker } from '../helpers/setup.ts';

const MESSAGE_TOO_LARGE = 10;
const TOPIC_AUTHORIZATION_FAILED = 29;
const UNKNOWN_TOPIC_OR_PARTITION = 3;
const DLQ_BROKER = 1;
let mock: MockCluster | undefined;
const broker = useTestBroker(async (broker) => {
  mock = broker.mock;
});

/** Fault injection needs the mock cluster: with an external broker these cases skip and say so. */
function skipNoMock(ctx: { skip: () => void }): void {
  console.warn(
    'dead-letter failure cases: skipped, the test broker is not the librdkafka mock cluster (KAFKA_BROKERS set?)',
  );
  ctx.skip();
}

/** Topics of one case: the dead-letter topic's only partition on broker 1, the others elsewhere. */
async function topics(prefix: string): Promise<{ input: string; output: string; dlq: string }> {
  const t = { input: `${prefix}.in`, output: `${prefix}.out`, dlq: `${prefix}.dlq` };
  for (const name of Object.values(t)) await broker.createTopic(name, 1);
  mock!.setPartitionLeader(t.dlq, 0, DLQ_BROKER);
  mock!.setPartitionLeader(t.output, 0, 2);
  mock!.setPartitionLeader(t.input, 0, 3);
  return t;
}

/** in -> (records with body 'poison' fail, 'hold' waits for release()) -> out; dead letters to dlq. */
function worker(
  t: { input: string; output: string; dlq: string },
  group: string,
  opts: { policy?: DeadLetterFailurePolicy; stalledCommitMs?: number; maxPayloadBytes?: number } = {},
): { source: KafkaSource<Rec>; run: RunningTopology; release: () => void } {
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  const deadLetters = new KafkaDeadLetters({
    brokers: broker.brokers,
    topic: t.dlq,
    maxPayloadBytes: opts.maxPayloadBytes ?? 4096,
  });
  const source = new KafkaSource<Rec>({
    brokers: broker.brokers,
    topics: [t.input],
    groupId: group,
    maxMessageBytes: 2048,
    commitIntervalMs: 50,
    deadLetters,
    deadLetterOnFailure: opts.policy ?? 'stop',
    deadLetterRetryMs: 250,
    stalledCommitMs: opts.stalledCommitMs ?? 300_000,
    decode: decodeJson,
  });
  const sink = new KafkaSink<Rec>({
    brokers: broker.brokers,
    topic: t.output,
    encode: encodeJson,
    lingerMs: 2,
  });
  const run = runTopology({
    sources: { in: source },
    sinks: { out: sink },
    deadLetters,
    build: (s) =>
      (s.in as Observable<Envelope<Rec>>).pipe(
        mapStep('check', async (r: Rec) => {
          if (r.body === 'poison') throw new Error(`poison record ${r.id}`);
          if (r.body === 'hold') await held;
          return r;
        }),
        sink.write(),
      ),
    config: {},
    handleSignals: false,
  });
  return { source, run, release };
}

const rec = (id: number, body = `abstract ${id}`): { key: string; value: string } => ({
  key: `k${id}`,
  value: JSON.stringify({ id, body }),
});

describe('dead letters that cannot be written', () => {
  it('a record too large for the dead-letter topic is set aside truncated, with its size and SHA-256', async (ctx) => {
    if (!mock) return skipNoMock(ctx);
    const t = await topics('dlf1');
    const big = JSON.stringify({ id: 1, body: 'x'.repeat(200_000) });
    await produceRaw(broker.brokers, t.input, [rec(0), { key: 'k1', value: big }, rec(2)]);
    const w = worker(t, 'dlf1');
    await waitFor(
      async () => (await committedTotal(broker.brokers, 'dlf1', t.input)) === 3,
      60_000,
      'first 3',
    );
    // The topic refuses the next dead letter as too large although it is under our limit.
    mock.pushBrokerRequestErrors(DLQ_BROKER, ApiKey.Produce, [MESSAGE_TOO_LARGE]);
    const poison = JSON.stringify({ id: 3, body: 'poison' });
    await produceRaw(broker.brokers, t.input, [{ key: 'k3', value: poison }, rec(4)]);
    await waitFor(async () => (await committedTotal(broker.brokers, 'dlf1', t.input)) === 5, 60_000, 'all 5');
    await w.run.stop();
    expect(mock.brokerErrorsLeft(DLQ_BROKER, ApiKey.Produce)).toBe(0);
    const dlq = new Map((await readAll(broker.brokers, t.dlq)).map((r) => [r.key, r]));
    const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
    const b = dlq.get('k1')!;
    expect(b.headers['dlq.error.class']).toBe('OversizedMessageError');
    expect(b.value!.length).toBe(4096);
    expect(b.value!.equals(Buffer.from(big).subarray(0, 4096))).toBe(true);
    expect(b.headers[TRUNCATION_HEADERS.truncated]).toBe('true');
    expect(b.headers[TRUNCATION_HEADERS.originalSize]).toBe(String(Buffer.byteLength(big)));
    expect(b.headers[TRUNCATION_HEADERS.sha256]).toBe(sha(big));
    const p = dlq.get('k3')!;
    expect(p.headers['dlq.stage']).toBe('operator');
    expect(p.value!.toString()).toBe(poison.slice(0, Math.floor(poison.length / 2)));
    expect(p.headers[TRUNCATION_HEADERS.originalSize]).toBe(String(poison.length));
    expect(p.headers[TRUNCATION_HEADERS.sha256]).toBe(sha(poison));
    expect((await readAll(broker.brokers, t.output)).map((r) => r.key).sort()).toEqual(['k0', 'k2', 'k4']);
  }, 120_000);

  it('policy stop: an authorization error ends the stream, /readyz says why, the offset is not skipped', async (ctx) => {
    if (!mock) return skipNoMock(ctx);
    const t = await topics('dlf2');
    mock.pushBrokerRequestErrors(DLQ_BROKER, ApiKey.Produce, [TOPIC_AUTHORIZATION_FAILED]);
    await produceRaw(broker.brokers, t.input, [rec(0), rec(1, 'poison'), rec(2), rec(3)]);
    const w = worker(t, 'dlf2', { policy: 'stop' });
    const obs = await startObservabilityServer({
      port: 0,
      readiness: () => {
        const h = w.run.health();
        if (!h.ready) throw new Error(h.reason);
        return true;
      },
    });
    try {
      const t0 = Date.now();
      const err = await w.run.done.then(
        () => null,
        (e: unknown) => e,
      );
      console.log(`policy stop: the stream ended ${Date.now() - t0} ms after start`);
      expect(err).toBeInstanceOf(DeadLetterWriteError);
      expect((err as Error).message).toMatch(
        /dead letter not written after 1 attempt\(s\).*TOPIC_AUTHORIZATION_FAILED|Not authorized/,
      );
      const ready = await fetch(`${obs.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { reason: string }).reason).toContain('dead letter not written');
    } finally {
      await obs.close();
    }
    // Committed at most up to the record whose dead letter failed, never past it.
    expect(await committedTotal(broker.brokers, 'dlf2', t.input)).toBeLessThanOrEqual(1);
    // After a restart (the topic writable again) the record is read again and set aside.
    const again = worker(t, 'dlf2', { policy: 'stop' });
    await waitFor(async () => (await committedTotal(broker.brokers, 'dlf2', t.input)) === 4, 60_000, 'all 4');
    await again.run.stop();
    expect((await readAll(broker.brokers, t.dlq)).map((r) => r.key)).toEqual(['k1']);
  }, 120_000);

  it('policy block: the partition is held not ready and retried; it resumes once the dead letter is written', async (ctx) => {
    if (!mock) return skipNoMock(ctx);
    const t = await topics('dlf3');
    mock.pushBrokerRequestErrors(
      DLQ_BROKER,
      ApiKey.Produce,
      Array.from({ length: 8 }, () => TOPIC_AUTHORIZATION_FAILED),
    );
    await produceRaw(broker.brokers, t.input, [rec(0), rec(1, 'poison'), rec(2), rec(3)]);
    const w = worker(t, 'dlf3', { policy: 'block' });
    await waitFor(() => !w.run.health().ready, 60_000, 'the partition to be held');
    expect(w.run.health().reason).toMatch(/partition dlf3\.in:0 blocked: a dead letter cannot be written/);
    const committedWhileBlocked = await committedTotal(broker.brokers, 'dlf3', t.input);
    await waitFor(() => w.run.health().ready, 60_000, 'the dead letter to get through');
    await waitFor(async () => (await committedTotal(broker.brokers, 'dlf3', t.input)) === 4, 60_000, 'all 4');
    await w.run.stop();
    expect(committedWhileBlocked).toBeLessThanOrEqual(1);
    expect(mock.brokerErrorsLeft(DLQ_BROKER, ApiKey.Produce)).toBe(0);
    expect((await readAll(broker.brokers, t.dlq)).map((r) => r.key)).toEqual(['k1']);
    expect((await readAll(broker.brokers, t.output)).map((r) => r.key).sort()).toEqual(['k0', 'k2', 'k3']);
  }, 120_000);

  it('/readyz turns false when a partition commit has not moved past stalledCommitMs while records wait', async (ctx) => {
    if (!mock) return skipNoMock(ctx);
    const t = await topics('dlf4');
    await produceRaw(broker.brokers, t.input, [rec(0), rec(1, 'hold'), rec(2)]);
    const w = worker(t, 'dlf4', { stalledCommitMs: 1000 });
    await waitFor(async () => (await committedTotal(broker.brokers, 'dlf4', t.input)) === 1, 60_000, 'first');
    expect(w.run.health().ready).toBe(true);
    await waitFor(() => !w.run.health().ready, 10_000, 'the stall to be noticed');
    expect(w.run.health().reason).toMatch(
      /committed offset of dlf4\.in:0 has not moved for \d+ s while records wait/,
    );
    w.release();
    await waitFor(() => w.run.health().ready, 10_000, 'ready again');
    await waitFor(async () => (await committedTotal(broker.brokers, 'dlf4', t.input)) === 3, 60_000, 'all 3');
    // Idle with nothing waiting is not a stall.
    await new Promise((r) => setTimeout(r, 1500));
    expect(w.run.health().ready).toBe(true);
    await w.run.stop();
  }, 120_000);

  it('SIGTERM ends a worker stuck on a record within the hard shutdown timeout', async (ctx) => {
    if (!mock) return skipNoMock(ctx);
    const t = await topics('dlf5');
    await produceRaw(broker.brokers, t.input, [rec(0, 'hold'), rec(1)]);
    const script = fileURLToPath(new URL('../helpers/stuckWorker.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: {
        ...process.env,
        WORKER_BROKERS: broker.brokers.join(','),
        WORKER_IN: t.input,
        WORKER_OUT: t.output,
        WORKER_SHUTDOWN_TIMEOUT_MS: '1500',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await waitFor(() => out.includes('holding'), 60_000, 'the worker to hold a record');
    const at = Date.now();
    child.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise<'alive'>((r) => setTimeout(() => r('alive'), 10_000)),
    ]);
    if (code === 'alive') child.kill('SIGKILL');
    expect(code).toBe(1);
    expect(Date.now() - at).toBeLessThan(5000);
    expect(out).toContain('shutdown did not finish within 1500 ms');
  }, 120_000);

  it('the CLI under policy stop: one DeadLetterWriteError line, exit code 1, the record read again after a restart', async (ctx) => {
    if (!mock) return skipNoMock(ctx);
    const t = await topics('dlf7');
    mock.pushBrokerRequestErrors(DLQ_BROKER, ApiKey.Produce, [TOPIC_AUTHORIZATION_FAILED]);
    // Not Avro: a decode dead letter, whose write the dead-letter topic refuses.
    await produceRaw(broker.brokers, t.input, [{ key: 'junk', value: 'not avro' }]);
    const bin = fileURLToPath(new URL('../../src/cli/bin.mjs', import.meta.url));
    const cli = (): {
      child: ReturnType<typeof spawn>;
      done: Promise<{ code: number | null; out: string }>;
    } => {
      const child = spawn(
        process.execPath,
        [
          bin,
          'run',
          'ner-tagging',
          '--source',
          `kafka:${t.input}?schema=PubmedArticle`,
          '--sink',
          `predictions=kafka:${t.output}`,
          '--dead-letters',
          `kafka:${t.dlq}`,
          '--brokers',
          broker.brokers.join(','),
          '--group-id',
          'dlf7',
          '--set',
          'metrics.enabled=false',
        ],
        { env: { ...process.env, LOG_LEVEL: 'silent', BIOSTREAM_DEAD_LETTERS_ON_FAILURE: 'stop' } },
      );
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const done = new Promise<{ code: number | null; out: string }>((resolve) =>
        child.on('exit', (code) => {
          clearTimeout(timer);
          resolve({ code, out });
        }),
      );
      return { child, done };
    };
    const r = await cli().done;
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/^bioaug-stream: error: DeadLetterWriteError: .*dead letter not written/m);
    expect(await committedTotal(broker.brokers, 'dlf7', t.input)).toBe(0);
    // The restart (the topic writable again) sets the record aside and goes on, until SIGTERM.
    const codec = await createCodec();
    const article = { pmid: '7', title: 'Lithium toxicity.', abstract: 'Lithium caused renal failure.' };
    await produceRaw(broker.brokers, t.input, [
      { key: '7', value: codec.encode('PubmedArticle', article as never) },
    ]);
    const again = cli();
    await waitFor(
      async () => (await committedTotal(broker.brokers, 'dlf7', t.input)) === 2,
      60_000,
      'commit',
    );
    again.child.kill('SIGTERM');
    const a = await again.done;
    expect(a.code, a.out).toBe(0);
    expect(a.out).not.toContain('DeadLetterWriteError');
    expect((await readAll(broker.brokers, t.dlq)).map((x) => x.key)).toEqual(['junk']);
  }, 120_000);

  // Last: it leaves unconsumed errors on broker 1's Produce stack.
  it('an unknown dead-letter topic is fatal after the client library retries, not after minutes', async (ctx) => {
    if (!mock) return skipNoMock(ctx);
    const t = await topics('dlf6');
    mock.pushBrokerRequestErrors(
      DLQ_BROKER,
      ApiKey.Produce,
      Array.from({ length: 200 }, () => UNKNOWN_TOPIC_OR_PARTITION),
    );
    await produceRaw(broker.brokers, t.input, [rec(0), rec(1, 'poison'), rec(2)]);
    const w = worker(t, 'dlf6', { policy: 'stop' });
    const started = Date.now();
    const err = await w.run.done.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeadLetterWriteError);
    expect((err as Error).message).toContain('does not host this topic-partition');
    // kafkajs' own retries (~17 s), then no more: before, 13 attempts of them (about 4 minutes).
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(await committedTotal(broker.brokers, 'dlf6', t.input)).toBeLessThanOrEqual(1);
  }, 120_000);
});
