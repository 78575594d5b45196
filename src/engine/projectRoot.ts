// The project root, found the same way from the TypeScript sources (src/...) and from the compiled
// JavaScript (dist/src/...): the nearest folder above this file that holds package.json.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest folder at or above `from` holding package.json (`from`'s grandparent when there is none). */
export function findProjectRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) return resolve(from, '../..');
    dir = up;
  }
  return dir;
}

/** The project root (the folder holding package.json, models/, schemas/ and topologies/). */
export const projectRoot = findProjectRoot(dirname(fileURLToPath(import.meta.url)));
