import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configKeys, describeTopology, flatten } from '../../../src/cli/commands/describe.ts';
import { availableTopologies, loadTopology } from '../../../src/cli/commands/run.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));

describe('describe: topology options are discoverable', () => {
  it('flattens nested defaults into dotted keys', () => {
    expect(flatten({ a: { b: 1, c: [1, 2] }, d: {}, e: 'x' })).toEqual([
      ['a.b', 1],
      ['a.c', [1, 2]],
      ['d', {}],
      ['e', 'x'],
    ]);
  });

  it('every topology declares its config schema and the Avro record of every sink', async () => {
    for (const name of availableTopologies()) {
      const mod = await loadTopology(name);
      expect(mod.configSchema, name).toBeDefined();
      for (const sink of mod.streamNames.sinks)
        expect(mod.streamNames.sinkSchemas?.[sink], `${name}.${sink}`).toMatch(/^[A-Z]\w+$/);
      const text = describeTopology(name, mod);
      expect(text).toContain(`--set topologies.${name}.<key>=<value>`);
    }
    const ner = describeTopology('ner-tagging', await loadTopology('ner-tagging'));
    expect(ner).toMatch(/requireAbstract = true +# /);
    expect(ner).toContain('predictions (NerPrediction)');
  });

  it('lists every option, defaults or not, each with a default and a one-line description', async () => {
    for (const name of availableTopologies()) {
      const mod = await loadTopology(name);
      const keys = configKeys(mod.configSchema!);
      expect(keys.length, name).toBeGreaterThan(5);
      for (const k of keys) {
        expect(k.description, `${name}: ${k.key} has no .describe()`).toBeTruthy();
        expect(k.description, `${name}: ${k.key}`).not.toContain('\n');
        expect(k.description!.length, `${name}: ${k.key}: ${k.description}`).toBeLessThanOrEqual(110);
      }
    }
    const text = describeTopology('ner-tagging', await loadTopology('ner-tagging'));
    // An option without a default is listed too (the NER bundle folder), and says what it does.
    expect(text).toMatch(/^ {4}ner\.model = \(unset\) +# \S/m);
    expect(text).toMatch(/^ {4}ner\.maxBatch = 32 +# \S/m);
  });

  it('run --print-config shows the topology block with defaults and the values set', () => {
    const r = spawnSync(
      process.execPath,
      [
        join(root, 'src/cli/bin.mjs'),
        'run',
        'ner-tagging',
        '--print-config',
        '--set',
        'topologies.ner-tagging.requireAbstract=false',
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/topologies:\n {2}ner-tagging:\n/);
    expect(r.stdout).toContain('requireAbstract: false');
    expect(r.stdout).toContain('tokenizerStyle: split');
  });
});
