// The compiled CLI (src/cli/dist.mjs, bin.mjs): in a copy of the project, `npm run build` writes dist/,
// bin.mjs runs it while it is fresh (a marker put into the compiled code shows), the compiled code finds
// the topologies, models, schemas and console assets, and once a source is newer bin.mjs runs the sources.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const copy = mkdtempSync(join(tmpdir(), 'dist-'));

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(copy, 'src/cli/bin.mjs'), ...args], {
    cwd: copy,
    encoding: 'utf8',
    env: { ...process.env, LOG_LEVEL: 'error', BIOSTREAM_TSX: '' },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const main = (): string => join(copy, 'dist/src/cli/main.js');

beforeAll(() => {
  for (const p of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'topologies', 'schemas'])
    cpSync(join(root, p), join(copy, p), { recursive: true });
  for (const p of ['node_modules', 'models']) symlinkSync(join(root, p), join(copy, p));
  const b = spawnSync(process.execPath, ['src/cli/dist.mjs', 'build'], { cwd: copy, encoding: 'utf8' });
  expect(b.status, b.stderr).toBe(0);
  // A marker only the compiled code carries: seeing it proves bin.mjs ran dist/.
  writeFileSync(main(), readFileSync(main(), 'utf8').replace('Streaming dataflow engine', 'COMPILED engine'));
});

afterAll(() => rmSync(copy, { recursive: true, force: true }));

describe('compiled CLI', () => {
  it('builds dist/ with the console assets beside the compiled console', () => {
    for (const f of ['src/cli/main.js', 'topologies/ner-tagging.js', 'src/console/assets', '.stamp'])
      expect(existsSync(join(copy, 'dist', f)), f).toBe(true);
  });

  it('runs the compiled code while dist/ is fresh, with topologies, models and schemas found from it', () => {
    expect(cli('--help').stdout).toContain('COMPILED engine');
    const described = cli('describe', 'ner-tagging');
    expect(described.stdout).toContain('predictions (NerPrediction)');
    const out = join(copy, 'out.jsonl');
    const run = cli(
      'run',
      'ner-tagging',
      '--source',
      `pubtator:${join(root, 'topologies/samples/abstracts.pubtator')}`,
      '--sink',
      `jsonl:${out}`,
      '--set',
      'metrics.enabled=false',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(out, 'utf8').trim().split('\n').length).toBeGreaterThan(10);
  });

  it('--help of the compiled CLI loads no model runtime (the implementations load when a command runs)', () => {
    const log = join(copy, 'imports.log');
    const r = spawnSync(
      process.execPath,
      ['--import', join(root, 'test/helpers/recordImports.mjs'), join(copy, 'src/cli/bin.mjs'), '--help'],
      { cwd: copy, encoding: 'utf8', env: { ...process.env, IMPORT_LOG: log, BIOSTREAM_TSX: '' } },
    );
    expect(r.stdout).toContain('COMPILED engine');
    const modules = readFileSync(log, 'utf8').trim().split('\n');
    expect(modules.some((m) => m.endsWith('/dist/src/cli/main.js'))).toBe(true);
    expect(modules.filter((m) => /node_modules\/(onnxruntime-node|kafkajs|avsc|zod)\//.test(m))).toEqual([]);
  });

  it("npm's prepare passes where src/ is absent (the Docker deps stage: package.json and the lock only)", () => {
    const empty = mkdtempSync(join(tmpdir(), 'prepare-'));
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: { prepare: string };
    };
    const r = spawnSync('sh', ['-c', pkg.scripts.prepare], { cwd: empty, encoding: 'utf8' });
    rmSync(empty, { recursive: true, force: true });
    expect(r.status, r.stderr).toBe(0);
  });

  it('runs the sources once one is newer than dist/ (an edit is never shadowed by an old build)', () => {
    const edited = join(copy, 'src/cli/commands/describe.ts');
    const later = new Date(Date.now() + 60_000);
    utimesSync(edited, later, later);
    const state = spawnSync(process.execPath, ['src/cli/dist.mjs', 'state'], { cwd: copy, encoding: 'utf8' });
    expect(JSON.parse(state.stdout)).toEqual({ state: 'stale', newest: 'src/cli/commands/describe.ts' });
    const help = cli('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).not.toContain('COMPILED engine');
    expect(help.stdout).toContain('Streaming dataflow engine');
  });
});
