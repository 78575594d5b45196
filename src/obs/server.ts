/**
 * HTTP endpoints for operators: /metrics (Prometheus), /healthz (liveness), /readyz (readiness).
 *
 * API:
 *   startObservabilityServer({ port, host?, readiness?, blockedThresholdMs?, registry? })
 *     => Promise<{ port, url, close() }>
 *   - port 0 picks a free port (tests); the bound port is returned.
 *   - /healthz: 200 while the process is alive and its event loop has not stalled longer than
 *     blockedThresholdMs (default 10 s) within the last window (3 x threshold); 503 otherwise.
 *   - /readyz: 200 when readiness() resolves true (e.g. consumer joined, models loaded), 503 when
 *     it resolves false, throws, or takes longer than readinessTimeoutMs.
 *   - /metrics: the prom-client registry of src/obs/metrics.ts.
 *   server.use(hook): extra routes (the live console of src/console), asked before the built-in paths
 *     but never for /metrics, /healthz or /readyz.
 *   startObservabilityFromConfig(config, readiness?) => Promise<ObservabilityServer | undefined>
 *     the same, from the `metrics` section of the loaded config (undefined when metrics.enabled is false).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { stepLogger } from './logger.ts';
import { metrics, registry as defaultRegistry } from './metrics.ts';

export type ObservabilityOptions = {
  port: number;
  host?: string;
  readiness?: () => boolean | Promise<boolean>;
  /** A stall of the event loop longer than this fails /healthz (ms, default 10 000). */
  blockedThresholdMs?: number;
  /** How long a stall keeps /healthz failing after it ended (ms, default 3 x threshold). */
  blockedWindowMs?: number;
  /** Heartbeat period used to detect stalls (ms, default min(1000, threshold / 4)). */
  heartbeatMs?: number;
  readinessTimeoutMs?: number;
  registry?: Registry;
  /** Clock, injectable for tests. */
  now?: () => number;
};

/**
 * Extra routes mounted on the server (obs is the bottom layer: upper layers such as the console
 * register here instead of obs importing them). Returns true when it answered the request.
 */
export type RouteHook = (
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
) => boolean | Promise<boolean>;

/** A started server: the port and host it is bound to, its URL, use(hook) for extra routes, and close(). */
export type ObservabilityServer = {
  port: number;
  host: string;
  url: string;
  use(hook: RouteHook): void;
  close(): Promise<void>;
};

const log = stepLogger('obs.server');

/** Starts the /metrics, /healthz and /readyz server; resolves once it listens. */
export async function startObservabilityServer(opts: ObservabilityOptions): Promise<ObservabilityServer> {
  const now = opts.now ?? (() => performance.now());
  const threshold = opts.blockedThresholdMs ?? 10_000;
  const window = opts.blockedWindowMs ?? 3 * threshold;
  const beat = opts.heartbeatMs ?? Math.max(10, Math.min(1000, Math.floor(threshold / 4)));
  const reg = opts.registry ?? defaultRegistry;
  const readinessTimeout = opts.readinessTimeoutMs ?? 5_000;
  // Loopback unless the caller says otherwise: the endpoints have no authentication.
  const host = opts.host ?? '127.0.0.1';

  // A heartbeat timer: when the loop is blocked the timer fires late, and the lateness is the stall.
  let lastBeat = now();
  let lastStallAt = -Infinity;
  let lastStallMs = 0;
  const timer = setInterval(() => {
    const t = now();
    const stall = t - lastBeat - beat;
    if (stall > threshold) {
      lastStallAt = t;
      lastStallMs = stall;
      metrics.eventLoopStalls.inc();
      log.warn({ stallMs: Math.round(stall) }, 'event loop was blocked longer than the liveness threshold');
    }
    lastBeat = t;
  }, beat);
  timer.unref();

  function health(): { ok: boolean; body: Record<string, unknown> } {
    const t = now();
    // A beat overdue by more than the threshold means the loop is blocked right now (seen after it frees up).
    const overdue = t - lastBeat - beat;
    const recentStall = t - lastStallAt < window;
    const ok = overdue <= threshold && !recentStall;
    return {
      ok,
      body: {
        status: ok ? 'ok' : 'event loop blocked',
        uptimeS: Math.round(process.uptime()),
        blockedThresholdMs: threshold,
        ...(recentStall ? { lastStallMs: Math.round(lastStallMs) } : {}),
        ...(overdue > threshold ? { blockedForMs: Math.round(overdue) } : {}),
      },
    };
  }

  async function ready(): Promise<{ ok: boolean; reason?: string }> {
    if (!opts.readiness) return { ok: true };
    let timeout: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        Promise.resolve().then(opts.readiness),
        new Promise<never>((_, reject) => {
          timeout = setTimeout(
            () => reject(new Error(`readiness check took longer than ${readinessTimeout} ms`)),
            readinessTimeout,
          );
        }),
      ]);
      return result ? { ok: true } : { ok: false, reason: 'not ready' };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    } finally {
      clearTimeout(timeout);
    }
  }

  const hooks: RouteHook[] = [];
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, 'text/plain', 'only GET and HEAD\n');
    }
    const builtIn = path === '/metrics' || path === '/healthz' || path === '/readyz';
    if (!builtIn) for (const hook of hooks) if (await hook(req, res, path)) return;
    switch (path) {
      case '/metrics':
        return send(res, 200, reg.contentType, await reg.metrics());
      case '/healthz': {
        const h = health();
        return send(res, h.ok ? 200 : 503, 'application/json', JSON.stringify(h.body) + '\n');
      }
      case '/readyz': {
        const r = await ready();
        metrics.ready.set(r.ok ? 1 : 0);
        const body = r.ok ? { status: 'ready' } : { status: 'not ready', reason: r.reason };
        return send(res, r.ok ? 200 : 503, 'application/json', JSON.stringify(body) + '\n');
      }
      case '/':
        return send(res, 200, 'text/plain', 'bioaug-stream: /metrics /healthz /readyz\n');
      default:
        return send(
          res,
          404,
          'text/plain',
          `unknown path ${path}; valid paths: /metrics, /healthz, /readyz\n`,
        );
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      log.error({ err }, 'observability request failed');
      if (!res.headersSent) send(res, 500, 'text/plain', `${err.message}\n`);
      else res.destroy();
    });
  });
  // Probes and scrapes are short; idle keep-alive sockets must not hold shutdown.
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      clearInterval(timer);
      reject(
        new Error(
          `obs.server: cannot listen on ${host}:${opts.port} (${err.code ?? err.message}); ` +
            'choose another port with --metrics-port or METRICS_PORT',
        ),
      );
    });
    server.listen(opts.port, host, () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host !== '0.0.0.0' && host !== '::' ? host : '127.0.0.1';
  log.info({ host, port }, 'serving /metrics, /healthz, /readyz');

  return {
    port,
    host,
    url: `http://${shownHost}:${port}`,
    use: (hook) => {
      hooks.push(hook);
    },
    close: () =>
      new Promise<void>((resolveClose) => {
        clearInterval(timer);
        server.closeIdleConnections();
        server.close(() => resolveClose());
      }),
  };
}

/** The `metrics` section of the loaded config (src/cli/config.ts), as far as the server reads it. */
export interface MetricsSettings {
  enabled: boolean;
  port: number;
  host: string;
  blockedThresholdMs: number;
}

/** Starts the server on config.metrics (host, port, blockedThresholdMs); undefined when metrics are disabled. */
export async function startObservabilityFromConfig(
  // obs is the bottom layer: it states the shape it reads instead of importing the CLI's Config.
  config: { metrics: MetricsSettings },
  readiness?: () => boolean | Promise<boolean>,
): Promise<ObservabilityServer | undefined> {
  const m = config.metrics;
  if (!m.enabled) return undefined;
  return startObservabilityServer({
    port: m.port,
    host: m.host,
    blockedThresholdMs: m.blockedThresholdMs,
    ...(readiness ? { readiness } : {}),
  });
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
