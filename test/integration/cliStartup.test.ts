// The CLI starts light (issue 14): `--help`, a command's `--help` and the commands that need little load
// only the command table (commander and the option declarations), not the implementations with
// ONNX Runtime, kafkajs, Avro, zod or the mock cluster; a command imports those when it runs.
// Every module the spawned CLI loads is recorded by a loader hook (test/helpers/recordImports.mjs).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/setup.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tmp = tempDir('cli-startup-');
let runs = 0;

/** Runs the CLI from the sources (BIOSTREAM_TSX=1: the same modules as dist/, whatever its state). */
function modulesLoaded(...args: string[]): { code: number | null; stdout: string; modules: string[] } {
  const log = join(tmp, `imports-${++runs}.log`);
  const r = spawnSync(
    process.execPath,
    ['--import', join(root, 'test/helpers/recordImports.mjs'), join(root, 'src/cli/bin.mjs'), ...args],
    {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, IMPORT_LOG: log, BIOSTREAM_TSX: '1', LOG_LEVEL: 'error' },
      timeout: 120_000,
    },
  );
  expect(r.status, r.stderr).toBe(0);
  return { code: r.status, stdout: r.stdout, modules: readFileSync(log, 'utf8').trim().split('\n') };
}

/** The packages and project folders a light start must not load. */
const HEAVY = [
  /\/node_modules\/onnxruntime-node\//,
  /\/node_modules\/kafkajs\//,
  /\/node_modules\/avsc\//,
  /\/node_modules\/koffi\//,
  /\/node_modules\/zod\//,
  /\/node_modules\/@huggingface\//,
  /\/src\/models\//,
  /\/topologies\//,
];
const heavyIn = (modules: string[]): string[] => modules.filter((m) => HEAVY.some((re) => re.test(m)));

const loadsOrt = (modules: string[]): boolean =>
  modules.some((m) => /\/node_modules\/onnxruntime-node\//.test(m));

describe('CLI start', () => {
  it('the hook sees a heavy import: eval ner runs a model and loads onnxruntime-node', () => {
    const data = join(tmp, 'one.conll');
    writeFileSync(data, 'Aspirin\tB-Chemical\ncauses\tO\nulcers\tB-Disease\n.\tO\n\n');
    const model = join(root, 'test/fixtures/models/crf-tagger');
    const r = modulesLoaded('eval', 'ner', '--model', model, '--data', data);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toMatchObject({ sentences: 1, tokens: 4 });
    expect(loadsOrt(r.modules)).toBe(true);
  });

  it('eval pubtator without --model scores the default NER bundle (models/ner-bc5cdr)', () => {
    const data = join(tmp, 'one.pubtator');
    const title = 'Cisplatin nephrotoxicity.';
    const abs = 'Cisplatin caused acute renal failure in two patients.';
    const text = `${title} ${abs}`;
    const at = (s: string, from = 0) => [text.indexOf(s, from), text.indexOf(s, from) + s.length].join('\t');
    writeFileSync(
      data,
      [
        `1|t|${title}`,
        `1|a|${abs}`,
        `1\t${at('Cisplatin')}\tCisplatin\tChemical\tD002945`,
        `1\t${at('nephrotoxicity')}\tnephrotoxicity\tDisease\tD007674`,
        `1\t${at('Cisplatin', 10)}\tCisplatin\tChemical\tD002945`,
        `1\t${at('acute renal failure')}\tacute renal failure\tDisease\tD058186`,
      ].join('\n') + '\n\n',
    );
    const r = modulesLoaded('eval', 'pubtator', '--data', data);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      model: string;
      abstracts: number;
      f1: number;
    };
    expect(out.model).toMatch(/models\/ner-bc5cdr$/);
    expect(out.abstracts).toBe(1);
    expect(out.f1).toBeGreaterThan(50);
  });

  it('describe <topology> loads the topology but not onnxruntime-node (backend.ts imports it lazily)', () => {
    const r = modulesLoaded('describe', 'ner-tagging');
    expect(r.stdout).toContain('predictions (NerPrediction)');
    expect(r.modules.some((m) => m.endsWith('/topologies/ner-tagging.ts'))).toBe(true);
    expect(r.modules.some((m) => m.endsWith('/src/models/backend.ts'))).toBe(true);
    expect(loadsOrt(r.modules)).toBe(false);
  });

  it.each(['--help', 'run --help', 'broker --help', 'eval pubtator --help'])(
    '`%s` loads neither onnxruntime-node nor kafkajs, avsc, zod, the mock cluster or the models',
    (line) => {
      const r = modulesLoaded(...line.split(' '));
      expect(r.stdout).toContain('Usage: bioaug-stream');
      expect(r.modules.some((m) => m.endsWith('/src/cli/main.ts'))).toBe(true);
      expect(heavyIn(r.modules)).toEqual([]);
    },
  );
});
