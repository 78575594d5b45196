import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('logger', () => {
  it('takes a valid LOG_LEVEL from the environment', async () => {
    vi.stubEnv('LOG_LEVEL', 'Debug');
    vi.resetModules();
    const { logger, stepLogger } = await import('../../../src/obs/logger.ts');
    expect(logger.level).toBe('debug');
    expect(stepLogger('ner').bindings()).toMatchObject({ step: 'ner' });
  });

  it('does not crash at import on an invalid LOG_LEVEL (the config loader reports it)', async () => {
    vi.stubEnv('LOG_LEVEL', 'loud');
    vi.resetModules();
    const { logger } = await import('../../../src/obs/logger.ts');
    expect(logger.level).toBe('info');
  });
});
