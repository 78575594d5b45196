import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (the folder holding package.json). */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Root of the shared corpora: $BIOSTREAM_DATA, else ../shared/data next to the project. */
export function dataRoot(): string {
  return process.env.BIOSTREAM_DATA
    ? resolve(process.env.BIOSTREAM_DATA)
    : resolve(projectRoot, '../shared/data');
}

/** Path of a file under the shared data root. */
export function dataPath(...parts: string[]): string {
  return resolve(dataRoot(), ...parts);
}

/** True when the shared data folder exists (tests skip outside CI when it does not). */
export function hasData(): boolean {
  return existsSync(dataRoot());
}
