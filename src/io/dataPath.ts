import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { projectRoot } from '../engine/projectRoot.ts';

/** The project root (the folder holding package.json), from src/ or from the compiled dist/src/. */
export { projectRoot };

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
