/** loadConfig: defaults, coercion, errors that name the variable, and a frozen result. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.ts';

function configError(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`expected ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  // toMatchObject: settings added later bring their own defaults without breaking this list.
  it('applies the documented defaults to an empty environment', () => {
    expect(loadConfig({})).toMatchObject({
      env: 'development',
      host: '0.0.0.0',
      port: 8000,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/leaderboard',
      redisUrl: 'redis://127.0.0.1:6379',
      redisPrefix: 'lb',
      jwtSecret: undefined,
      logLevel: 'info',
      pgPoolSize: 10,
      redisCommandTimeoutMs: 1000,
      startupTimeoutMs: 5000,
      shutdownTimeoutMs: 10_000,
      wsIdleTimeoutS: 120,
      wsMaxBackpressureBytes: 1024 * 1024,
      diffTickMs: 50,
      indexCheckIntervalMs: 5000,
    });
  });

  it('reads and coerces what is set', () => {
    const c = loadConfig({
      PORT: '0',
      DATABASE_URL: 'postgresql://u:p@db:5433/lb',
      REDIS_URL: 'rediss://cache:6380',
      JWT_SECRET: 'x'.repeat(16),
      DIFF_TICK_MS: '20',
      NODE_ENV: 'production',
    });
    expect(c).toMatchObject({ port: 0, databaseUrl: 'postgresql://u:p@db:5433/lb', redisUrl: 'rediss://cache:6380', diffTickMs: 20, env: 'production' });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '80.5'],
    ['PORT', '-1'],
    ['DATABASE_URL', 'mysql://db/x'],
    ['REDIS_URL', 'not a url'],
    ['REDIS_PREFIX', 'a:b'],
    ['JWT_SECRET', 'short'],
    ['LOG_LEVEL', 'loud'],
    ['NODE_ENV', 'staging'],
    ['DIFF_TICK_MS', '0'],
  ])('%s=%j is an error naming %s', (name, value) => {
    expect(configError({ [name]: value })).toContain(name);
  });

  it('names every bad variable at once', () => {
    const message = configError({ PORT: 'abc', LOG_LEVEL: 'loud' });
    expect(message).toContain('PORT');
    expect(message).toContain('LOG_LEVEL');
  });

  it('requires JWT_SECRET in production', () => {
    expect(configError({ NODE_ENV: 'production' })).toContain('JWT_SECRET');
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(16) }).jwtSecret).toBe('s'.repeat(16));
  });

  it('counts empty strings as unset', () => {
    const c = loadConfig({ PORT: '', HOST: '', LOG_LEVEL: '', JWT_SECRET: '', REDIS_PREFIX: undefined });
    expect(c).toMatchObject({ port: 8000, host: '0.0.0.0', logLevel: 'info', jwtSecret: undefined, redisPrefix: 'lb' });
    expect(configError({ NODE_ENV: 'production', JWT_SECRET: '' })).toContain('JWT_SECRET');
  });

  it('ignores unrelated variables', () => {
    expect(loadConfig({ PATH: '/bin', HOME: '/root' }).port).toBe(8000);
  });

  it('returns a frozen object', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      (c as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(c.port).toBe(8000);
  });
});
