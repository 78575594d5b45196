// The fixed choices of a few config keys, apart from the zod schema (schema.ts): the flags' help text
// (configOptions.ts) names them without loading zod.

/** Values of log.level (pino's levels). */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** Values of kafka.sasl.mechanism. */
export const saslMechanisms = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
