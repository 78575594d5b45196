import { pino, type Logger } from 'pino';

/** Root JSON logger (stderr, so stdout stays free for data and benchmark lines). */
export const logger: Logger = pino(
  { name: 'bioaug-stream', level: process.env.LOG_LEVEL ?? 'info' },
  pino.destination({ fd: 2, sync: false }),
);

/** A child logger that names its step in every line. */
export function stepLogger(stepId: string): Logger {
  return logger.child({ step: stepId });
}
