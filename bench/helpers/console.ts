// `--console` for the benchmarks: the live console of a run (src/console) on a metrics server, with
// the page open in a real browser (Debian chromium via playwright-core) receiving its updates, so a
// benchmark measures the engine with the page open and updating (issue 16, item 5). Without a
// browser at CHROMIUM_PATH (default /usr/bin/chromium) an events client reads /api/events instead.
import { existsSync } from 'node:fs';
import { startObservabilityServer } from '../../src/obs/server.ts';
import { createConsole, mountConsole } from '../../src/cli/consoleWiring.ts';

/** A console open during a benchmark: feed it outputs, close it at the end. */
export interface BenchConsole {
  observe(value: unknown): void;
  /** Where the console reads records in from (the current run's source). */
  setRecordsIn(f: () => number): void;
  /** How the page was open: 'browser' or 'events'. */
  viewer: string;
  close(): Promise<void>;
}

/** True when the benchmark's arguments ask for the console. */
export const wantsConsole = (args: string[]): boolean => args.includes('--console');

/** Starts the console and opens its page; resolves once the page has received an update. */
export async function startBenchConsole(topology: string): Promise<BenchConsole> {
  let recordsIn = (): number => 0;
  const server = await startObservabilityServer({ port: 0, host: '127.0.0.1' });
  const mounted = mountConsole(createConsole({ topology, recordsIn: () => recordsIn() }), server);
  const browserPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  let closeViewer: () => Promise<void>;
  let viewer: string;
  if (existsSync(browserPath)) {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox'] });
    const page = await browser.newPage();
    await page.goto(mounted.url);
    await page.waitForFunction('Number(document.getElementById("status").dataset.updates) >= 1');
    viewer = 'browser';
    closeViewer = () => browser.close();
  } else {
    const ctrl = new AbortController();
    const res = await fetch(`${mounted.url}api/events`, { signal: ctrl.signal });
    const reader = res.body!.getReader();
    void (async () => {
      for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) return;
    })();
    viewer = 'events';
    closeViewer = () => {
      ctrl.abort();
      return Promise.resolve();
    };
  }
  return {
    observe: (v) => mounted.live.observe(v),
    setRecordsIn: (f) => {
      recordsIn = f;
    },
    viewer,
    close: async () => {
      await closeViewer();
      mounted.close();
      await server.close();
    },
  };
}
