// The topology graph recorded while build() wires it (src/engine/graph.ts): the edges of every built-in
// topology, and the recording through lifted RxJS operators, branches, merges and deferred parts.
import { Observable, map, of, tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { branches, mergeBranches } from '../../../src/engine/branch.ts';
import type { Envelope } from '../../../src/engine/envelope.ts';
import { TopologyGraph, type GraphDescription } from '../../../src/engine/graph.ts';
import { regroupStep } from '../../../src/engine/regroupStep.ts';
import { runTopology } from '../../../src/engine/runner.ts';
import { flatMapStep, mapStep } from '../../../src/engine/step.ts';
import { graphOf, type TopologyModule } from '../../../src/engine/topology.ts';
import { MemorySink, MemorySource } from '../../../src/engine/memory.ts';
import * as augment from '../../../topologies/augment.ts';
import * as ingest from '../../../topologies/ingest.ts';
import * as nerRelations from '../../../topologies/ner-relations.ts';
import * as nerTagging from '../../../topologies/ner-tagging.ts';

const edges = (g: GraphDescription): string[] => g.edges.map((e) => `${e.from} -> ${e.to}`);
const from = (g: GraphDescription, id: string): string[] =>
  g.edges.filter((e) => e.from === id).map((e) => e.to);
const into = (g: GraphDescription, id: string): string[] =>
  g.edges.filter((e) => e.to === id).map((e) => e.from);

/** The NER steps every abstract-reading topology starts with (src/models/tagAbstracts.ts). */
const TAG_ABSTRACTS = [
  'source:abstracts',
  'step:validate-article',
  'step:split-sentences',
  'step:tokenize-words',
  'step:ner-input',
  'step:ner',
  'step:bridge-hyphens',
  'step:regroup-sentences',
  'step:resolve-abbreviations',
  'step:join-code-names',
  'step:split-slashes',
  'step:harmonize-mentions',
  'step:balance-brackets',
  'step:drop-gene-names',
  'step:normalize-concepts',
];
const chain = (ids: string[]): string[] => ids.slice(1).map((id, i) => `${ids[i]} -> ${id}`);

/** Every node is reached from a source, and every step and sink has an upstream. */
function expectConnected(g: GraphDescription): void {
  for (const n of g.nodes)
    if (n.kind !== 'source') expect(into(g, n.id), `${n.id} has an upstream`).not.toEqual([]);
  for (const n of g.nodes)
    if (n.kind !== 'sink') expect(from(g, n.id), `${n.id} feeds something`).not.toEqual([]);
}

describe('graphs of the built-in topologies', () => {
  it('ner-tagging is one chain from the source to its sink', async () => {
    const g = graphOf(nerTagging as TopologyModule, await nerTagging.resolve({}));
    expect(edges(g)).toEqual(
      chain([...TAG_ABSTRACTS, 'step:document-sentences', 'step:to-prediction', 'sink:predictions']),
    );
  });

  it('ner-relations branches after normalization into predictions and relations', async () => {
    const g = graphOf(nerRelations as TopologyModule, await nerRelations.resolve({}));
    expectConnected(g);
    expect(from(g, 'step:normalize-concepts').sort()).toEqual([
      'step:cid-relations',
      'step:document-sentences',
    ]);
    expect(into(g, 'sink:predictions')).toEqual(['step:to-prediction']);
    expect(into(g, 'sink:relations')).toEqual(['step:to-cid-relations']);
    expect(edges(g)).toEqual(
      expect.arrayContaining([
        ...chain(TAG_ABSTRACTS),
        ...chain([
          'step:normalize-concepts',
          'step:cid-relations',
          'step:to-cid-relations',
          'sink:relations',
        ]),
        ...chain([
          'step:normalize-concepts',
          'step:document-sentences',
          'step:to-prediction',
          'sink:predictions',
        ]),
      ]),
    );
    expect(g.edges).toHaveLength(TAG_ABSTRACTS.length - 1 + 3 + 3);
  });

  it('ingest: documents to CID relations and to sentences; analyzed sentences to NER, augmentation and training pairs', async () => {
    const g = graphOf(ingest as TopologyModule, await ingest.resolve({}));
    expectConnected(g);
    expect(edges(g)).toEqual(
      expect.arrayContaining([
        ...chain(TAG_ABSTRACTS),
        ...chain([
          'step:normalize-concepts',
          'step:cid-relations',
          'step:to-cid-relations',
          'sink:relations',
        ]),
        ...chain([
          'step:normalize-concepts',
          'step:document-sentences',
          'step:keywords',
          'step:relation-pairs',
          'step:relations',
        ]),
        ...chain(['step:relations', 'step:to-prediction', 'sink:predictions']),
        ...chain([
          'step:relations',
          'step:silver-sentence',
          'step:bioaug-corrupt',
          'step:generate',
          'step:agreement',
          'step:quality-filter',
          'sink:augmented',
        ]),
        ...chain(['step:relations', 'step:training-pairs', 'sink:pairs']),
      ]),
    );
    expect(from(g, 'step:relations').sort()).toEqual([
      'step:silver-sentence',
      'step:to-prediction',
      'step:training-pairs',
    ]);
    // Each sink from its own step, and the step id `relations` is not the sink `relations`.
    expect(into(g, 'sink:predictions')).toEqual(['step:to-prediction']);
    expect(into(g, 'sink:relations')).toEqual(['step:to-cid-relations']);
    expect(into(g, 'sink:augmented')).toEqual(['step:quality-filter']);
    expect(into(g, 'sink:pairs')).toEqual(['step:training-pairs']);
    expect(g.nodes.filter((n) => n.kind === 'sink').map((n) => n.name)).toEqual([
      'predictions',
      'relations',
      'augmented',
      'pairs',
    ]);
  });

  it('augment: one branch per method after the keyword step, merged into the quality filter', () => {
    const g = graphOf(augment as TopologyModule, {
      methods: ['bioaug', 'sis', 'mr'],
      state: { mentions: {}, tokens: {} } as never,
    });
    expectConnected(g);
    expect(from(g, 'step:keywords').sort()).toEqual(['step:bioaug-corrupt', 'step:mr', 'step:sis']);
    expect(into(g, 'step:quality-filter').sort()).toEqual([
      'step:generate',
      'step:mr-record',
      'step:sis-record',
    ]);
    expect(into(g, 'sink:augmented')).toEqual(['step:quality-filter']);
    expect(edges(g)).toEqual(
      expect.arrayContaining([
        'source:sentences -> step:validate-sentence',
        'step:validate-sentence -> step:keywords',
        'step:bioaug-corrupt -> step:generate',
        'step:sis -> step:sis-record',
      ]),
    );
    // The simple methods alone never wait for the keyword model: the branches start at validation.
    const simple = graphOf(augment as TopologyModule, { methods: ['sis'] });
    expect(edges(simple)).toEqual([
      'source:sentences -> step:validate-sentence',
      'step:validate-sentence -> step:sis',
      'step:sis -> step:sis-record',
      'step:sis-record -> step:quality-filter',
      'step:quality-filter -> sink:augmented',
    ]);
  });
});

describe('recording', () => {
  const env = (value: number): Envelope<number> => ({ value }) as unknown as Envelope<number>;

  it('goes through lifted RxJS operators, branches, merges and regrouped sub-pipelines', () => {
    const graph = new TopologyGraph();
    const src = graph.source('in', new Observable<Envelope<number>>());
    const a = src.pipe(
      tap(() => undefined),
      mapStep('a', (x: number) => x + 1),
      map((e) => e),
    );
    const b = branches(a, ['left', 'right'] as const);
    const left = b.left.pipe(flatMapStep('left', (x: number) => [x]));
    const right = b.right.pipe(
      regroupStep(
        'regroup',
        mapStep('inner', (x: number) => x),
        (x: number) => x,
      ),
    );
    mergeBranches(left, right).pipe(mapStep('after', (x: number) => x));
    expect(edges(graph.describe())).toEqual([
      'source:in -> step:a',
      'step:a -> step:left',
      'step:a -> step:inner',
      'step:inner -> step:regroup',
      'step:left -> step:after',
      'step:regroup -> step:after',
    ]);
  });

  it('records nothing off a graph, and the runner exposes the graph of the topology it runs', async () => {
    // Off a graph: the operators work as before.
    await expect(
      new Promise((r) =>
        of(env(1))
          .pipe(mapStep('x', (v: number) => v * 2))
          .subscribe((e) => r(e.value)),
      ),
    ).resolves.toBe(2);
    const sink = new MemorySink<number>('out');
    const run = runTopology({
      sources: { in: new MemorySource<number>('in', [1, 2]) },
      sinks: { out: sink },
      build: (s, k) =>
        s.in!.pipe(
          mapStep('double', (v) => (v as number) * 2),
          k.out!.write(),
        ),
      config: {},
      handleSignals: false,
    });
    await run.done;
    expect(sink.items.map((i) => i.value)).toEqual([2, 4]);
    expect(edges(run.graph.describe())).toEqual(['source:in -> step:double', 'step:double -> sink:out']);
  });
});
