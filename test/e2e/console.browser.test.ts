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
    // The model step is on the graph with its batches (step figures come with the next sampling period,
    // which can follow the first predictions: wait for it).
    await expect
      .poll(() => page.locator('.node.step[data-step="ner"]').textContent(), { timeout: 15_000 })
      .toMatch(/model.*batch/s);

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
      // the predictions tail updates on its own event: wait for it (count() alone does not wait).
      // The tail keeps the last 12 sentences, and which abstracts come last depends on the order
      // the three partitions are fetched in: accept the drug of any of the six (each title names it).
      const drugs = /cisplatin|lithium|amiodarone|statin|valpro|doxorubicin|dexrazoxane|anthracycline/i;
      const mark = p.locator('mark[data-entity-type="Chemical"]', { hasText: drugs });
      await mark.first().waitFor({ timeout: 30_000 });
      await expect(mark.count()).resolves.toBeGreaterThan(0);
      await p.close();
    } finally {
      if (run && run.exitCode === null) {
        run.kill('SIGTERM');
        await new Promise((r) => run!.once('exit', r));
      }
      await broker.stop();
    }
  });

  describe('npm start (demo --keep-open: ingest on the sample abstracts)', () => {
    let demo: ReturnType<typeof spawn>;
    let demoUrl = '';
    let stderr = '';

    beforeAll(async () => {
      const out = mkdtempSync(join(tmpdir(), 'bioaug-console-demo-'));
      demo = spawn(process.execPath, [bin, 'demo', '--out', out, '--keep-open', '--console-port', '0'], {
        cwd: root,
        env: { ...process.env, LOG_LEVEL: 'error' },
      });
      demo.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
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
      demoUrl = /console: (http:\/\/\S+)/.exec(stderr)![1]!;
    });

    afterAll(() => {
      if (demo && demo.exitCode === null) demo.kill('SIGKILL');
    });

    it("draws ingest's graph: branches drawn from the step that fans out, each sink from its own step", async () => {
      const p = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
      await p.goto(demoUrl);
      await p.locator('path.edge[data-to="sink:pairs"]').waitFor({ state: 'attached', timeout: 15_000 });
      // Every edge drawn, from the box of the node it leaves to the box of the node it reaches.
      type Box = { left: number; right: number; top: number; bottom: number };
      type Pt = { x: number; y: number };
      // Page-side as a string (the test is typed for Node, not the DOM): each path's ends on screen and
      // the boxes of the nodes it names.
      const drawn = await p.evaluate<
        Array<{ from: string; to: string; start: Pt; end: Pt; fromBox: Box; toBox: Box }>
      >(`[...document.querySelectorAll('path.edge')].map((g) => {
        const box = (id) => document.querySelector('[data-node="' + id + '"]').getBoundingClientRect().toJSON();
        const m = g.getScreenCTM();
        const at = (len) => { const q = g.getPointAtLength(len).matrixTransform(m); return { x: q.x, y: q.y }; };
        return { from: g.dataset.from, to: g.dataset.to, start: at(0), end: at(g.getTotalLength()),
          fromBox: box(g.dataset.from), toBox: box(g.dataset.to) };
      })`);
      const near = (pt: Pt, b: Box) =>
        pt.x >= b.left - 2 && pt.x <= b.right + 2 && pt.y >= b.top - 2 && pt.y <= b.bottom + 2;
      for (const e of drawn) {
        expect(near(e.start, e.fromBox), `${e.from} -> ${e.to} starts at ${e.from}`).toBe(true);
        expect(near(e.end, e.toBox), `${e.from} -> ${e.to} ends at ${e.to}`).toBe(true);
      }
      const outOf = (id: string) =>
        drawn
          .filter((e) => e.from === id)
          .map((e) => e.to)
          .sort();
      const into = (id: string) => drawn.filter((e) => e.to === id).map((e) => e.from);
      // The branches: documents to CID relations and to sentences; analyzed sentences to NER
      // predictions, augmentation and training pairs, drawn to the right of the step they leave.
      expect(outOf('step:normalize-concepts')).toEqual(['step:cid-relations', 'step:document-sentences']);
      expect(outOf('step:relations')).toEqual([
        'step:silver-sentence',
        'step:to-prediction',
        'step:training-pairs',
      ]);
      for (const e of drawn.filter((x) => x.from === 'step:relations'))
        expect(e.toBox.left, `${e.to} right of relations`).toBeGreaterThan(e.fromBox.right);
      expect(into('sink:predictions')).toEqual(['step:to-prediction']);
      expect(into('sink:relations')).toEqual(['step:to-cid-relations']);
      expect(into('sink:augmented')).toEqual(['step:quality-filter']);
      expect(into('sink:pairs')).toEqual(['step:training-pairs']);
      expect(into('step:validate-article')).toEqual(['source:abstracts']);
      // Each step node keeps its figures: a model step with its batches and latency per batch.
      await expect(p.locator('.node.step[data-step="relations"]').textContent()).resolves.toMatch(
        /model.*rec\/s.*in flight \d+.*batch [\d.]+.*ms\/batch/s,
      );
      await expect(
        p.locator('.node.step[data-step="to-prediction"]').getAttribute('data-state'),
      ).resolves.toMatch(/^(busy|waiting|idle)$/);
      // The same graph as JSON.
      const api = (await (await fetch(`${demoUrl}api/steps`)).json()) as {
        graph: {
          edges: Array<{ from: string; to: string }>;
          steps: Array<{ step: string; upstream: string[] }>;
        };
      };
      expect(api.graph.edges.map((e) => `${e.from} ${e.to}`).sort()).toEqual(
        drawn.map((e) => `${e.from} ${e.to}`).sort(),
      );
      expect(api.graph.steps.find((x) => x.step === 'to-prediction')?.upstream).toEqual(['step:relations']);
      await p.screenshot({ path: join(artifacts, 'console-ingest.png'), fullPage: true });
      await p.close();
    });

    it('prints the address and, with --keep-open, shows augmentations and relations until Ctrl-C', async () => {
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
    });
  });
});
