#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm ci` through the prepare script, or `npm run build`) when it
// is at least as new as every source, so a first start costs what a later one does; otherwise, and for
// `train` and `study` (their recipes find Python scripts beside the TypeScript) or with BIOSTREAM_TSX=1,
// the TypeScript sources through tsx, so an edit is never shadowed by an old build.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { distDir, distState } from './dist.mjs';

const argv = process.argv;
const command = argv.slice(2).find((a) => !a.startsWith('-'));
const wantSources = process.env.BIOSTREAM_TSX === '1' || command === 'train' || command === 'study';
const dist = wantSources ? { state: 'skipped' } : distState();
let cli;
if (dist.state === 'fresh') {
  // Stack traces (--debug) point into the TypeScript, through the source maps tsc wrote.
  if (argv.includes('--debug')) process.setSourceMapsEnabled(true);
  ({ cli } = await import(pathToFileURL(join(distDir, 'src/cli/main.js')).href));
} else {
  if (dist.state === 'stale' && process.stderr.isTTY && process.env.BIOSTREAM_TSX !== '1')
    process.stderr.write(
      `note: dist/ is older than ${dist.newest}; running the sources through tsx (npm run build makes starts fast)\n`,
    );
  const { register } = await import('tsx/esm/api');
  register();
  ({ cli } = await import('./main.ts'));
}
await cli(argv);
// A finished command exits even if a client left a timer or socket open (a kafkajs reconnect after
// disconnect); the timer is unref'd, so it never delays a process that would exit anyway.
setTimeout(() => process.exit(), 3000).unref();
