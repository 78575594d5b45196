// The live console in a real browser: Debian's chromium driven by playwright-core, on a real
// `bioaug-stream run ner-tagging` whose stdin the test feeds slowly (one abstract at a time), so the
// page is watched while the topology runs. With CI=true the browser must be there (.ci/run installs
// it): the test fails rather than skips.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker } from '../helpers/kafkaBroker.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'src/cli/bin.mjs');
const browserPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveBrowser = existsSync(browserPath);
// Screenshots are test artifacts (out/ is not tracked); docs/console.png is the README's copy.
const artifacts = join(root, 'out/test-artifacts');

/** The sample abstracts as PubTator blocks, by PMID. */
function sampleBlocks(): Map<string, string> {
  const text = readFileSync(join(root, 'topologies/samples/abstracts.pubtator'), 'utf8');
  const blocks = new Map<string, string>();
  for (const b of text.split(/\n\s*\n/)) {
    const pmid = /^(\d+)\|t\|/.exec(b.trim())?.[1];
    if (pmid) blocks.set(pmid, `${b.trim()}\n\n`);
  }
  return blocks;
}

/** A block under another PMID, so a fed abstract is a new record each time. */
const renamed = (block: string, pmid: string): string => block.replace(/^\d+\|/gm, `${pmid}|`);

let child: ChildProcessWithoutNullStreams;
let browser: Browser;
let page: Page;
let url = '';

/** Spawns `bioaug-stream run` and resolves with the console address it prints. */
function startRun(args: string[]): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
  const c = spawn(process.execPath, [bin, 'run', ...args, '--metrics-port', '0', '--progress-ms', '0'], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'error' },
  });
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no console address within 30 s; stderr: ${stderr}`)),
      30_000,
    );
    c.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /console: (http:\/\/\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve({ child: c, url: m[1]! });
      }
    });
    c.on('exit', (code) => reject(new Error(`run exited (${code}) before serving the console: ${stderr}`)));
  });
}

describe.skipIf(!haveBrowser && process.env.CI !== 'true')('live console in a browser', () => {
  beforeAll(async () => {
    if (!haveBrowser)
      throw new Error(`no browser at ${browserPath}: apt-get install chromium (or set CHROMIUM_PATH)`);
    const tmp = mkdtempSync(join(tmpdir(), 'bioaug-console-'));
    mkdirSync(artifacts, { recursive: true });
    ({ child, url } = await startRun([
      'ner-tagging',
      '--source',
      'stdin:pubtator',
      '--sink',
      `jsonl:${join(tmp, 'predictions.jsonl')}`,
      '--dead-letters',
      `jsonl:${join(tmp, 'dead-letters.jsonl')}`,
    ]));
    browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  });

  afterAll(async () => {
    await browser?.close();
    if (child && child.exitCode === null) {
      child.stdin.end();
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('shows entities, moving counters, a dead letter with its reason, and holds its memory', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const blocks = sampleBlocks();
    // A known abstract (lithium and chronic kidney disease) and a record without an abstract, which
    // validate-article refuses: it is dead-lettered with its reason.
    child.stdin.write(blocks.get('90000002')!);
    child.stdin.write('91000000|t|A title without any abstract.\n\n');
    await page.goto(url);

    const lithium = page.locator('mark[data-entity-type="Chemical"][data-concept-id="D008094"]', {
      hasText: /lithium/i,
    });
    await lithium.first().waitFor({ timeout: 30_000 });
    await expect(
      page.locator('mark[data-entity-type="Disease"]', { hasText: 'chronic kidney disease' }).count(),
    ).resolves.toBeGreaterThan(0);
    const dead = page.locator('#dead-recent li', { hasText: 'empty abstract' });
    await dead.first().waitFor({ timeout: 15_000 });
    await expect(dead.first().textContent()).resolves.toContain('validate-article');
    await expect(dead.first().textContent()).resolves.toContain('91000000');
    await expect(page.locator('#total-dead').textContent()).resolves.toBe('1');
    // The model step is on the graph with its batches.
    await expect(page.locator('.node.step[data-step="ner"]').textContent()).resolves.toMatch(/model.*batch/s);

    // Feed an abstract every 400 ms and watch the page for ~25 updates (one a second).
    const others = [...blocks.entries()];
    let fed = 0;
    const feeder = setInterval(() => {
      const [, block] = others[fed % others.length]!;
      child.stdin.write(renamed(block, String(92_000_000 + fed)));
      fed += 1;
    }, 400);
    const cdp = await page.context().newCDPSession(page);
    const heap = async (): Promise<number> => {
      await cdp.send('HeapProfiler.collectGarbage');
      return (await cdp.send('Runtime.getHeapUsage')).usedSize;
    };
    const updates = async (): Promise<number> =>
      Number(await page.locator('#status').getAttribute('data-updates'));
    // Page-side expressions as strings: the test is typed for Node, not the DOM.
    const waitUpdates = (n: number, timeout: number) =>
      page.waitForFunction(`Number(document.getElementById('status').dataset.updates) >= ${n}`, undefined, {
        timeout,
      });
    const nodes = (): Promise<number> => page.evaluate<number>('document.getElementsByTagName("*").length');
    const out = async (): Promise<number> =>
      Number((await page.locator('#total-out').textContent())!.replace(/,/g, ''));
    try {
      // Warm up: the tails fill (12 sentences) before memory is measured.
      const u0 = await updates();
      await waitUpdates(u0 + 6, 20_000);
      const out0 = await out();
      const heap0 = await heap();
      const nodes0 = await nodes();
      const u1 = await updates();
      await waitUpdates(u1 + 20, 40_000);
      const out1 = await out();
      const heap1 = await heap();
      const nodes1 = await nodes();
      await page.screenshot({ path: join(artifacts, 'console.png'), fullPage: true });

      expect(out1, 'outputs counter moves while records flow').toBeGreaterThan(out0);
      await expect(page.locator('#predictions li').count()).resolves.toBeLessThanOrEqual(12);
      // Bounded page: the DOM is replaced, not appended to, and the heap does not grow with updates.
      expect(nodes1, `DOM nodes ${nodes0} -> ${nodes1}`).toBeLessThan(nodes0 * 1.3 + 50);
      expect(heap1, `JS heap ${heap0} -> ${heap1} bytes`).toBeLessThan(heap0 * 1.5 + 1_000_000);
      // The same data as JSON.
      const snap = (await (await fetch(`${url}api/snapshot`)).json()) as {
        totals: { out: number; deadLetters: number };
        deadLetters: { byReason: Array<{ step: string; count: number }> };
      };
      expect(snap.totals.out).toBeGreaterThanOrEqual(out1);
      expect(snap.deadLetters.byReason).toContainEqual(
        expect.objectContaining({ step: 'validate-article', count: 1 }),
      );
    } finally {
      clearInterval(feeder);
    }
  });

  it('shows Kafka partitions with lag, committed offsets and state on the development broker', async () => {
    const broker = await startTestBroker();
    let run: ChildProcessWithoutNullStreams | undefined;
    try {
      await broker.createTopic('console.abstracts', 3);
      await broker.createTopic('console.predictions', 3);
      const brokers = ['--brokers', broker.brokers.join(',')];
      const sample = join(root, 'topologies/samples/abstracts.pubtator');
      const produced = spawnSync(
        process.execPath,
        [
          bin,
          'produce',
          `pubtator:${sample}`,
          '--topic',
          'console.abstracts',
          '--schema',
          'PubmedArticle',
          '--no-progress',
          ...brokers,
        ],
        { cwd: root, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'error' } },
      );
      expect(produced.status, produced.stderr).toBe(0);
      let kafkaUrl: string;
      ({ child: run, url: kafkaUrl } = await startRun([
        'ner-tagging',
        '--source',
        'kafka:console.abstracts',
        '--sink',
        'predictions=kafka:console.predictions',
        '--set',
        'kafka.groupId=console-test',
        ...brokers,
      ]));
      const p = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
      await p.goto(kafkaUrl);
      // Three partitions of the input topic; once the six abstracts are committed, no lag is left.
      const rows = p.locator('#kafka table tbody tr');
      await p.waitForFunction(
        `document.querySelectorAll('#kafka table tbody tr').length === 3 &&
         [...document.querySelectorAll('#kafka td.lag')].every((td) => td.textContent === '0') &&
         [...document.querySelectorAll('#kafka table tbody tr')].every((tr) => tr.children[3].textContent !== '—')`,
        undefined,
        { timeout: 45_000 },
      );
      await expect(rows.first().textContent()).resolves.toContain('console.abstracts');
      await expect(p.locator('#kafka .note').textContent()).resolves.toContain('group console-test');
      await expect(p.locator('#kafka').textContent()).resolves.toContain('running');
      const committed = await p.$$eval('#kafka table tbody tr', (trs) =>
        trs.reduce((n, tr) => n + Number(tr.children[3]!.textContent), 0),
      );
      expect(committed, 'committed offsets cover the six abstracts').toBe(6);
      await expect(
        p.locator('mark[data-entity-type="Chemical"]', { hasText: /lithium/i }).count(),
      ).resolves.toBeGreaterThan(0);
      await p.close();
    } finally {
      if (run && run.exitCode === null) {
        run.kill('SIGTERM');
        await new Promise((r) => run!.once('exit', r));
      }
      await broker.stop();
    }
  });

  it('npm start: the demo prints the address and, with --keep-open, shows augmentations and relations until Ctrl-C', async () => {
    const out = mkdtempSync(join(tmpdir(), 'bioaug-console-demo-'));
    const demo = spawn(process.execPath, [bin, 'demo', '--out', out, '--keep-open', '--console-port', '0'], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'error' },
    });
    let stderr = '';
    demo.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          if (/stays open/.test(stderr)) {
            clearInterval(timer);
            resolve();
          }
        }, 100);
        demo.on('exit', (code) => {
          clearInterval(timer);
          reject(new Error(`demo exited (${code}): ${stderr}`));
        });
      });
      const demoUrl = /console: (http:\/\/\S+)/.exec(stderr)![1]!;
      const p = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
      await p.goto(demoUrl);
      await p.locator('#augmented tbody tr').first().waitFor({ timeout: 15_000 });
      // Augmented beside the source: both columns carry entity marks, changed tokens are marked.
      const first = p.locator('#augmented tbody tr').first();
      await expect(
        first.locator('td').nth(0).locator('mark[data-entity-type]').count(),
      ).resolves.toBeGreaterThan(0);
      await expect(p.locator('#augmented .changed').count()).resolves.toBeGreaterThan(0);
      await expect(p.locator('#validity').textContent()).resolves.toMatch(/\d+ of \d+ valid/);
      // The CID relations of the sample abstracts, with concept ids.
      await expect(p.locator('#relations tbody tr').count()).resolves.toBeGreaterThan(0);
      await expect(p.locator('#relations tbody').textContent()).resolves.toContain('CID');
      await expect(p.locator('#relations mark[data-concept-id]').count()).resolves.toBeGreaterThan(0);
      await p.close();
      demo.kill('SIGINT');
      const code = await new Promise((r) => demo.once('exit', r));
      expect(code, stderr).toBe(0);
    } finally {
      if (demo.exitCode === null) demo.kill('SIGKILL');
    }
  });
});
