/**
 * Configuration: parsed once from the environment with zod, frozen, and passed down. Nothing else
 * reads process.env. Every setting is documented in the README with its default.
 */
import { z } from 'zod';
import { GAME_MODE_PATTERN, WINDOWS, type Window } from '../protocol/index.ts';
import { ALL_MODES, ANY_MODE, scoreRulesSchema, type ScoreRules } from './limits/score-rules.ts';
import { DEFAULT_LEEWAY_S, DEFAULT_MAX_PLAYER_TTL_S } from './auth/jwt.ts';

const int = (min: number, max: number, dflt: number) => z.coerce.number().int().min(min).max(max).default(dflt);

/** One token lets anyone test guesses of its secret offline; RFC 7518 3.2 asks for a key as long as the hash (HS256: 32 bytes). */
const MIN_SECRET_BYTES = 32;
const secret = z
  .string()
  .refine((s) => s.trim() !== '', { message: 'must not be blank', abort: true })
  .refine((s) => Buffer.byteLength(s, 'utf8') >= MIN_SECRET_BYTES, { message: `must be at least ${MIN_SECRET_BYTES} bytes` });

/** Addresses only this machine can reach: the dev token logged without JWT_SECRET is safe there only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  // Default 0.0.0.0 in production, 127.0.0.1 otherwise (see loadConfig).
  HOST: z.string().min(1).optional(),
  PORT: int(0, 65535, 8000),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgres://postgres@127.0.0.1:5432/leaderboard'),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  REDIS_CLUSTER_NODES: z
    .string()
    .transform((v) => v.split(',').map((n) => n.trim()).filter((n) => n !== ''))
    .pipe(
      z
        .array(z.string().regex(/^[A-Za-z0-9.\-]+:[0-9]{1,5}$/, { message: 'each node must be host:port' }))
        .min(1, { message: 'lists no node' })
        .transform((nodes) => nodes.map((n) => ({ host: n.slice(0, n.lastIndexOf(':')), port: Number(n.slice(n.lastIndexOf(':') + 1)) }))),
    )
    .optional(),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only')
    .default('lb'),
  JWT_SECRET: secret.optional(),
  JWT_PREVIOUS_SECRETS: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()))
    .pipe(z.array(secret))
    .default([]),
  JWT_AUDIENCE: z.string().min(1).optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_LEEWAY_S: int(0, 300, DEFAULT_LEEWAY_S),
  JWT_MAX_PLAYER_TTL_S: int(60, 366 * 24 * 3600, DEFAULT_MAX_PLAYER_TTL_S),
  JWT_JWKS_FILE: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  PG_POOL_SIZE: int(1, 200, 10),
  PG_QUERY_TIMEOUT_MS: int(50, 600_000, 5000),
  BOARDS_CONFIG: z.string().min(1).optional(),
  TOP_CACHE: z.enum(['on', 'off']).default('on'),
  BOARD_WINDOWS: z
    .string()
    .default(WINDOWS.join(','))
    // `none`: all-time boards only (an empty variable counts as unset, see below).
    .transform((v) => (v.trim() === 'none' ? [] : v.split(',').map((w) => w.trim()).filter((w) => w !== '')))
    .pipe(z.array(z.enum(WINDOWS)).refine((ws) => new Set(ws).size === ws.length, { message: 'lists a window twice' })),
  GROUP_COMMIT_MAX: int(1, 1_000, 256),
  GROUP_COMMIT_CONCURRENCY: int(1, 200, 4),
  SUBMIT_QUEUE_MAX: int(1, 1_000_000, 2048),
  REDIS_COMMAND_TIMEOUT_MS: int(10, 60_000, 1000),
  REDIS_EVICTION_CHECK: z.enum(['warn', 'refuse']).default('warn'),
  STARTUP_TIMEOUT_MS: int(100, 120_000, 5000),
  SHUTDOWN_TIMEOUT_MS: int(100, 120_000, 10_000),
  WS_IDLE_TIMEOUT_S: int(8, 960, 120),
  WS_MAX_BACKPRESSURE_BYTES: int(4096, 256 * 1024 * 1024, 1024 * 1024),
  DIFF_TICK_MS: int(5, 10_000, 50),
  LIVE_REFRESH_MS: int(50, 600_000, 1000),
  LIVE_LAG_TIMEOUT_MS: int(100, 600_000, 30_000),
  WS_MAX_SUBSCRIPTIONS: int(1, 1000, 16),
  INDEX_CHECK_INTERVAL_MS: int(100, 3_600_000, 5000),
  SUBMIT_RATE_PER_USER: z.coerce.number().min(0).max(1e6).default(2),
  SUBMIT_BURST_PER_USER: int(1, 1_000_000, 20),
  SCORE_LIMITS: z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(scoreRulesSchema)
    .default({}),
  SUBMIT_RATE_APPLIES_TO: z.enum(['players', 'all']).default('players'),
  LIMITS_WHEN_REDIS_DOWN: z.enum(['open', 'closed']).default('open'),
  GAME_MODES: z
    .string()
    .transform((v) => v.split(',').map((m) => m.trim()).filter((m) => m !== ''))
    .pipe(z.array(z.string().regex(GAME_MODE_PATTERN, 'each must match ^[a-z0-9_-]{1,32}$')).min(1, 'lists no mode'))
    .optional(),
  MAX_BOARDS: int(1, 1_000_000, 1000),
  WS_RATE_PER_SOCKET: z.coerce.number().min(0).max(1e6).default(50),
  WS_BURST_PER_SOCKET: int(1, 1_000_000, 100),
  WS_ABUSE_CLOSE_AFTER: int(1, 1_000_000, 200),
  MAX_SOCKETS: int(1, 10_000_000, 100_000),
  MAX_CONNECTIONS_PER_IP: int(1, 10_000_000, 200),
  UPGRADE_RATE_PER_IP: z.coerce.number().min(0).max(1e6).default(20),
  UPGRADE_BURST_PER_IP: int(1, 1_000_000, 100),
  HTTP_RATE_PER_IP: z.coerce.number().min(0).max(1e6).default(100),
  HTTP_BURST_PER_IP: int(1, 1_000_000, 200),
  HTTP_BODY_TIMEOUT_MS: int(100, 600_000, 10_000),
  CORS_ORIGINS: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0))
    .default([]),
  TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  NEW_RELIC_LICENSE_KEY: z.string().min(1).optional(),
  NEW_RELIC_APP_NAME: z.string().min(1).default('leaderboard'),
});

export type Env = z.input<typeof envSchema>;

/** Every environment variable the server reads (the README and the compose file are checked against it). */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape) as (keyof Env)[];

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly host: string;
  readonly port: number;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** Seed nodes of a Redis Cluster to use instead of REDIS_URL. */
  readonly redisClusterNodes: readonly { host: string; port: number }[] | undefined;
  readonly redisPrefix: string;
  /** Undefined only outside production; the app then generates a random one. */
  readonly jwtSecret: string | undefined;
  /** Secrets still accepted for verification while tokens signed with them expire (rotation). */
  readonly jwtPreviousSecrets: readonly string[];
  /** When set, a token's `aud` must name it; unset, tokens with an `aud` are refused. */
  readonly jwtAudience: string | undefined;
  /** When set, a token's `iss` must equal it. */
  readonly jwtIssuer: string | undefined;
  /** Clock skew tolerated on `nbf` and `iat`. */
  readonly jwtLeewayS: number;
  /** Longest lifetime of a player token (`exp - iat`); player tokens must have `exp`. */
  readonly jwtMaxPlayerTtlS: number;
  /** A JWKS file of RS256/ES256 public keys (by `kid`), read at start-up. */
  readonly jwtJwksFile: string | undefined;
  readonly logLevel: string;
  /** Human-readable logs (pino-pretty); defaults to true in development only. */
  readonly logPretty: boolean;
  readonly pgPoolSize: number;
  /** A PostgreSQL call with no answer by then fails the request with `unavailable`. */
  readonly pgQueryTimeoutMs: number;
  /** Path of the per-board settings file (write modes; see server/board-config.ts), if any. */
  readonly boardsConfigPath: string | undefined;
  /** Serve `top` from live views known current (see LiveHub.cachedTop). */
  readonly topCache: boolean;
  /** Time windows every board also has (daily, weekly, monthly); none: all-time boards only. */
  readonly boardWindows: readonly Window[];
  /** Most submits committed in one transaction, and transactions of submits in flight at once. */
  readonly groupCommitMax: number;
  readonly groupCommitConcurrency: number;
  /** Submits waiting for a transaction beyond which new ones are refused at once with `unavailable`. */
  readonly submitQueueMax: number;
  readonly redisCommandTimeoutMs: number;
  /** A Redis whose maxmemory-policy may evict keys: log an error and start, or refuse to start. */
  readonly redisEvictionCheck: 'warn' | 'refuse';
  readonly startupTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly wsIdleTimeoutS: number;
  readonly wsMaxBackpressureBytes: number;
  readonly diffTickMs: number;
  readonly liveRefreshMs: number;
  readonly liveLagTimeoutMs: number;
  readonly wsMaxSubscriptions: number;
  readonly indexCheckIntervalMs: number;
  /** Per user across all instances, submits per second (0: off) and burst. */
  readonly submitRatePerUser: number;
  readonly submitBurstPerUser: number;
  readonly scoreLimits: ScoreRules;
  /** Whose submits the per-user bucket limits: player tokens only (server/admin skip it), or all. */
  readonly submitRateAppliesTo: 'players' | 'all';
  /** While Redis is unreachable, submits needing the shared limits go through (open) or are refused (closed). */
  readonly limitsWhenRedisDown: 'open' | 'closed';
  /** The only game modes a submit may use; undefined: any, with at most `maxBoards` mode boards. */
  readonly gameModes: readonly string[] | undefined;
  readonly maxBoards: number;
  /** Player and anonymous sockets: requests per second (0: off), burst, and rate_limited replies before closing. */
  readonly wsRatePerSocket: number;
  readonly wsBurstPerSocket: number;
  readonly wsAbuseCloseAfter: number;
  readonly maxSockets: number;
  readonly maxConnectionsPerIp: number;
  readonly upgradeRatePerIp: number;
  readonly upgradeBurstPerIp: number;
  readonly httpRatePerIp: number;
  readonly httpBurstPerIp: number;
  readonly httpBodyTimeoutMs: number;
  /** Origins allowed to call the HTTP API from a browser ('*' for any); empty: no CORS headers. */
  readonly corsOrigins: readonly string[];
  /** Take the client address from the last X-Forwarded-For hop (set by our own load balancer). */
  readonly trustProxy: boolean;
  /** New Relic is loaded only when this is set. */
  readonly newRelicLicenseKey: string | undefined;
  readonly newRelicAppName: string;
}

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // An empty variable counts as unset, as shells and compose files often leave them.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  // A capped mode missing from the allowlist is almost certainly a typo in one of the two.
  const unlisted = e.GAME_MODES ? Object.keys(e.SCORE_LIMITS).filter((k) => k !== ANY_MODE && k !== ALL_MODES && !e.GAME_MODES!.includes(k)) : [];
  if (unlisted.length > 0) {
    throw new ConfigError(`invalid configuration: SCORE_LIMITS: rules for game modes GAME_MODES does not list: ${unlisted.join(', ')}`);
  }
  if (e.NODE_ENV === 'production' && !e.JWT_SECRET) {
    throw new ConfigError('invalid configuration: JWT_SECRET: required when NODE_ENV=production');
  }
  const host = e.HOST ?? (e.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1');
  if (!e.JWT_SECRET && !isLoopback(host)) {
    // Without a secret the server logs a server-role token: anyone who reads the log could submit.
    throw new ConfigError(`invalid configuration: JWT_SECRET: required when HOST (${host}) is not a loopback address`);
  }
  return Object.freeze({
    env: e.NODE_ENV,
    host,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisClusterNodes: e.REDIS_CLUSTER_NODES,
    redisPrefix: e.REDIS_PREFIX,
    jwtSecret: e.JWT_SECRET,
    jwtPreviousSecrets: Object.freeze([...e.JWT_PREVIOUS_SECRETS]),
    jwtAudience: e.JWT_AUDIENCE,
    jwtIssuer: e.JWT_ISSUER,
    jwtLeewayS: e.JWT_LEEWAY_S,
    jwtMaxPlayerTtlS: e.JWT_MAX_PLAYER_TTL_S,
    jwtJwksFile: e.JWT_JWKS_FILE,
    logLevel: e.LOG_LEVEL,
    logPretty: (e.LOG_FORMAT ?? (e.NODE_ENV === 'development' ? 'pretty' : 'json')) === 'pretty',
    pgPoolSize: e.PG_POOL_SIZE,
    pgQueryTimeoutMs: e.PG_QUERY_TIMEOUT_MS,
    boardsConfigPath: e.BOARDS_CONFIG,
    topCache: e.TOP_CACHE === 'on',
    boardWindows: e.BOARD_WINDOWS,
    groupCommitMax: e.GROUP_COMMIT_MAX,
    groupCommitConcurrency: e.GROUP_COMMIT_CONCURRENCY,
    submitQueueMax: e.SUBMIT_QUEUE_MAX,
    redisCommandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    redisEvictionCheck: e.REDIS_EVICTION_CHECK,
    startupTimeoutMs: e.STARTUP_TIMEOUT_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    wsIdleTimeoutS: e.WS_IDLE_TIMEOUT_S,
    wsMaxBackpressureBytes: e.WS_MAX_BACKPRESSURE_BYTES,
    diffTickMs: e.DIFF_TICK_MS,
    liveRefreshMs: e.LIVE_REFRESH_MS,
    liveLagTimeoutMs: e.LIVE_LAG_TIMEOUT_MS,
    wsMaxSubscriptions: e.WS_MAX_SUBSCRIPTIONS,
    indexCheckIntervalMs: e.INDEX_CHECK_INTERVAL_MS,
    submitRatePerUser: e.SUBMIT_RATE_PER_USER,
    submitBurstPerUser: e.SUBMIT_BURST_PER_USER,
    scoreLimits: e.SCORE_LIMITS,
    submitRateAppliesTo: e.SUBMIT_RATE_APPLIES_TO,
    limitsWhenRedisDown: e.LIMITS_WHEN_REDIS_DOWN,
    gameModes: e.GAME_MODES && Object.freeze([...new Set(e.GAME_MODES)]),
    maxBoards: e.MAX_BOARDS,
    wsRatePerSocket: e.WS_RATE_PER_SOCKET,
    wsBurstPerSocket: e.WS_BURST_PER_SOCKET,
    wsAbuseCloseAfter: e.WS_ABUSE_CLOSE_AFTER,
    maxSockets: e.MAX_SOCKETS,
    maxConnectionsPerIp: e.MAX_CONNECTIONS_PER_IP,
    upgradeRatePerIp: e.UPGRADE_RATE_PER_IP,
    upgradeBurstPerIp: e.UPGRADE_BURST_PER_IP,
    httpRatePerIp: e.HTTP_RATE_PER_IP,
    httpBurstPerIp: e.HTTP_BURST_PER_IP,
    httpBodyTimeoutMs: e.HTTP_BODY_TIMEOUT_MS,
    corsOrigins: Object.freeze([...e.CORS_ORIGINS]),
    trustProxy: e.TRUST_PROXY === 'true',
    newRelicLicenseKey: e.NEW_RELIC_LICENSE_KEY,
    newRelicAppName: e.NEW_RELIC_APP_NAME,
  });
}
