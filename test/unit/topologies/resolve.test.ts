// Each topology: resolve(config) reads what the config names; build(sources, sinks, inputs) reads nothing.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildAugmentState, saveAugmentState } from '../../../src/augment/state.ts';
import { MemoryDeadLetters } from '../../../src/engine/deadLetters.ts';
import { MemorySink, MemorySource } from '../../../src/engine/memory.ts';
import { runTopology } from '../../../src/engine/runner.ts';
import { TopologyInputError } from '../../../src/engine/topology.ts';
import type { AugmentedSentence, LabeledSentence } from '../../../src/io/avro/types.generated.ts';
import * as augment from '../../../topologies/augment.ts';
import * as ingest from '../../../topologies/ingest.ts';
import * as nerTagging from '../../../topologies/ner-tagging.ts';
import { tempDir } from '../../helpers/setup.ts';

const dir = tempDir('topologies-');
const fx = join(import.meta.dirname, '../../fixtures/models');

const sentences: LabeledSentence[] = [
  {
    id: 's1',
    tokens: ['Aspirin', 'caused', 'asthma'],
    tags: ['B-Chemical', 'O', 'B-Disease'],
    keywordTags: null,
    source: 'test',
  },
  {
    id: 's2',
    tokens: ['Heparin', 'and', 'bleeding'],
    tags: ['B-Chemical', 'O', 'B-Disease'],
    keywordTags: null,
    source: 'test',
  },
];
const conll = join(dir, 'train.conll');
writeFileSync(
  conll,
  sentences.map((s) => s.tokens.map((t, i) => `${t}\t${s.tags[i]}`).join('\n') + '\n\n').join(''),
);

describe('every topology module', () => {
  it('exports streamNames, resolve and build', () => {
    for (const m of [nerTagging, augment, ingest]) {
      expect(m.streamNames.sources.length).toBeGreaterThan(0);
      expect(typeof m.resolve).toBe('function');
      expect(typeof m.build).toBe('function');
    }
  });

  it('resolve rejects an unknown config field', async () => {
    await expect(nerTagging.resolve({ nerModel: 'x' })).rejects.toThrow();
    await expect(augment.resolve({ method: 'mr' })).rejects.toThrow();
    await expect(ingest.resolve({ relation: {} })).rejects.toThrow();
  });

  it('build names the missing source', () => {
    expect(() => nerTagging.build({}, {}, {})).toThrow(TopologyInputError);
    expect(() => augment.build({}, {}, {})).toThrow(
      'augment: needs a source named "sentences"; given: (none)',
    );
  });
});

describe('augment: resolve reads state and WordNet, build reads nothing', () => {
  it('builds MR/LwTR state from a CoNLL training set or loads a saved one', async () => {
    const fromTrain = await augment.resolve({ methods: ['mr'], train: conll });
    expect(fromTrain.state?.mentions.get('Chemical')).toBeDefined();
    const saved = join(dir, 'state.json');
    saveAugmentState(buildAugmentState([{ id: 'x', tokens: ['Heparin'], tags: ['B-Chemical'] }]), saved);
    const fromFile = await augment.resolve({ methods: ['lwtr'], state: saved, train: conll });
    expect(fromFile.state).toEqual(
      buildAugmentState([{ id: 'x', tokens: ['Heparin'], tags: ['B-Chemical'] }]),
    );
    // Nothing is read for methods that need nothing.
    expect(await augment.resolve({ methods: ['sis'], train: join(dir, 'missing.conll') })).not.toHaveProperty(
      'state',
    );
  });

  it('loads synonyms for sr and all4 only', async () => {
    const sr = await augment.resolve({ methods: ['sr'] });
    expect(sr.synonyms?.get('illness')).toEqual([['unwellness'], ['malady'], ['sickness']]);
    expect(await augment.resolve({ methods: ['sis'] })).not.toHaveProperty('synonyms');
  });

  it('build refuses methods whose state was not resolved, naming how to give it', () => {
    const src = { sentences: new MemorySource('sentences', []).open() };
    const sinks = { augmented: new MemorySink<AugmentedSentence>('augmented') };
    expect(() => augment.build(src, sinks, { methods: ['mr'] })).toThrow(
      'augment: methods mr need MR/LwTR state: set "state" (saved JSON) or "train" (CoNLL file)',
    );
    expect(() => augment.build(src, sinks, { methods: ['sr'] })).toThrow(/need synonyms/);
    // A file path where resolved inputs belong is rejected, not read.
    expect(() => augment.build(src, sinks, { methods: ['mr'], train: conll } as never)).toThrow();
  });

  it('runs from resolved inputs alone: MR and SiS copies of in-memory sentences', async () => {
    const inputs = { methods: ['mr', 'sis'] as const, n: 2, seed: 3, state: buildAugmentState(sentences) };
    const dlq = new MemoryDeadLetters();
    const source = new MemorySource<LabeledSentence>('sentences', sentences, {
      deadLetters: dlq,
      keyOf: (v) => (v as LabeledSentence).id,
    });
    const sink = new MemorySink<AugmentedSentence>('augmented');
    await runTopology({
      sources: { sentences: source },
      sinks: { augmented: sink },
      build: augment.build,
      config: { ...inputs, methods: [...inputs.methods] },
      handleSignals: false,
    }).done;
    expect(dlq.records).toEqual([]);
    expect(sink.items.map((i) => i.key).sort()).toEqual([
      's1:mr:0',
      's1:mr:1',
      's1:sis:0',
      's1:sis:1',
      's2:mr:0',
      's2:mr:1',
      's2:sis:0',
      's2:sis:1',
    ]);
  });
});

describe('ingest: resolve reads the relation bundle verbalization', () => {
  it("from model.json's verbalize map; none or unreadable gives an empty map", async () => {
    const r = await ingest.resolve({ relations: { model: join(fx, 'relations') } });
    expect(r.verbalize).toEqual({ induces: 'induces', treats: 'treats' });
    expect(ingest.readVerbalization(join(dir, 'no-bundle'))).toEqual({});
    const broken = join(dir, 'broken');
    rmSync(broken, { recursive: true, force: true });
    (await import('node:fs')).mkdirSync(broken);
    writeFileSync(join(broken, 'model.json'), '{ not json');
    expect(ingest.readVerbalization(broken)).toEqual({});
  });
});
