/**
 * Composition: every object of a server instance, built from the parsed config and the opened
 * stores, in dependency order and without I/O (nothing connects, listens or starts a timer here;
 * app.ts does that). Each object gets what it needs at construction: committed changes reach the
 * live hub through CommitEvents, the hub reads boards through BoardReads, and the socket edge gets
 * the hub, so nothing is bound late.
 */
import type { HealthReply } from '../protocol/index.ts';
import type { Apm } from './apm.ts';
import type { PublicKeys } from './auth/jwks.ts';
import { keyring } from './auth/jwt.ts';
import type { BoardConfig } from './board-config.ts';
import { BoardKinds } from './board-kinds.ts';
import { BoardReads } from './board-reads.ts';
import type { Clock } from './clock.ts';
import { CommitEvents } from './commit-events.ts';
import type { Config } from './config.ts';
import { HttpEdge } from './http.ts';
import { InstanceHeartbeat } from './rank-index/heartbeat.ts';
import { IndexMaintainer } from './rank-index/maintainer.ts';
import { RankIndex } from './rank-index/rank-index.ts';
import { ServedBoards } from './rank-index/served-boards.ts';
import { Inflight } from './inflight.ts';
import { Leaderboard } from './leaderboard.ts';
import { ModeGate, postgresModeStore } from './limits/game-modes.ts';
import { SubmitGuard } from './limits/submit-guard.ts';
import { LiveHub } from './live/hub.ts';
import type { Logger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { requestHandlers } from './ops.ts';
import type { ProgressOutput } from './progress.ts';
import { sendFrame } from './socket.ts';
import { BOARD_DIST, mountStatic } from './static.ts';
import { withDeadline, type Sql } from './store/db.ts';
import { PendingUpdates } from './store/pending.ts';
import type { RedisClient } from './store/redis.ts';
import { SubmitPipeline } from './submit-pipeline.ts';
import { uWS, type TemplatedApp } from './uws.ts';
import { WindowCloser } from './window-closer.ts';
import { SocketEdge } from './ws.ts';

/** How often the known game modes are re-read (each new mode is also checked when first seen). */
const MODE_REFRESH_MS = 30_000;

export interface Stores {
  sql: Sql;
  /** Commands. */
  redis: RedisClient;
  /** Pub/sub: a subscribed connection can do nothing else. */
  subscriber: RedisClient;
}

export interface ComposeOptions {
  log: Logger;
  apm: Apm;
  clock: Clock;
  progress: ProgressOutput;
  /** The HS256 secret in use (config's, or a random one for a loopback dev run). */
  jwtSecret: string;
  publicKeys: PublicKeys | undefined;
  /** BOARDS_CONFIG, parsed (and already applied to PostgreSQL). */
  boards: BoardConfig;
}

export interface Server {
  app: TemplatedApp;
  metrics: Metrics;
  index: RankIndex;
  heartbeat: InstanceHeartbeat;
  pending: PendingUpdates;
  maintainer: IndexMaintainer;
  modes: ModeGate;
  events: CommitEvents;
  writes: SubmitPipeline;
  leaderboard: Leaderboard;
  hub: LiveHub;
  inflight: Inflight;
  sockets: SocketEdge;
  http: HttpEdge;
  closer: WindowCloser;
}

export function compose(config: Config, stores: Stores, o: ComposeOptions): Server {
  const { sql, redis, subscriber } = stores;
  const { log, clock } = o;
  const metrics = createMetrics();
  const index = new RankIndex(redis, config.redisPrefix, (call) => metrics.storeDuration.startTimer({ store: 'redis', call }));
  const heartbeat = new InstanceHeartbeat(redis, config.redisPrefix, log);
  const pending = new PendingUpdates(sql, heartbeat.instanceId, log);
  const served = new ServedBoards(config.boardWindows, () => clock.now());
  const kinds = new BoardKinds(o.boards, config.boardWindows);
  const maintainer = new IndexMaintainer(
    index,
    sql,
    log,
    config.indexCheckIntervalMs,
    { rebuilt: () => metrics.rebuilds.inc(), progress: o.progress },
    heartbeat,
    served,
    // A batch and its late settling take at most three deadlines: a record older than that is stale.
    Math.max(10_000, 3 * config.pgQueryTimeoutMs),
  );
  const modes = new ModeGate(
    { allowed: config.gameModes, maxBoards: config.maxBoards, refreshMs: MODE_REFRESH_MS, waitMs: config.pgQueryTimeoutMs },
    postgresModeStore(sql, config.pgQueryTimeoutMs),
    log,
  );
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
  const events = new CommitEvents();
  const writes = new SubmitPipeline({
    sql,
    index,
    maintainer,
    pending,
    metrics,
    log,
    events,
    maxBatch: config.groupCommitMax,
    maxConcurrent: config.groupCommitConcurrency,
    maxQueued: config.submitQueueMax,
    queryTimeoutMs: config.pgQueryTimeoutMs,
    windows: config.boardWindows,
    clock,
  });
  const reads = new BoardReads({ sql, index, maintainer, served, kinds, queryTimeoutMs: config.pgQueryTimeoutMs, log, metrics });

  const app = uWS.App();
  const hub = new LiveHub({
    app,
    subscriber,
    redisPrefix: config.redisPrefix,
    loadTop: (board, limit) => reads.topView(board, limit),
    signOf: (board) => kinds.sign(board),
    send: (ws, frame) => sendFrame(ws, frame, log),
    metrics,
    log,
    clock,
    onDiffLatency: (seconds) => {
      metrics.diffLatency.observe(seconds);
      o.apm.recordMetric('Custom/Leaderboard/DiffLatency', seconds);
    },
    options: {
      tickMs: config.diffTickMs,
      refreshMs: config.liveRefreshMs,
      maxBacklogBytes: config.wsMaxBackpressureBytes,
      lagTimeoutMs: config.liveLagTimeoutMs,
      maxSubscriptionsPerSocket: config.wsMaxSubscriptions,
    },
  });
  events.subscribe({ changed: (board, notice) => hub.noteChange(board, notice), renamed: (userId) => hub.noteRename(userId) });

  const leaderboard = new Leaderboard({
    reads,
    topCache: config.topCache ? (board, limit) => hub.cachedTop(board, limit) : undefined,
    writes,
    log,
    metrics,
    guard,
  });
  const inflight = new Inflight();
  const handlers = requestHandlers(leaderboard, clock);
  const jwtSecrets = keyring(
    [o.jwtSecret, ...config.jwtPreviousSecrets],
    { leewayS: config.jwtLeewayS, maxPlayerTtlS: config.jwtMaxPlayerTtlS, audience: config.jwtAudience, issuer: config.jwtIssuer },
    o.publicKeys,
  );
  const sockets = new SocketEdge({ config, jwtSecrets, handlers, inflight, metrics, apm: o.apm, log, live: hub });
  const http = new HttpEdge({
    jwtSecrets,
    handlers,
    inflight,
    metrics,
    apm: o.apm,
    log,
    health: () => health(sql, redis),
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

  const closer = new WindowCloser({ sql, clock, log, windows: config.boardWindows, graceMs: config.pgQueryTimeoutMs + 1000 });
  return { app, metrics, index, heartbeat, pending, maintainer, modes, events, writes, leaderboard, hub, inflight, sockets, http, closer };
}

/** /health: whether each store answers a trivial command within a second. */
async function health(sql: Sql, redis: RedisClient): Promise<HealthReply> {
  const probe = async (p: () => Promise<unknown>) => {
    try {
      await withDeadline(p(), 1000);
      return 'connected' as const;
    } catch {
      return 'disconnected' as const; // the probe's only job is to say whether the store answers
    }
  };
  const [database, redisState] = await Promise.all([probe(() => sql`SELECT 1`), probe(() => redis.ping())]);
  const healthy = database === 'connected' && redisState === 'connected';
  return { status: healthy ? 'healthy' : 'unhealthy', database, redis: redisState };
}
