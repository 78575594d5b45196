import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { metrics, registry } from '../../../src/obs/metrics.ts';
import { loadConfig } from '../../../src/cli/config.ts';
import {
  startObservabilityFromConfig,
  startObservabilityServer,
  type ObservabilityServer,
} from '../../../src/obs/server.ts';

const open: ObservabilityServer[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

async function start(opts: Parameters<typeof startObservabilityServer>[0]): Promise<ObservabilityServer> {
  const s = await startObservabilityServer({ host: '127.0.0.1', ...opts });
  open.push(s);
  return s;
}

function sampleValue(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`) || l === `${name} ${labels}`);
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('observability server', () => {
  it('serves the metrics registry with values incremented by the engine', async () => {
    const s = await start({ port: 0 });
    expect(s.port).toBeGreaterThan(0);
    metrics.consumed.inc({ source: 'kafka', topic: 'h7.test', partition: '3' }, 5);
    metrics.inFlight.set({ source: 'kafka' }, 17);
    metrics.stepLatency.observe({ step: 'h7-step' }, 0.003);
    metrics.batchCompute.observe({ step: 'h7-step', provider: 'cpu' }, 0.02);

    const res = await fetch(`${s.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(registry.contentType);
    const text = await res.text();
    expect(
      sampleValue(text, 'bioaug_messages_consumed_total', 'source="kafka",topic="h7.test",partition="3"'),
    ).toBe(5);
    expect(sampleValue(text, 'bioaug_in_flight', 'source="kafka"')).toBe(17);
    expect(sampleValue(text, 'bioaug_step_latency_seconds_bucket', 'le="0.005",step="h7-step"')).toBe(1);
    expect(sampleValue(text, 'bioaug_step_latency_seconds_bucket', 'le="0.0025",step="h7-step"')).toBe(0);
    expect(text).toContain('bioaug_batch_compute_seconds_count{step="h7-step",provider="cpu"} 1');
    expect(text).toContain('bioaug_process_process_cpu_seconds_total');

    metrics.consumed.inc({ source: 'kafka', topic: 'h7.test', partition: '3' }, 2);
    const again = await (await fetch(`${s.url}/metrics`)).text();
    expect(
      sampleValue(again, 'bioaug_messages_consumed_total', 'source="kafka",topic="h7.test",partition="3"'),
    ).toBe(7);
  });

  it('answers /readyz from the readiness callback, including failures and slowness', async () => {
    let state: boolean | 'throw' | 'hang' = false;
    const s = await start({
      port: 0,
      readinessTimeoutMs: 100,
      readiness: () => {
        if (state === 'throw') throw new Error('models not loaded: ner');
        if (state === 'hang') return new Promise<boolean>(() => {});
        return Promise.resolve(state);
      },
    });
    let res = await fetch(`${s.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not ready', reason: 'not ready' });
    expect((await registry.metrics()).split('\n')).toContain('bioaug_ready 0');

    state = true;
    res = await fetch(`${s.url}/readyz`);
    expect(res.status).toBe(200);
    expect((await registry.metrics()).split('\n')).toContain('bioaug_ready 1');

    state = 'throw';
    res = await fetch(`${s.url}/readyz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as Record<string, unknown>).reason).toBe('models not loaded: ner');

    state = 'hang';
    res = await fetch(`${s.url}/readyz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as Record<string, unknown>).reason).toContain('longer than 100 ms');
  });

  it('fails /healthz after the event loop is blocked longer than the threshold, then recovers', async () => {
    const s = await start({ port: 0, blockedThresholdMs: 400, blockedWindowMs: 2_000, heartbeatMs: 20 });
    let res = await fetch(`${s.url}/healthz`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Record<string, unknown>).status).toBe('ok');

    const until = performance.now() + 1_000;
    while (performance.now() < until) {
      // busy wait: a synchronous stall, as a runaway operator would cause
    }
    await sleep(60);
    res = await fetch(`${s.url}/healthz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; lastStallMs: number };
    expect(body.status).toBe('event loop blocked');
    expect(body.lastStallMs).toBeGreaterThan(400);
    expect(
      Number((await registry.metrics()).match(/^bioaug_event_loop_stalls_total (\d+)/m)?.[1]),
    ).toBeGreaterThan(0);

    await sleep(2_600);
    res = await fetch(`${s.url}/healthz`);
    expect(res.status).toBe(200);
  });

  it('stays healthy through stalls shorter than the threshold', async () => {
    const s = await start({ port: 0, blockedThresholdMs: 1_000, heartbeatMs: 20 });
    const until = performance.now() + 100;
    while (performance.now() < until) {
      // short stall
    }
    await sleep(60);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  });

  it('names valid paths on 404, refuses writes, and reports a taken port clearly', async () => {
    const s = await start({ port: 0 });
    const res = await fetch(`${s.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('valid paths: /metrics, /healthz, /readyz');
    expect((await fetch(`${s.url}/metrics`, { method: 'POST' })).status).toBe(405);
    await expect(startObservabilityServer({ port: s.port, host: '127.0.0.1' })).rejects.toThrow(
      /cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\).*--metrics-port/,
    );
  });

  it('starts from the loaded config, or not at all when metrics are disabled', async () => {
    const config = loadConfig({ env: { METRICS_HOST: '127.0.0.1' }, flags: { metricsPort: '0' } });
    const s = await startObservabilityFromConfig(config, () => true);
    expect(s).toBeDefined();
    open.push(s!);
    expect((await fetch(`${s!.url}/readyz`)).status).toBe(200);
    const off = loadConfig({ env: {}, flags: { set: ['metrics.enabled=false'] } });
    expect(await startObservabilityFromConfig(off)).toBeUndefined();
  });

  it('binds 127.0.0.1 unless metrics.host says otherwise (no authentication on these endpoints)', async () => {
    const config = loadConfig({ env: {}, flags: { set: ['metrics.port=0'] } });
    expect(config.metrics.host).toBe('127.0.0.1');
    const s = await startObservabilityFromConfig(config);
    open.push(s!);
    expect(s!.host).toBe('127.0.0.1');
    expect((await fetch(`http://127.0.0.1:${s!.port}/healthz`)).status).toBe(200);
    // From another interface of this machine the port is closed.
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (external) {
      const refused = await new Promise<boolean>((resolve) => {
        const sock = connect(s!.port, external);
        sock.once('connect', () => {
          sock.destroy();
          resolve(false);
        });
        sock.once('error', () => resolve(true));
      });
      expect(refused).toBe(true);
    }
    const bare = await startObservabilityServer({ port: 0 });
    open.push(bare);
    expect(bare.host).toBe('127.0.0.1');
    const wide = loadConfig({ env: { METRICS_HOST: '0.0.0.0' }, flags: { set: ['metrics.port=0'] } });
    expect(wide.metrics.host).toBe('0.0.0.0');
  });
});
