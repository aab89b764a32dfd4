/**
 * Prometheus metrics (prom-client), one registry per app instance. Names follow Prometheus
 * conventions: `_total` counters, `_seconds` histograms, base units.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { logLinesSuppressed } from './log.ts';

export type Transport = 'ws' | 'http';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'leaderboard_' });
  const requests = hotCounter({
    name: 'leaderboard_requests_total',
    help: 'Requests answered, by op, transport and outcome (ok or an error code).',
    labelNames: ['op', 'transport', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'leaderboard_request_duration_seconds',
    help: 'Time from a request being read to its reply being written.',
    labelNames: ['op', 'transport'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const groupCommitSize = new Histogram({
    name: 'leaderboard_group_commit_size',
    help: 'Submits committed together in one PostgreSQL transaction.',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [registry],
  });
  const storeDuration = new Histogram({
    name: 'leaderboard_store_call_duration_seconds',
    help: 'PostgreSQL and Redis calls made by request handling, by store and call.',
    labelNames: ['store', 'call'] as const,
    buckets: [0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'leaderboard_errors_total',
    help: 'Error replies, by code (both transports).',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const indexReads = hotCounter({
    name: 'leaderboard_index_reads_total',
    help: 'Reads served by the Redis rank index (source=redis), by the in-memory view of a live board kept current by the index (source=memory, top only), or by PostgreSQL when the index could not (source=postgres).',
    labelNames: ['source'] as const,
    registers: [registry],
  });
  const indexWriteFailures = new Counter({
    name: 'leaderboard_index_write_failures_total',
    help: 'Committed updates the rank index could not take (the board is then rebuilt).',
    registers: [registry],
  });
  const submits = new Counter({
    name: 'leaderboard_submits_committed_total',
    help: 'Submits committed to PostgreSQL (duplicates excluded).',
    registers: [registry],
  });
  const rebuilds = new Counter({
    name: 'leaderboard_index_rebuilds_total',
    help: 'Boards whose rank index was rebuilt from PostgreSQL.',
    registers: [registry],
  });
  const limitsUnenforced = new Counter({
    name: 'leaderboard_limits_unenforced_total',
    help: 'Submits let through without the shared per-user limits because Redis did not answer (LIMITS_WHEN_REDIS_DOWN=open).',
    registers: [registry],
  });
  const limitsRefused = new Counter({
    name: 'leaderboard_limits_refused_total',
    help: 'Submits refused `unavailable` because Redis did not answer to check the shared per-user limits (LIMITS_WHEN_REDIS_DOWN=closed).',
    registers: [registry],
  });
  const sockets = new Gauge({
    name: 'leaderboard_ws_connections',
    help: 'Open WebSocket connections.',
    registers: [registry],
  });
  const subscriptions = new Gauge({
    name: 'leaderboard_live_subscriptions',
    help: 'Live board subscriptions on this instance.',
    registers: [registry],
  });
  const pushes = new Counter({
    name: 'leaderboard_live_pushes_total',
    help: 'Frames pushed to subscribers (kind=diff|snapshot), counted per receiving socket.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const resyncs = new Counter({
    name: 'leaderboard_live_resyncs_total',
    help: 'Fresh snapshots pushed to subscribers that caught up after falling behind.',
    registers: [registry],
  });
  const diffLatency = new Histogram({
    name: 'leaderboard_live_diff_latency_seconds',
    help: 'From a change notice reaching this instance to the diff carrying it being published.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1],
    registers: [registry],
  });
  const slowConsumers = new Counter({
    name: 'leaderboard_live_slow_consumer_drops_total',
    help: 'Times a subscriber fell behind and had its backlog dropped.',
    registers: [registry],
  });
  let suppressedSeen = 0;
  new Counter({
    name: 'leaderboard_log_lines_suppressed_total',
    help: 'Warning and error lines left out of the log as repeats of one written less than 5 s before (see server/log.ts).',
    registers: [registry],
    collect() {
      const now = logLinesSuppressed();
      this.inc(now - suppressedSeen);
      suppressedSeen = now;
    },
  });
  return {
    registry,
    requests,
    duration,
    storeDuration,
    groupCommitSize,
    errors,
    indexReads,
    indexWriteFailures,
    submits,
    rebuilds,
    sockets,
    limitsUnenforced,
    limitsRefused,
    subscriptions,
    pushes,
    resyncs,
    slowConsumers,
    diffLatency,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * A counter counted on every request: prom-client hashes the labels on each `inc`, which costs
 * more than a cheap request itself does; here counts gather in a map keyed by the label values and
 * reach prom-client when it is scraped (`collect`), so what it reports is the same.
 */
function hotCounter<L extends string>(config: { name: string; help: string; labelNames: readonly L[]; registers: Registry[] }) {
  const tally = new Map<string, { labels: Record<L, string>; n: number }>();
  const counter = new Counter<L>({
    ...config,
    collect() {
      for (const t of tally.values()) {
        if (t.n === 0) continue;
        this.inc(t.labels, t.n);
        t.n = 0;
      }
    },
  });
  return {
    inc(labels: Record<L, string>, n = 1): void {
      let key = '';
      for (const l of config.labelNames) key += labels[l] + '\u0000';
      const t = tally.get(key);
      if (t) t.n += n;
      else tally.set(key, { labels: { ...labels }, n });
    },
    get: () => counter.get(),
  };
}

/** Counts one answered request (ok or an error code) and, when it was dispatched, its latency. */
export function recordRequest(m: Metrics, op: string, transport: Transport, outcome: string, startedMs?: number): void {
  m.requests.inc({ op, transport, outcome });
  if (outcome !== 'ok') m.errors.inc({ code: outcome });
  if (startedMs !== undefined) m.duration.observe({ op, transport }, (performance.now() - startedMs) / 1000);
}
