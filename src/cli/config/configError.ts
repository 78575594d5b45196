import { StreamError } from '../../engine/errors.ts';

/** A configuration that cannot be used; the message names each bad key, where it came from, and what is valid. */
export class ConfigError extends StreamError {
  constructor(
    message: string,
    readonly problems: string[] = [message],
  ) {
    super(message, {
      stage: 'config',
      hint: '--print-config shows the effective config; --help lists the flags and environment variables',
    });
  }
}

/** One message listing every problem, one per line. */
export function formatProblems(problems: string[]): string {
  return `invalid configuration (step config):\n${problems.map((p) => `  - ${p}`).join('\n')}`;
}
