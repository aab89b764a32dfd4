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
      host: '127.0.0.1',
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
      JWT_SECRET: 'x'.repeat(32),
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
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32) }).jwtSecret).toBe('s'.repeat(32));
  });

  it('counts empty strings as unset', () => {
    const c = loadConfig({ PORT: '', HOST: '', LOG_LEVEL: '', JWT_SECRET: '', REDIS_PREFIX: undefined });
    expect(c).toMatchObject({ port: 8000, host: '127.0.0.1', logLevel: 'info', jwtSecret: undefined, redisPrefix: 'lb' });
    expect(configError({ NODE_ENV: 'production', JWT_SECRET: '' })).toContain('JWT_SECRET');
  });

  describe('JWT secrets', () => {
    const S32 = 's'.repeat(32);
    it.each([
      ['31 bytes', 's'.repeat(31), /at least 32 bytes/],
      ['16 spaces', ' '.repeat(16), /blank/],
      ['40 spaces', ' '.repeat(40), /blank/],
      ['tabs and newlines', '\t\n'.repeat(20), /blank/],
      ['15 two-byte characters (30 bytes)', 'é'.repeat(15), /at least 32 bytes/],
    ])('JWT_SECRET of %s is refused, in production and out of it', (_label, value, why) => {
      for (const NODE_ENV of ['production', 'development', 'test']) {
        const message = configError({ NODE_ENV, JWT_SECRET: value });
        expect(message).toContain('JWT_SECRET');
        expect(message).toMatch(why);
      }
    });

    it('32 bytes is enough, counted in bytes not characters', () => {
      expect(loadConfig({ JWT_SECRET: S32 }).jwtSecret).toBe(S32);
      expect(loadConfig({ JWT_SECRET: 'é'.repeat(16) }).jwtSecret).toBe('é'.repeat(16));
    });

    it('JWT_PREVIOUS_SECRETS: every entry obeys the same rule', () => {
      expect(loadConfig({ JWT_SECRET: S32, JWT_PREVIOUS_SECRETS: `${'a'.repeat(32)}, ${'b'.repeat(40)}` }).jwtPreviousSecrets).toEqual(['a'.repeat(32), 'b'.repeat(40)]);
      expect(configError({ JWT_SECRET: S32, JWT_PREVIOUS_SECRETS: `${'a'.repeat(32)},short-old-secret-16` })).toMatch(/JWT_PREVIOUS_SECRETS\.1: must be at least 32 bytes/);
      expect(configError({ JWT_SECRET: S32, JWT_PREVIOUS_SECRETS: ' '.repeat(40) })).toMatch(/JWT_PREVIOUS_SECRETS\.0: must not be blank/);
      expect(configError({ JWT_SECRET: S32, JWT_PREVIOUS_SECRETS: `${'a'.repeat(32)},,${'b'.repeat(32)}` })).toMatch(/JWT_PREVIOUS_SECRETS\.1: must not be blank/);
    });

    it('token rules: defaults and what is set', () => {
      expect(loadConfig({})).toMatchObject({ jwtAudience: undefined, jwtIssuer: undefined, jwtLeewayS: 30, jwtMaxPlayerTtlS: 86_400, jwtJwksFile: undefined });
      expect(
        loadConfig({ JWT_AUDIENCE: 'leaderboard', JWT_ISSUER: 'https://id.example', JWT_LEEWAY_S: '5', JWT_MAX_PLAYER_TTL_S: '3600', JWT_JWKS_FILE: '/etc/lb/jwks.json' }),
      ).toMatchObject({ jwtAudience: 'leaderboard', jwtIssuer: 'https://id.example', jwtLeewayS: 5, jwtMaxPlayerTtlS: 3600, jwtJwksFile: '/etc/lb/jwks.json' });
    });

    it.each([
      ['JWT_LEEWAY_S', '-1'],
      ['JWT_LEEWAY_S', '301'],
      ['JWT_LEEWAY_S', '1.5'],
      ['JWT_MAX_PLAYER_TTL_S', '0'],
      ['JWT_MAX_PLAYER_TTL_S', 'forever'],
    ])('%s=%j is an error naming it', (name, value) => {
      expect(configError({ [name]: value })).toContain(name);
    });
  });

  describe('listen address (HOST)', () => {
    const S32 = 's'.repeat(32);
    it('defaults to loopback outside production and to every address in production', () => {
      expect(loadConfig({}).host).toBe('127.0.0.1');
      expect(loadConfig({ NODE_ENV: 'test' }).host).toBe('127.0.0.1');
      expect(loadConfig({ NODE_ENV: 'development', JWT_SECRET: S32 }).host).toBe('127.0.0.1');
      expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: S32 }).host).toBe('0.0.0.0');
    });

    it('a HOST that is set is used', () => {
      expect(loadConfig({ HOST: '0.0.0.0', JWT_SECRET: S32 }).host).toBe('0.0.0.0');
      expect(loadConfig({ NODE_ENV: 'production', HOST: '127.0.0.1', JWT_SECRET: S32 }).host).toBe('127.0.0.1');
    });

    it.each(['127.0.0.1', '127.1.2.3', '::1', 'localhost'])('without JWT_SECRET, loopback %s is allowed', (HOST) => {
      expect(loadConfig({ HOST }).host).toBe(HOST);
    });

    it.each(['0.0.0.0', '::', '10.0.0.5', '192.168.1.20', 'lb.example', '127.0.0.1.example'])(
      'without JWT_SECRET, %s is refused (the dev token would be usable from outside)',
      (HOST) => {
        for (const NODE_ENV of ['development', 'test']) {
          const message = configError({ NODE_ENV, HOST });
          expect(message).toContain('JWT_SECRET');
          expect(message).toContain(HOST);
        }
        expect(loadConfig({ HOST, JWT_SECRET: S32 }).host).toBe(HOST);
      },
    );
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
