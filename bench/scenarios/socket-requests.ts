/**
 * Request scenarios over the socket: `submit` (closed loop), `submit-rate` (open loop at a fixed
 * rate), `rank` and `top` (closed loop on seeded data).
 */
import postgres from 'postgres';
import type { Sql } from '../../server/store/db.ts';
import { ensureDatabase } from '../../server/store/db.ts';
import { migrate } from '../../server/store/migrate.ts';
import { opt, serverToken, type BenchContext } from '../lib/context.ts';
import { errorBreakdown, type RunResult, type ScenarioResult } from '../lib/result.ts';
import { freshBenchStores, startBenchServer, type BenchStores } from '../lib/servers.ts';
import { median } from '../lib/stats.ts';
import { WriteCost } from '../lib/write-cost.ts';
import { runLoad } from '../load/pool.ts';
import type { LoadOp } from '../load/protocol-client.ts';
import { seed } from '../seed.ts';

export const MODES = ['ranked', 'casual', 'arena', 'blitz'];

export function summarizeRuns(scenario: string, unit: string, runs: RunResult[], params: ScenarioResult['params'], headline: (m: ScenarioResult['median']) => number): ScenarioResult {
  const m = {
    throughput: median(runs.map((r) => r.throughput)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    max: median(runs.map((r) => r.max)),
  };
  return { scenario, unit, headline: headline(m), params, runs, median: m, comparisons: [], notes: [] };
}

export async function seeded(ctx: BenchContext, users: number, sessions = users * 5): Promise<BenchStores> {
  const stores = freshBenchStores();
  await ensureDatabase(stores.databaseUrl, 5);
  const sql = postgres(stores.databaseUrl, { max: 1, onnotice: () => undefined }) as unknown as Sql;
  try {
    await migrate(sql);
    const r = await seed(sql, { users, sessions, modes: MODES });
    ctx.log(`  seeded ${r.users} users, ${r.sessions} sessions in ${r.seconds.toFixed(1)} s`);
  } finally {
    await sql.end();
  }
  return stores;
}

async function closedLoop(ctx: BenchContext, scenario: string, op: LoadOp, users: number, seedUsers: number, instances: number): Promise<ScenarioResult> {
  const sockets = opt(ctx, 'sockets', 64, 8);
  const inflight = opt(ctx, 'inflight', 16, 4);
  const stores = seedUsers > 0 ? await seeded(ctx, seedUsers) : freshBenchStores();
  const servers = [];
  try {
    for (let i = 0; i < instances; i++) servers.push(await startBenchServer(stores));
    const runs: RunResult[] = [];
    const cost = op === 'submit' ? new WriteCost(stores.databaseUrl) : undefined;
    const first = await cost?.counters();
    for (let run = 0; run < ctx.runs; run++) {
      const before = await cost?.counters();
      const r = await runLoad({
        url: `ws://127.0.0.1:${servers[run % servers.length]!.port}/ws`,
        token: serverToken(),
        threads: ctx.threads,
        sockets,
        inflight,
        warmupMs: ctx.warmupS * 1000,
        durationMs: ctx.durationS * 1000,
        mix: { op, userBase: 1, users, gameModes: MODES },
        seed: run + 1,
      });
      if (cost && before) {
        const after = await cost.counters();
        r.extra = { ...r.extra, walBytesPerSubmit: WriteCost.perSubmit(before, after, after.sessions - before.sessions).walBytes };
      }
      ctx.log(`  run ${run + 1}: ${Math.round(r.throughput)}/s p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms errors ${r.errors}${errorBreakdown(r)}${r.extra?.walBytesPerSubmit ? ` WAL ${Math.round(r.extra.walBytesPerSubmit)} B/submit` : ''}`);
      runs.push(r);
    }
    const result = summarizeRuns(scenario, `${op === 'submit' ? 'submits' : op + 's'}/s`, runs, { sockets, inflight, users, instances }, (m) => m.throughput);
    if (cost && first) {
      await cost.settle();
      const last = await cost.counters();
      const per = WriteCost.perSubmit(first, last, last.sessions - first.sessions);
      result.notes.push(
        `cost per submit (all runs): ${Math.round(per.walBytes)} WAL bytes, ${per.rows.toFixed(2)} rows and ${per.indexEntries.toFixed(2)} index entries written (${last.sessions - first.sessions} sessions)`,
      );
      ctx.log(`  ${result.notes[result.notes.length - 1]}`);
      await cost.close();
    }
    return result;
  } finally {
    for (const s of servers) await s.stop();
    await stores.drop();
  }
}

/** `--seed N` first fills the database with N users and 5N sessions (does size slow writes?). */
export const submitClosed = (ctx: BenchContext) =>
  closedLoop(ctx, 'submit', 'submit', opt(ctx, 'users', 100_000, 1000), opt(ctx, 'seed', 0, 0), 1);
export const rankClosed = (ctx: BenchContext) => {
  const users = opt(ctx, 'users', 100_000, 2000);
  return closedLoop(ctx, 'rank', 'rank', users, users, 1);
};
/** The server's own ceiling on these sockets: `ping` does no I/O beyond the socket. */
export const pingClosed = (ctx: BenchContext) => closedLoop(ctx, 'ping', 'ping', 1000, 0, 1);
export const topClosed = (ctx: BenchContext) => {
  const users = opt(ctx, 'users', 100_000, 2000);
  return closedLoop(ctx, 'top', 'top', users, users, 1);
};

/** Open loop at a fixed rate: latency from each request's intended send time. */
export async function submitRate(ctx: BenchContext): Promise<ScenarioResult> {
  const rate = opt(ctx, 'rate', 2000, 200);
  const sockets = opt(ctx, 'sockets', 32, 4);
  const stores = freshBenchStores();
  const server = await startBenchServer(stores);
  try {
    const runs: RunResult[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      const r = await runLoad({
        url: `ws://127.0.0.1:${server.port}/ws`,
        token: serverToken(),
        threads: 1,
        sockets,
        inflight: 0,
        ratePerSec: rate,
        warmupMs: ctx.warmupS * 1000,
        durationMs: ctx.durationS * 1000,
        mix: { op: 'submit', userBase: 1, users: 100_000, gameModes: MODES },
        seed: run + 1,
      });
      ctx.log(`  run ${run + 1}: ${Math.round(r.throughput)}/s p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms max ${r.max.toFixed(1)} ms`);
      runs.push(r);
    }
    return summarizeRuns('submit-rate', 'ms p99', runs, { rate, sockets }, (m) => m.p99);
  } finally {
    await server.stop();
    await stores.drop();
  }
}
