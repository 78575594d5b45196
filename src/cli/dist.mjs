// The compiled CLI under dist/: `node src/cli/dist.mjs build` compiles src/ and topologies/ with tsc
// (tsconfig.build.json, no type check: `npm run typecheck` does that) and copies the files the code reads
// beside itself; bin.mjs runs dist/ only while distState() finds it at least as new as every source.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (src/cli/../..). */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The compiled output; its .stamp is written last, dated when the build started. */
export const distDir = join(root, 'dist');
const stamp = join(distDir, '.stamp');
/** What is compiled: every file under these folders (and the folders themselves: a deletion changes them). */
const SOURCES = ['src', 'topologies'];
const BUILD_FILES = ['tsconfig.build.json', 'tsconfig.json'];

/**
 * `fresh` when dist/ was built after the last change to any source, asset or build setting; else
 * `missing` or `stale` with the newest changed path. Costs one stat per file (a few milliseconds).
 */
export function distState() {
  let built;
  try {
    built = statSync(stamp).mtimeMs;
  } catch {
    return { state: 'missing' };
  }
  let newest;
  const visit = (path) => {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return;
    if (st.mtimeMs > built && (!newest || st.mtimeMs > newest.mtimeMs))
      newest = { path, mtimeMs: st.mtimeMs };
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  for (const p of [...SOURCES, ...BUILD_FILES]) visit(join(root, p));
  return newest ? { state: 'stale', newest: newest.path.slice(root.length + 1) } : { state: 'fresh' };
}

/**
 * Builds dist/. With `ifPossible` (npm's prepare script) it skips, saying why, where TypeScript is not
 * installed or the sources are not there (`npm ci --omit=dev`, the Docker deps stage); bin.mjs then runs
 * the sources through tsx. Returns the exit code.
 */
export function build({ ifPossible = false } = {}) {
  let tsc;
  try {
    tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    tsc = undefined;
  }
  if (!tsc || !existsSync(join(root, 'src/cli/main.ts'))) {
    const why = tsc ? 'src/ is not here' : 'typescript is not installed';
    process.stderr.write(`build: skipped (${why}); the CLI runs the TypeScript sources through tsx\n`);
    return ifPossible ? 0 : 1;
  }
  // The stamp gets the time the build started: a source edited while tsc ran is newer, so it counts as stale.
  const started = new Date();
  rmSync(distDir, { recursive: true, force: true });
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    // A half-written dist/ must not run: without the stamp bin.mjs uses the sources.
    rmSync(distDir, { recursive: true, force: true });
    return r.status ?? 1;
  }
  // Files the code reads or loads relative to import.meta.url (the console's assets, a worker script
  // such as src/models/sessionWorker.mjs): every file that is not TypeScript, copied beside the output.
  for (const dir of SOURCES)
    cpSync(join(root, dir), join(distDir, dir), {
      recursive: true,
      filter: (from) => !from.endsWith('.ts') || statSync(from).isDirectory(),
    });
  writeFileSync(stamp, `${started.toISOString()}\n`);
  utimesSync(stamp, started, started);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [cmd, ...flags] = process.argv.slice(2);
  if (cmd === 'build') process.exitCode = build({ ifPossible: flags.includes('--if-possible') });
  else if (cmd === 'state') process.stdout.write(`${JSON.stringify(distState())}\n`);
  else {
    process.stderr.write('usage: node src/cli/dist.mjs build [--if-possible] | state\n');
    process.exitCode = 2;
  }
}
