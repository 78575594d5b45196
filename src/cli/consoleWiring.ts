// Wires the live console (src/console) to a run: its routes on the observability server, its
// sampling started, and one line telling where the page is. cli composes the two because obs sits
// below console in the layers and may not import it.
import { LiveConsole, type LiveConsoleInit } from '../console/liveConsole.ts';
import { consoleRoutes } from '../console/routes.ts';
import type { ObservabilityServer } from '../obs/server.ts';

/** A console mounted on a server; close() ends its live pages (before the server closes). */
export interface MountedConsole {
  live: LiveConsole;
  url: string;
  close(): void;
}

/** Creates the console of a run (not yet mounted: dead letters and outputs can be wired to it first). */
export function createConsole(init: LiveConsoleInit): LiveConsole {
  return new LiveConsole(init);
}

/** Mounts `live` at / of `server`, starts its sampling and prints the page's address to stderr. */
export function mountConsole(live: LiveConsole, server: ObservabilityServer): MountedConsole {
  const routes = consoleRoutes(live);
  server.use((req, res, path) => routes.handle(req, res, path));
  live.start();
  const url = `${server.url}/`;
  process.stderr.write(`console: ${url}\n`);
  return {
    live,
    url,
    close: () => {
      routes.close();
      live.stop();
    },
  };
}
