import { pino, type Logger } from 'pino';

const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
// An invalid LOG_LEVEL must not crash at import: the config loader reports it (key, origin, valid options).
const envLevel = process.env.LOG_LEVEL?.trim().toLowerCase();

/** Root JSON logger (stderr, so stdout stays free for data and benchmark lines). */
export const logger: Logger = pino(
  { name: 'bioaug-stream', level: envLevel && levels.includes(envLevel) ? envLevel : 'info' },
  pino.destination({ fd: 2, sync: false }),
);

/** A child logger that names its step in every line. */
export function stepLogger(stepId: string): Logger {
  return logger.child({ step: stepId });
}
