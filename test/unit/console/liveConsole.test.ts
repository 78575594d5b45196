// The console's state without a browser: views of real record shapes, bounded rings, dead letters
// by reason, and the HTTP routes on a real observability server.
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryDeadLetters } from '../../../src/engine/deadLetters.ts';
import { graphOf, TopologyInputError, type TopologyModule } from '../../../src/engine/topology.ts';
import { metrics } from '../../../src/obs/metrics.ts';
import * as augment from '../../../topologies/augment.ts';
import * as ingest from '../../../topologies/ingest.ts';
import * as nerRelations from '../../../topologies/ner-relations.ts';
import * as nerTagging from '../../../topologies/ner-tagging.ts';
import type { AugmentedSentence, NerPrediction } from '../../../src/io/avro/types.generated.ts';
import { ConsoleConfigError, LiveConsole } from '../../../src/console/liveConsole.ts';
import { Ring } from '../../../src/console/ring.ts';
import { consoleRoutes } from '../../../src/console/routes.ts';
import { predictionView } from '../../../src/console/views.ts';
import { startObservabilityServer, type ObservabilityServer } from '../../../src/obs/server.ts';

function prediction(id: string): NerPrediction {
  // "Lithium causes chronic kidney disease ." at document offsets 0..
  const tokens = ['Lithium', 'causes', 'chronic', 'kidney', 'disease', '.'];
  const starts = [0, 8, 15, 23, 30, 38];
  return {
    id,
    pmid: id.split(':')[0]!,
    sentenceIndex: 0,
    sentenceStart: 0,
    sentenceEnd: 39,
    tokens,
    tokenStarts: starts,
    tokenEnds: starts.map((s, i) => s + tokens[i]!.length),
    tags: ['B-Chemical', 'O', 'B-Disease', 'I-Disease', 'I-Disease', 'O'],
    entities: [
      {
        start: 0,
        end: 7,
        text: 'Lithium',
        type: 'Chemical',
        score: 0.99,
        conceptId: 'D008094',
        conceptScore: 1,
      },
      {
        start: 15,
        end: 37,
        text: 'chronic kidney disease',
        type: 'Disease',
        score: 0.9,
        conceptId: null,
        conceptScore: 0,
      },
    ],
    tokenScores: tokens.map(() => 0.9),
    modelId: 'test',
    createdAt: 0,
  };
}

const open: ObservabilityServer[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

describe('live console', () => {
  it('groups entity tokens by character offsets, with concept ids', () => {
    expect(predictionView(prediction('1:0')).segments).toEqual([
      { text: 'Lithium', type: 'Chemical', conceptId: 'D008094', conceptScore: 1 },
      { text: 'causes' },
      { text: 'chronic kidney disease', type: 'Disease' },
      { text: '.' },
    ]);
  });

  it('marks a token an entity starts inside of (the entity is not lost)', () => {
    const p = {
      ...prediction('2:0'),
      tokens: ['anti-TNF', 'therapy'],
      tokenStarts: [0, 9],
      tokenEnds: [8, 16],
      tags: ['O', 'O'],
      entities: [{ start: 5, end: 8, text: 'TNF', type: 'Gene', score: 1, conceptId: null, conceptScore: 0 }],
    };
    expect(predictionView(p).segments).toEqual([{ text: 'anti-TNF', type: 'Gene' }, { text: 'therapy' }]);
  });

  it('keeps only the last N of each tail, newest first, and counts everything', () => {
    const live = new LiveConsole({ topology: 't', recordsIn: () => 0, tail: 3 });
    for (let i = 0; i < 10; i++) live.observe(prediction(`${i}:0`));
    const s = live.snapshot();
    expect(s.predictions.map((p) => p.id)).toEqual(['9:0', '8:0', '7:0']);
    expect(s.totals.out).toBe(10);
    const r = new Ring<number>(2);
    [1, 2, 3].forEach((x) => r.push(x));
    expect(r.toArray()).toEqual([2, 3]);
  });

  it('shows an augmentation beside its source, changed tokens marked, with validity and reject reasons', () => {
    const live = new LiveConsole({ topology: 't', recordsIn: () => 0 });
    live.observe(prediction('1:0'));
    // Asserted: the fields the console reads (v2 records add quality scores it does not need).
    const aug = (valid: boolean, tokens: string[], text: string | null = null): AugmentedSentence =>
      ({
        id: `1:0:bioaug:${tokens.length}`,
        sourceId: '1:0',
        method: 'bioaug',
        seed: 1,
        modelId: null,
        tokens,
        tags: tokens.map((t) => (t === 'Lithium' ? 'B-Chemical' : 'O')),
        valid,
        newTokenShare: 0,
        lengthDiff: 0,
        generatedText: text,
        createdAt: 0,
      }) as AugmentedSentence;
    live.observe(aug(true, ['Lithium', 'worsens', 'renal', 'function', '.']));
    live.observe(aug(false, [], "(not generated: the input exceeds the generator's 512 positions)"));
    const a = live.snapshot().augmented;
    expect(a).toMatchObject({ total: 2, valid: 1, validityRate: 0.5 });
    expect(a.rejectReasons).toEqual([
      { reason: "the input exceeds the generator's 512 positions", count: 1 },
    ]);
    const ok = a.recent.find((x) => x.valid)!;
    expect(ok.source?.[0]).toEqual({ text: 'Lithium', type: 'Chemical' });
    expect(ok.segments).toEqual([
      { text: 'Lithium', type: 'Chemical' },
      { text: 'worsens', changed: true },
      { text: 'renal', changed: true },
      { text: 'function', changed: true },
      { text: '.' },
    ]);
  });

  it('lists dead letters by stage, step and class, with reason, origin and preview', async () => {
    const live = new LiveConsole({ topology: 't', recordsIn: () => 0, deadLetterTail: 2 });
    const inner = new MemoryDeadLetters();
    const dl = live.deadLetters(inner);
    for (let i = 0; i < 3; i++)
      await dl.write({
        raw: Buffer.from(`${i}|t|title only\u0000`),
        key: String(i),
        headers: {},
        origin: { kind: 'kafka', topic: 'abstracts', partition: 2, offset: String(10 + i) },
        failures: [
          {
            stage: 'input',
            stepId: 'validate-article',
            error: new TopologyInputError('validate-article', `PMID ${i}: empty abstract`),
          },
        ],
      });
    expect(inner.records).toHaveLength(3);
    const d = live.snapshot().deadLetters;
    expect(d.total).toBe(3);
    expect(d.byReason).toEqual([
      { stage: 'input', step: 'validate-article', errorClass: 'TopologyInputError', count: 3 },
    ]);
    expect(d.recent).toHaveLength(2);
    expect(d.recent[0]).toMatchObject({
      reason: 'validate-article: PMID 2: empty abstract',
      origin: 'kafka:abstracts/2@12',
      key: '2',
      preview: '2|t|title only·',
    });
  });

  it('refuses an invalid config with a typed error', () => {
    expect(() => new LiveConsole({ topology: 't', recordsIn: () => 0, tail: 0 })).toThrow(ConsoleConfigError);
  });

  it('serves the page, its assets, JSON parts and events on the metrics server, beside /metrics', async () => {
    const live = new LiveConsole({ topology: 'ner-tagging', recordsIn: () => 5, sampleMs: 100 });
    live.observe(prediction('7:0'));
    const server = await startObservabilityServer({ port: 0, host: '127.0.0.1' });
    open.push(server);
    const routes = consoleRoutes(live);
    server.use((req, res, path) => routes.handle(req, res, path));
    live.start();
    try {
      const page = await fetch(server.url + '/');
      expect(page.headers.get('content-type')).toContain('text/html');
      const html = await page.text();
      expect(html).toContain('/console/console.js');
      // Offline: no asset from another origin.
      expect(html).not.toMatch(/(src|href)="https?:/);
      expect((await fetch(server.url + '/console/console.js')).status).toBe(200);
      const preds = (await (await fetch(server.url + '/api/predictions')).json()) as {
        predictions: { id: string }[];
      };
      expect(preds.predictions.map((p) => p.id)).toEqual(['7:0']);
      expect((await fetch(server.url + '/api/nope')).status).toBe(404);
      expect((await fetch(server.url + '/metrics')).headers.get('content-type')).toContain('text/plain');
      // Events: the current state at once, then one per sample.
      const ctrl = new AbortController();
      const res = await fetch(server.url + '/api/events', { signal: ctrl.signal });
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      const reader = res.body!.getReader();
      let text = '';
      while ((text.match(/^data: /gm) ?? []).length < 2)
        text += new TextDecoder().decode((await reader.read()).value);
      const first = JSON.parse(/^data: (.*)$/m.exec(text)![1]!) as {
        topology: string;
        totals: { in: number };
      };
      expect(first).toMatchObject({ topology: 'ner-tagging', totals: { in: 5 } });
      expect(routes.clients).toBe(1);
      ctrl.abort();
      routes.close();
    } finally {
      live.stop();
    }
  });

  it('serves each built-in topology as nodes and edges at /api/steps, with the earlier fields and each step its upstream', async () => {
    const server = await startObservabilityServer({ port: 0, host: '127.0.0.1' });
    open.push(server);
    const topologies: Array<[string, TopologyModule, unknown]> = [
      ['ner-tagging', nerTagging as TopologyModule, await nerTagging.resolve({})],
      ['ner-relations', nerRelations as TopologyModule, await nerRelations.resolve({})],
      ['ingest', ingest as TopologyModule, await ingest.resolve({})],
      ['augment', augment as TopologyModule, { methods: ['bioaug', 'sis'] }],
    ];
    let current: { graph: ReturnType<typeof graphOf>; live: LiveConsole } | null = null;
    server.use((req, res, path) => (current ? consoleRoutes(current.live).handle(req, res, path) : false));
    // Figures of a step on the graph (ner: a model step) and of one that is not (listed unconnected).
    metrics.stepLatency.observe({ step: 'ner' }, 0.01);
    metrics.batchSize.observe({ step: 'ner' }, 4);
    metrics.stepLatency.observe({ step: 'console-test-stray' }, 0.01);
    for (const [name, mod, inputs] of topologies) {
      const graph = graphOf(mod, inputs);
      const live = new LiveConsole({
        topology: name,
        recordsIn: () => 0,
        sources: [...mod.streamNames.sources],
        sinks: [...mod.streamNames.sinks],
        graph: () => graph,
      });
      current = { graph, live };
      await live.sample();
      const body = (await (await fetch(server.url + '/api/steps')).json()) as {
        graph: {
          sources: string[];
          sinks: string[];
          steps: Array<{ step: string; upstream: string[]; model: boolean }>;
          nodes: Array<{ id: string; kind: string; name: string }>;
          edges: Array<{ from: string; to: string }>;
        };
      };
      const g = body.graph;
      expect(g.edges, name).toEqual(graph.edges);
      expect(g.nodes.slice(0, graph.nodes.length), name).toEqual(graph.nodes);
      expect(g.sources).toEqual(mod.streamNames.sources);
      expect(g.sinks).toEqual(mod.streamNames.sinks);
      // Every sink is fed by a step of the topology, and every step reads from something.
      for (const sink of mod.streamNames.sinks)
        expect(
          g.edges.filter((e) => e.to === `sink:${sink}`).map((e) => e.from.split(':')[0]),
          `${name}: sink ${sink}`,
        ).toEqual(['step']);
      for (const n of graph.nodes.filter((x) => x.kind === 'step'))
        expect(
          g.edges.some((e) => e.to === n.id),
          `${name}: ${n.id} has an upstream`,
        ).toBe(true);
      const stray = g.steps.find((s) => s.step === 'console-test-stray');
      expect(stray?.upstream).toEqual([]);
      expect(g.nodes).toContainEqual({
        id: 'step:console-test-stray',
        kind: 'step',
        name: 'console-test-stray',
      });
      if (name !== 'augment')
        expect(g.steps.find((s) => s.step === 'ner')).toMatchObject({
          model: true,
          upstream: ['step:ner-input'],
        });
      live.stop();
    }
    // ingest branches: three outputs of the relation step, each sink from its own step.
    const ing = graphOf(ingest as TopologyModule, await ingest.resolve({}));
    const outs = (id: string) => ing.edges.filter((e) => e.from === id).map((e) => e.to);
    expect(outs('step:relations').sort()).toEqual([
      'step:silver-sentence',
      'step:to-prediction',
      'step:training-pairs',
    ]);
    expect(outs('step:to-cid-relations')).toEqual(['sink:relations']);
  });
});
