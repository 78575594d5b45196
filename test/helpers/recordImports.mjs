// A preload for spawned CLIs (`node --import test/helpers/recordImports.mjs ...` with IMPORT_LOG=<file>):
// appends the URL of every module the process loads through the ES module loader to IMPORT_LOG, one a
// line. That covers the ES modules and every package imported from one (a CommonJS package such as
// onnxruntime-node shows as its entry file), not the files a CommonJS package requires in turn.
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

// This file is also the hooks module: registered from the main thread, it runs on the loader's thread.
if (isMainThread) register(import.meta.url, { data: { log: process.env.IMPORT_LOG } });

let log = '';

/** Receives the log file from register(). */
export function initialize(data) {
  log = data.log;
}

/** Records the URL, then loads the module as usual. */
export async function load(url, context, next) {
  if (log) appendFileSync(log, `${url}\n`);
  return next(url, context);
}
