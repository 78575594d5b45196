// The one guard for tests that read the shared corpora (../shared/data or $BIOSTREAM_DATA).
import { dataRoot, hasData } from '../../src/io/dataPath.ts';

/** True when CI is set (CI=true, CI=1, ...; CI=false and CI=0 do not count). */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI?.trim().toLowerCase();
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

/**
 * Whether tests needing the shared data must be skipped: only when the data folder is absent and
 * not in CI, and then it says which tests and why. In CI it is never true, so absent data fails
 * the tests instead of skipping them in silence.
 */
export function skipWithoutSharedData(what: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (hasData() || inCi(env)) return false;
  console.warn(
    `${what}: skipped, shared data folder ${dataRoot()} absent (set BIOSTREAM_DATA); with CI=true these tests run and fail instead`,
  );
  return true;
}
