/**
 * Wires the server together: stores, rank index, handlers and the two edges on one uWS app, with
 * start-up (database creation, migrations, fail-fast connections, index rebuild) and graceful
 * shutdown. `startApp` is what main.ts runs and what tests start in-process.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CLOSE_CODES, periodSuffixes, type HealthReply } from '../protocol/index.ts';
import { systemClock, type Clock } from './clock.ts';
import { noApm, reportIndexHitRate, type Apm } from './apm.ts';
import { parseJwks, type PublicKeys } from './auth/jwks.ts';
import { keyring, signToken } from './auth/jwt.ts';
import type { Config } from './config.ts';
import { HttpEdge } from './http.ts';
import { InstanceHeartbeat } from './index/heartbeat.ts';
import { checkEviction } from './index/eviction.ts';
import { IndexMaintainer } from './index/maintainer.ts';
import { WindowCloser } from './window-closer.ts';
import { NO_PROGRESS, type ProgressOutput } from './progress.ts';
import { RankIndex } from './index/rank-index.ts';
import { Inflight } from './inflight.ts';
import { Leaderboard } from './leaderboard.ts';
import type { Logger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { SubmitGuard } from './limits/submit-guard.ts';
import { ModeGate, postgresModeStore } from './limits/game-modes.ts';
import { LiveHub } from './live/hub.ts';
import { requestHandlers } from './ops.ts';
import { EMPTY_BOARD_CONFIG, applyBoardConfig, parseBoardConfig, type BoardConfig } from './board-config.ts';
import { PendingUpdates } from './store/pending.ts';
import { createRedis, createSubscriber, describeTarget, type RedisClient, type RedisTarget } from './store/redis.ts';
import { clockSkewMs, connect, ensureDatabase, withDeadline, type Sql } from './store/db.ts';
import { SubmitPipeline } from './submit-pipeline.ts';
import { migrate } from './store/migrate.ts';
import { uWS, type us_listen_socket } from './uws.ts';
import { SocketEdge } from './ws.ts';
import { BOARD_DIST, mountStatic } from './static.ts';

export interface RunningApp {
  port: number;
  sql: Sql;
  redis: RedisClient;
  index: RankIndex;
  maintainer: IndexMaintainer;
  metrics: Metrics;
  live: LiveHub;
  sockets: SocketEdge;
  jwtSecret: string;
  /** Resolves when the start-up rebuild of the rank index has finished. */
  indexReady: Promise<void>;
  /** Graceful shutdown: stop accepting, finish in-flight requests, close sockets with 1001. */
  close(): Promise<void>;
}

export class StartupError extends Error {}

/** How often the known game modes are re-read (each new mode is also checked when first seen). */
const MODE_REFRESH_MS = 30_000;

async function withTimeout<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StartupError(`${what}: no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/** The per-board settings, checked before anything is touched. */
async function readBoardConfig(config: Config): Promise<BoardConfig> {
  if (!config.boardsConfigPath) return EMPTY_BOARD_CONFIG;
  try {
    return parseBoardConfig(await readFile(config.boardsConfigPath, 'utf8'), config.boardsConfigPath);
  } catch (err) {
    throw new StartupError(`cannot use BOARDS_CONFIG: ${(err as Error).message}`, { cause: err });
  }
}

/** The RS256/ES256 public keys (JWT_JWKS_FILE), checked before anything is touched. */
async function readJwks(config: Config): Promise<PublicKeys | undefined> {
  if (!config.jwtJwksFile) return undefined;
  try {
    return parseJwks(await readFile(config.jwtJwksFile, 'utf8'), config.jwtJwksFile);
  } catch (err) {
    throw new StartupError(`cannot use JWT_JWKS_FILE: ${(err as Error).message}`, { cause: err });
  }
}

async function openPostgres(config: Config, log: Logger): Promise<Sql> {
  const timeoutS = Math.max(1, Math.ceil(config.startupTimeoutMs / 1000));
  try {
    if (await ensureDatabase(config.databaseUrl, timeoutS)) log.info('created database');
    const sql = connect({ url: config.databaseUrl, poolSize: config.pgPoolSize, connectTimeoutS: timeoutS, logger: log });
    const applied = await withTimeout('migrations', config.startupTimeoutMs * 4, migrate(sql));
    if (applied.length > 0) log.info({ applied }, 'applied migrations');
    const skewMs = await clockSkewMs(sql);
    if (Math.abs(skewMs) > config.pgQueryTimeoutMs / 4) {
      log.warn({ skewMs, pgQueryTimeoutMs: config.pgQueryTimeoutMs }, 'this host and PostgreSQL disagree on the time: submit deadlines will be off by that much (sync the clocks)');
    }
    return sql;
  } catch (err) {
    throw new StartupError(`cannot use PostgreSQL at ${redactUrl(config.databaseUrl)}: ${(err as Error).message}`, { cause: err });
  }
}

async function openRedis(config: Config, log: Logger): Promise<RedisClient> {
  const target = redisTarget(config);
  const redis = createRedis(target, {
    lazyConnect: true,
    enableOfflineQueue: false, // fail at once while disconnected: reads then fall back to PostgreSQL
    enableAutoPipelining: true, // commands issued in one event-loop turn share one write (per node)
    maxRetriesPerRequest: 1,
    commandTimeout: config.redisCommandTimeoutMs,
    connectTimeout: config.startupTimeoutMs,
    retryStrategy: (times) => Math.min(100 * times, 2000),
  });
  let lastWarn = 0;
  redis.on('error', (err: Error) => {
    // ioredis emits one error per failed reconnect; one line per few seconds is enough.
    if (Date.now() - lastWarn > 5000) {
      lastWarn = Date.now();
      log.warn({ err: err.message }, 'redis connection error');
    }
  });
  try {
    await withTimeout('redis connect', config.startupTimeoutMs, redis.connect());
  } catch (err) {
    redis.disconnect();
    throw new StartupError(`cannot reach Redis at ${describeTarget(target, redactUrl)}: ${(err as Error).message}`, { cause: err });
  }
  const refusal = await checkEviction(redis, config.redisEvictionCheck, log);
  if (refusal) {
    redis.disconnect();
    throw new StartupError(refusal);
  }
  return redis;
}

function redisTarget(config: Config): RedisTarget {
  return { url: config.redisUrl, clusterNodes: config.redisClusterNodes };
}

function listen(app: ReturnType<typeof uWS.App>, host: string, port: number): Promise<us_listen_socket> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket) => {
      if (socket) resolve(socket);
      else reject(new StartupError(`cannot listen on ${host}:${port}`));
    });
  });
}

export async function startApp(
  config: Config,
  log: Logger,
  apm: Apm = noApm,
  clock: Clock = systemClock,
  /** Where start-up rebuilds of the rank index show progress (main.ts: stderr on a terminal). */
  progress: ProgressOutput = NO_PROGRESS,
): Promise<RunningApp> {
  let jwtSecret = config.jwtSecret;
  if (!jwtSecret) {
    jwtSecret = randomBytes(32).toString('base64url');
    const token = signToken({ sub: 'dev', role: 'server' }, jwtSecret);
    // Config refuses this on any address but loopback, where only this machine can use the token.
    log.warn({ devServerToken: token }, 'JWT_SECRET is not set: using a random secret for this run; the token below has role server');
  }
  const publicKeys = await readJwks(config);

  const boards = await readBoardConfig(config);
  const sql = await openPostgres(config, log);
  try {
    await applyBoardConfig(sql, boards);
  } catch (err) {
    await sql.end({ timeout: 1 });
    throw new StartupError(`cannot apply the board settings: ${(err as Error).message}`, { cause: err });
  }
  let redis: RedisClient;
  try {
    redis = await openRedis(config, log);
  } catch (err) {
    await sql.end({ timeout: 1 });
    throw err;
  }

  const metrics = createMetrics();
  const index = new RankIndex(redis, config.redisPrefix);
  const heartbeat = new InstanceHeartbeat(redis, config.redisPrefix, log);
  const pending = new PendingUpdates(sql, heartbeat.instanceId, log);
  const currentPeriods = () => periodSuffixes(config.boardWindows, clock.now());
  const maintainer = new IndexMaintainer(
    index,
    sql,
    log,
    config.indexCheckIntervalMs,
    { rebuilt: () => metrics.rebuilds.inc(), progress },
    heartbeat,
    currentPeriods,
    // A batch and its late settling take at most three deadlines: a record older than that is stale.
    Math.max(10_000, 3 * config.pgQueryTimeoutMs),
  );
  let live: LiveHub | undefined = undefined;
  const modes = new ModeGate(
    { allowed: config.gameModes, maxBoards: config.maxBoards, refreshMs: MODE_REFRESH_MS, waitMs: config.pgQueryTimeoutMs },
    postgresModeStore(sql, config.pgQueryTimeoutMs),
    log,
  );
  await modes.start();
  const guard = new SubmitGuard(
    redis,
    config.redisPrefix,
    {
      ratePerUser: config.submitRatePerUser,
      burstPerUser: config.submitBurstPerUser,
      scoreRules: config.scoreLimits,
      rateAppliesTo: config.submitRateAppliesTo,
      whenRedisDown: config.limitsWhenRedisDown,
    },
    log,
    { unenforced: () => metrics.limitsUnenforced.inc(), refusedRedisDown: () => metrics.limitsRefused.inc() },
    modes,
  );
  const writes = new SubmitPipeline({
    sql,
    index,
    maintainer,
    pending,
    metrics,
    log,
    maxBatch: config.groupCommitMax,
    maxConcurrent: config.groupCommitConcurrency,
    queryTimeoutMs: config.pgQueryTimeoutMs,
    windows: config.boardWindows,
    clock,
    onCommitted: (updates, renamed) => {
      for (const u of updates) live?.noteChange(u.board, { userId: u.userId, total: u.total, games: u.games });
      for (const userId of renamed) live?.noteRename(userId);
    },
  });
  const leaderboard = new Leaderboard({
    sql,
    clock,
    topCache: config.topCache ? (board, limit) => live?.cachedTop(board, limit) : undefined,
    queryTimeoutMs: config.pgQueryTimeoutMs,
    writes,
    index,
    maintainer,
    log,
    metrics,
    guard,
  });
  const inflight = new Inflight();
  const handlers = requestHandlers(leaderboard, clock);

  const health = async (): Promise<HealthReply> => {
    const probe = async (p: () => Promise<unknown>) => {
      try {
        await withTimeout('health probe', 1000, p());
        return 'connected' as const;
      } catch {
        return 'disconnected' as const; // the probe's only job is to say whether the store answers
      }
    };
    const [database, redisState] = await Promise.all([probe(() => sql`SELECT 1`), probe(() => redis.ping())]);
    const healthy = database === 'connected' && redisState === 'connected';
    return { status: healthy ? 'healthy' : 'unhealthy', database, redis: redisState };
  };

  const app = uWS.App();
  const jwtSecrets = keyring(
    [jwtSecret, ...config.jwtPreviousSecrets],
    { leewayS: config.jwtLeewayS, maxPlayerTtlS: config.jwtMaxPlayerTtlS, audience: config.jwtAudience, issuer: config.jwtIssuer },
    publicKeys,
  );
  const sockets = new SocketEdge({ config, jwtSecrets, handlers, inflight, metrics, apm, log });
  const http = new HttpEdge({
    jwtSecrets,
    handlers,
    inflight,
    metrics,
    apm,
    log,
    health,
    limits: {
      ratePerIp: config.httpRatePerIp,
      burstPerIp: config.httpBurstPerIp,
      bodyTimeoutMs: config.httpBodyTimeoutMs,
      corsOrigins: config.corsOrigins,
      trustProxy: config.trustProxy,
    },
  });
  sockets.mount(app);
  http.mount(app);
  mountStatic(app, BOARD_DIST, log, (route, fn) => http.guarded(route, fn));
  http.mountFallback(app);

  const subscriber = createSubscriber(redisTarget(config), redis, `${config.redisPrefix}:live`);
  subscriber.on('error', () => undefined); // the command connection already reports Redis trouble
  const hub = new LiveHub({
    app,
    subscriber,
    redisPrefix: config.redisPrefix,
    loadTop: (board, limit) => leaderboard.topView(board, limit),
    send: (ws, frame) => sockets.send(ws, frame),
    metrics,
    log,
    clock,
    onDiffLatency: (seconds) => {
      metrics.diffLatency.observe(seconds);
      apm.recordMetric('Custom/Leaderboard/DiffLatency', seconds);
    },
    options: {
      tickMs: config.diffTickMs,
      refreshMs: config.liveRefreshMs,
      maxBacklogBytes: config.wsMaxBackpressureBytes,
      lagTimeoutMs: config.liveLagTimeoutMs,
      maxSubscriptionsPerSocket: config.wsMaxSubscriptions,
    },
  });
  live = hub;
  sockets.setLive(hub);
  hub.start();
  const stopHitRate = reportIndexHitRate(
    apm,
    async () => {
      const { values } = await metrics.indexReads.get();
      const of = (source: string) => values.find((v) => v.labels.source === source)?.value ?? 0;
      return { redis: of('redis') + of('memory'), postgres: of('postgres') };
    },
    10_000,
  );

  // Before the first commit can happen: a pending record's owner must be seen alive.
  await heartbeat.start();
  const listenSocket = await listen(app, config.host, config.port);
  const port = uWS.us_socket_local_port(listenSocket);
  log.info({ host: config.host, port }, 'listening');

  maintainer.start();
  // Ended periods are written out as rows (a grace of a deadline after their end); not awaited:
  // a first close after a long stop scans the all-time rows once.
  const closer = new WindowCloser({ sql, clock, log, windows: config.boardWindows, graceMs: config.pgQueryTimeoutMs + 1000 });
  const closerStarted = closer.start();
  // Reads are served while the index rebuilds: untrusted boards fall back to PostgreSQL.
  const indexReady = maintainer.recover(config.pgQueryTimeoutMs).then(
    () => log.info({ pending: maintainer.pendingBoards.length }, 'rank index ready'),
    (err: unknown) => log.error({ err }, 'start-up rebuild of the rank index failed; the periodic check will retry'),
  );

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      log.info({ inflight: inflight.size }, 'shutting down');
      sockets.stopAccepting();
      http.stop();
      uWS.us_listen_socket_close(listenSocket);
      const finished = await inflight.drain(config.shutdownTimeoutMs);
      if (!finished) log.warn({ inflight: inflight.size }, 'shutdown deadline passed with requests in flight');
      sockets.closeAll(CLOSE_CODES.going_away, 'server shutting down');
      hub.stop();
      // Batches still committing finish (or reach their deadline) and clear their pending rows;
      // what is left after that stays recorded for another instance.
      if (!(await writes.idle(config.pgQueryTimeoutMs))) log.warn('shutdown with submit batches still settling; their boards are left to other instances');
      modes.stop();
      stopHitRate();
      await maintainer.stop();
      await closerStarted;
      await closer.stop();
      // Bounded: records whose delete does not get through only cost another instance a rebuild.
      await withDeadline(pending.flush(), config.pgQueryTimeoutMs).catch((err: unknown) => log.warn({ err }, 'could not clear applied index updates at shutdown'));
      await heartbeat.stop();
      await sql.end({ timeout: 5 });
      redis.disconnect();
      subscriber.disconnect();
      // close() exists in the native 20.30 binary but is missing from its type declarations.
      (app as unknown as { close(): void }).close();
      log.info('shut down');
    })());

  return { port, sql, redis, index, maintainer, metrics, live: hub, sockets, jwtSecret, indexReady, close };
}
