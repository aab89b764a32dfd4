/**
 * A server instance's lifecycle: opening the stores (database creation, migrations, fail-fast
 * connections), building the objects (compose.ts), starting them and listening, and the ordered
 * steps of a graceful shutdown. `startApp` is what main.ts runs and what tests start in-process.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CLOSE_CODES } from '../protocol/index.ts';
import { noApm, reportIndexHitRate, type Apm } from './apm.ts';
import { parseJwks, type PublicKeys } from './auth/jwks.ts';
import { signToken } from './auth/jwt.ts';
import { EMPTY_BOARD_CONFIG, applyBoardConfig, parseBoardConfig, type BoardConfig } from './board-config.ts';
import { systemClock, type Clock } from './clock.ts';
import type { CommitEvents } from './commit-events.ts';
import { compose } from './compose.ts';
import type { Config } from './config.ts';
import { checkEviction } from './rank-index/eviction.ts';
import type { IndexMaintainer } from './rank-index/maintainer.ts';
import type { RankIndex } from './rank-index/rank-index.ts';
import type { LiveHub } from './live/hub.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import { NO_PROGRESS, type ProgressOutput } from './progress.ts';
import { clockSkewMs, connect, ensureDatabase, withDeadline, type Sql } from './store/db.ts';
import { migrate } from './store/migrate.ts';
import { createRedis, createSubscriber, describeTarget, type RedisClient, type RedisTarget } from './store/redis.ts';
import { uWS, type us_listen_socket } from './uws.ts';
import type { SocketEdge } from './ws.ts';

export interface RunningApp {
  port: number;
  sql: Sql;
  redis: RedisClient;
  index: RankIndex;
  maintainer: IndexMaintainer;
  metrics: Metrics;
  live: LiveHub;
  /** Where this instance announces what it committed. */
  events: CommitEvents;
  sockets: SocketEdge;
  jwtSecret: string;
  /** Resolves when the start-up rebuild of the rank index has finished. */
  indexReady: Promise<void>;
  /** Graceful shutdown: stop accepting, finish in-flight requests, close sockets with 1001. */
  close(): Promise<void>;
}

export class StartupError extends Error {}

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

  // 1. The stores, each checked before the next is touched.
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
  const subscriber = createSubscriber(redisTarget(config), redis, `${config.redisPrefix}:live`);
  subscriber.on('error', () => undefined); // the command connection already reports Redis trouble

  // 2. The objects (compose.ts: no I/O), then what they start, in order.
  const s = compose(config, { sql, redis, subscriber }, { log, apm, clock, progress, jwtSecret, publicKeys, boards });
  await s.modes.start();
  s.hub.start();
  const stopHitRate = reportIndexHitRate(
    apm,
    async () => {
      const { values } = await s.metrics.indexReads.get();
      const of = (source: string) => values.find((v) => v.labels.source === source)?.value ?? 0;
      return { redis: of('redis') + of('memory'), postgres: of('postgres') };
    },
    10_000,
  );
  // Before the first commit can happen: a pending record's owner must be seen alive.
  await s.heartbeat.start();
  const listenSocket = await listen(s.app, config.host, config.port);
  const port = uWS.us_socket_local_port(listenSocket);
  log.info({ host: config.host, port }, 'listening');

  s.maintainer.start();
  // Ended periods are written out as rows (a grace of a deadline after their end); not awaited:
  // a first close after a long stop scans the all-time rows once.
  const closerStarted = s.closer.start();
  // Reads are served while the index rebuilds: untrusted boards fall back to PostgreSQL.
  const indexReady = s.maintainer.recover(config.pgQueryTimeoutMs).then(
    () => log.info({ pending: s.maintainer.pendingBoards.length }, 'rank index ready'),
    (err: unknown) => log.error({ err }, 'start-up rebuild of the rank index failed; the periodic check will retry'),
  );

  // 3. Shutdown, step by step in this order; each step runs once its predecessors have ended.
  const shutdown: { step: string; run: () => Promise<void> | void }[] = [
    {
      step: 'stop accepting',
      run: () => {
        s.sockets.stopAccepting();
        s.http.stop();
        uWS.us_listen_socket_close(listenSocket);
      },
    },
    {
      step: 'finish requests in flight',
      run: async () => {
        if (!(await s.inflight.drain(config.shutdownTimeoutMs))) log.warn({ inflight: s.inflight.size }, 'shutdown deadline passed with requests in flight');
      },
    },
    { step: 'close sockets', run: () => s.sockets.closeAll(CLOSE_CODES.going_away, 'server shutting down') },
    { step: 'stop live push', run: () => s.hub.stop() },
    {
      // Batches still committing finish (or reach their deadline) and clear their pending rows;
      // what is left after that stays recorded for another instance.
      step: 'settle submit batches',
      run: async () => {
        if (!(await s.writes.idle(config.pgQueryTimeoutMs))) log.warn('shutdown with submit batches still settling; their boards are left to other instances');
      },
    },
    {
      step: 'stop background work',
      run: async () => {
        s.modes.stop();
        stopHitRate();
        await s.maintainer.stop();
        await closerStarted;
        await s.closer.stop();
      },
    },
    {
      // Bounded: records whose delete does not get through only cost another instance a rebuild.
      step: 'clear applied index records',
      run: () =>
        withDeadline(s.pending.flush(), config.pgQueryTimeoutMs).catch((err: unknown) => log.warn({ err }, 'could not clear applied index updates at shutdown')),
    },
    { step: 'stop heartbeat', run: () => s.heartbeat.stop() },
    {
      step: 'close stores',
      run: async () => {
        await sql.end({ timeout: 5 });
        redis.disconnect();
        subscriber.disconnect();
        // close() exists in the native 20.30 binary but is missing from its type declarations.
        (s.app as unknown as { close(): void }).close();
      },
    },
  ];
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      log.info({ inflight: s.inflight.size }, 'shutting down');
      for (const { run } of shutdown) await run();
      log.info('shut down');
    })());

  return {
    port,
    sql,
    redis,
    index: s.index,
    maintainer: s.maintainer,
    metrics: s.metrics,
    live: s.hub,
    events: s.events,
    sockets: s.sockets,
    jwtSecret,
    indexReady,
    close,
  };
}
