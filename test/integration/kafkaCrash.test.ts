import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { committedTotal, produceRange, readAll, waitFor } from '../helpers/kafkaData.ts';
import { createRng } from '../../src/engine/rng.ts';
import { useTestBroker } from '../helpers/setup.ts';

const N = 20_000;
const KILLS = 5;
// The worker's bounds: in flight, processing rate (50 concurrent x 20 ms) and commit interval.
const MAX_IN_FLIGHT = 500;
const CONCURRENCY = 50;
const DELAY_MS = 20;
const COMMIT_INTERVAL_MS = 100;
/**
 * What one SIGKILL can duplicate: the records written but not committed, i.e. those in flight plus
 * those acked since the last commit (at most one commit interval at full rate, plus one more for
 * the commit request itself).
 */
const DUPLICATES_PER_KILL_BOUND =
  MAX_IN_FLIGHT + 2 * Math.ceil((CONCURRENCY / DELAY_MS) * COMMIT_INTERVAL_MS);
const worker = fileURLToPath(new URL('../helpers/crashWorker.ts', import.meta.url));
const broker = useTestBroker(async (broker) => {
  await broker.createTopic('crash.in', 4);
  await broker.createTopic('crash.out', 8);
  await produceRange(broker.brokers, 'crash.in', 0, N);
});

function startWorker(): {
  child: ChildProcess;
  consumed: () => number;
  started: () => boolean;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', worker], {
    env: {
      ...process.env,
      WORKER_BROKERS: broker.brokers.join(','),
      WORKER_IN: 'crash.in',
      WORKER_OUT: 'crash.out',
      WORKER_GROUP: 'crash',
      WORKER_DELAY_MS: String(DELAY_MS),
      WORKER_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT),
      WORKER_COMMIT_INTERVAL_MS: String(COMMIT_INTERVAL_MS),
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let consumed = 0;
  // The worker's first line comes after its SIGTERM handler is installed.
  let started = false;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    started = true;
    const m = /consumed (\d+)/.exec(chunk.trim().split('\n').pop() ?? '');
    if (m) consumed = Number(m[1]);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, consumed: () => consumed, started: () => started, exited };
}

describe('worker killed with SIGKILL at random moments', () => {
  it(`loses nothing over ${KILLS} kills during a ${N}-message run`, async () => {
    const rng = createRng(20261122);
    const killedAt: number[] = [];
    const uncommitted: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const w = startWorker();
      await waitFor(() => w.consumed() > 0, 60_000, 'worker to start consuming');
      // A random moment in the first 1.5 s of processing: mid-batch, mid-send or mid-commit.
      await new Promise((r) => setTimeout(r, 100 + rng.int(1400)));
      w.child.kill('SIGKILL');
      await w.exited;
      // The worker is dead: its committed offsets are final, and after a moment so is its output.
      await new Promise((r) => setTimeout(r, 1000));
      const committed = await committedTotal(broker.brokers, 'crash', 'crash.in');
      const written = new Set((await readAll(broker.brokers, 'crash.out')).map((r) => r.key)).size;
      killedAt.push(committed);
      // Written but not committed: exactly what the next worker replays, i.e. this kill's duplicates.
      uncommitted.push(written - committed);
    }
    const last = startWorker();
    await waitFor(
      async () => (await committedTotal(broker.brokers, 'crash', 'crash.in')) >= N,
      180_000,
      'final worker to commit everything',
      500,
    );
    // Earlier workers may have committed everything already: wait until this one can take a SIGTERM.
    await waitFor(() => last.started(), 60_000, 'final worker to start');
    last.child.kill('SIGTERM');
    const code = await last.exited;
    expect(code).toBe(0);
    const out = await readAll(broker.brokers, 'crash.out');
    const counts = new Map<string, number>();
    for (const r of out) counts.set(r.key!, (counts.get(r.key!) ?? 0) + 1);
    let missing = 0;
    for (let i = 0; i < N; i++) if (!counts.has(`k${i}`)) missing++;
    const duplicates = out.length - counts.size;
    console.log(
      `crash test: kills=${KILLS} committed-at-kill=${killedAt.join(',')} written-not-committed-at-kill=${uncommitted.join(',')} ` +
        `outputs=${out.length} distinct=${counts.size} lost=${missing} duplicates=${duplicates} ` +
        `duplicates/kill=${(duplicates / KILLS).toFixed(0)} (bound ${DUPLICATES_PER_KILL_BOUND}/kill)`,
    );
    // Every kill landed before the run was complete (the worker is slowed to 20 ms per record, 50 at a time).
    expect(killedAt.filter((c) => c < N).length).toBe(KILLS);
    expect(missing).toBe(0);
    // Duplicates come only from what each kill left written and uncommitted, and that is bounded.
    for (const u of uncommitted) expect(u).toBeLessThanOrEqual(DUPLICATES_PER_KILL_BOUND);
    expect(duplicates).toBeLessThanOrEqual(uncommitted.reduce((a, b) => a + b, 0));
    expect(duplicates).toBeLessThanOrEqual(KILLS * DUPLICATES_PER_KILL_BOUND);
  }, 600_000);
});
