// The console's HTTP side: the page and its assets at / and /console/*, its data as JSON at /api/*,
// and live updates as server-sent events at /api/events. Mounted on the observability server through
// its route hook (src/obs/server.ts), so the page is served beside /metrics on the same port.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConsoleSnapshot, LiveConsole } from './liveConsole.ts';

/** Most live pages at once; each is one open response the server writes a snapshot to per sample. */
const MAX_CLIENTS = 16;
/** A client that has not read this much of what was sent is skipped until it catches up (bounded buffers). */
const MAX_BACKLOG_BYTES = 1 << 20;

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
  '/console/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
};

/** The JSON endpoints: each is one part of the snapshot (GET /api/snapshot is all of it). */
const PARTS: Record<string, (s: ConsoleSnapshot) => unknown> = {
  '/api/snapshot': (s) => s,
  '/api/steps': (s) => ({ at: s.at, totals: s.totals, graph: s.graph }),
  '/api/rates': (s) => ({ at: s.at, rates: s.rates }),
  '/api/kafka': (s) => ({ at: s.at, kafka: s.kafka }),
  '/api/dead-letters': (s) => ({ at: s.at, deadLetters: s.deadLetters }),
  '/api/predictions': (s) => ({ at: s.at, predictions: s.predictions }),
  '/api/augmented': (s) => ({ at: s.at, augmented: s.augmented }),
  '/api/relations': (s) => ({ at: s.at, relations: s.relations }),
};

/** The console's routes, for the observability server's route hook. */
export interface ConsoleRoutes {
  /** Answers the console's paths; false for any other path (the server answers those). */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
  /** Ends the live connections (before the server closes, which waits for open responses). */
  close(): void;
  readonly clients: number;
}

/** Serves `console` over HTTP: the page (assets read once, from the package), JSON and events. */
export function consoleRoutes(console: LiveConsole): ConsoleRoutes {
  // Read once: every asset is a file of this package, so the page works offline.
  const assets = new Map(
    Object.entries(ASSETS).map(([path, a]) => [
      path,
      { body: readFileSync(new URL(`./assets/${a.file}`, import.meta.url)), type: a.type },
    ]),
  );
  const clients = new Set<ServerResponse>();
  let unsubscribe: (() => void) | null = null;

  const broadcast = (s: ConsoleSnapshot): void => {
    // One serialization per sample, shared by every client.
    const frame = `data: ${JSON.stringify(s)}\n\n`;
    for (const res of clients) if (res.writableLength < MAX_BACKLOG_BYTES) res.write(frame);
  };

  const events = (req: IncomingMessage, res: ServerResponse): void => {
    if (clients.size >= MAX_CLIENTS) {
      send(res, 503, 'text/plain', `too many live pages (at most ${MAX_CLIENTS}); close one\n`);
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    // The current state at once, so a page opened between samples is not blank for a period.
    res.write(`retry: 2000\ndata: ${JSON.stringify(console.snapshot())}\n\n`);
    clients.add(res);
    unsubscribe ??= console.onSnapshot(broadcast);
    req.on('close', () => {
      clients.delete(res);
      if (clients.size === 0 && unsubscribe) {
        // No page open: snapshots are not built at all (the console costs only its rings and samples).
        unsubscribe();
        unsubscribe = null;
      }
    });
  };

  return {
    handle(req, res, path) {
      const asset = assets.get(path);
      if (asset) {
        res.writeHead(200, {
          'content-type': asset.type,
          'content-length': asset.body.length,
          'cache-control': 'no-cache',
        });
        res.end(req.method === 'HEAD' ? undefined : asset.body);
        return true;
      }
      if (path === '/api/events') {
        events(req, res);
        return true;
      }
      const part = PARTS[path];
      if (part) {
        send(res, 200, 'application/json', JSON.stringify(part(console.snapshot())) + '\n');
        return true;
      }
      if (path.startsWith('/api/') || path.startsWith('/console/')) {
        send(
          res,
          404,
          'text/plain',
          `unknown console path ${path}; valid: ${[...Object.keys(PARTS), '/api/events'].join(', ')}\n`,
        );
        return true;
      }
      return false;
    },
    close() {
      for (const res of clients) res.end();
      clients.clear();
      unsubscribe?.();
      unsubscribe = null;
    },
    get clients() {
      return clients.size;
    },
  };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
