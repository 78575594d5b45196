// `bioaug-stream broker`: the in-memory development broker on a fixed bootstrap port, with the
// topologies' topics, driven by real kafkajs clients and by the CLI itself.
import { Partitioners } from 'kafkajs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createKafka } from '../../src/io/kafka/client.ts';
import { DEV_TOPICS, startDevBroker } from '../../src/io/kafka/devBroker.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'src/cli/bin.mjs');

describe('development broker', () => {
  it('serves the topologies topics through its bootstrap port: produce, list, consume back', async () => {
    const broker = await startDevBroker({ port: 0, partitions: 2 });
    try {
      expect(broker.bootstrap).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(broker.brokers).not.toContain(broker.bootstrap);
      const kafka = createKafka({ brokers: [broker.bootstrap] });
      const admin = kafka.admin();
      await admin.connect();
      const topics = await admin.listTopics();
      for (const t of DEV_TOPICS) expect(topics).toContain(t);
      expect(
        (await admin.fetchTopicMetadata({ topics: ['pubmed.abstracts'] })).topics[0]!.partitions,
      ).toHaveLength(2);
      await admin.disconnect();

      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      await producer.send({
        topic: 'labeled.sentences',
        messages: [0, 1, 2].map((i) => ({ key: `k${i}`, value: `v${i}` })),
      });
      await producer.disconnect();
      const consumer = kafka.consumer({ groupId: 'dev-broker-test' });
      await consumer.connect();
      await consumer.subscribe({ topic: 'labeled.sentences', fromBeginning: true });
      const got: string[] = [];
      await new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            got.push(String(message.value));
            if (got.length === 3) resolve();
          },
        });
      });
      await consumer.disconnect();
      expect(got.sort()).toEqual(['v0', 'v1', 'v2']);

      // The port is fixed: a second broker on it fails with the fix in its hint.
      const port = Number(broker.bootstrap.split(':')[1]);
      const err = await startDevBroker({ port }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/);
      expect((err as { hint?: string }).hint).toMatch(/--port/);
    } finally {
      await broker.stop();
    }
  });

  it('bioaug-stream broker prints its bootstrap address, says it is not durable, and stops on SIGINT with code 0', async () => {
    const child = spawn(process.execPath, [bin, 'broker', '--port', '0', '--partitions', '1'], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'error' },
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const bootstrap = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /on (127\.0\.0\.1:\d+)\n/.exec(stdout);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`broker exited early (${code}): ${stderr}`)));
    });
    expect(stdout).toMatch(/in-memory development broker \(not durable\)/);
    const admin = createKafka({ brokers: [bootstrap] }).admin();
    await admin.connect();
    expect(await admin.listTopics()).toContain('ner.predictions');
    await admin.disconnect();
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGINT');
    });
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('bioaug-stream broker: stopped');
  });
});
