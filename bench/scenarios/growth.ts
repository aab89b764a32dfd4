/**
 * `growth`: a restart on a real-sized database under full load. Seeds U users and 5U sessions,
 * starts one instance on an empty Redis (so every board's rank index must be rebuilt while it
 * serves) and drives closed-loop submits (16 sockets x 64 in flight) from the moment `/health`
 * answers 200. Reports every error over the run, and the rate over its last 10 seconds against the
 * same load on an empty database, measured first in the same run. Target: no error at all, and
 * that rate at least 0.8x the empty database's within 30 s.
 */
import { opt, serverToken, type BenchContext } from '../lib/context.ts';
import { errorBreakdown, type RunResult, type ScenarioResult } from '../lib/result.ts';
import { deleteRedisKeys, freshBenchStores, startBenchServer } from '../lib/servers.ts';
import { median } from '../lib/stats.ts';
import { runLoad } from '../load/pool.ts';
import { MODES, seeded, summarizeRuns } from './socket-requests.ts';

async function healthy(port: number, timeoutMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const status = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`/health did not answer 200 within ${timeoutMs} ms (last ${status})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function growth(ctx: BenchContext): Promise<ScenarioResult> {
  const users = opt(ctx, 'users', 1_000_000, 20_000);
  const sessions = opt(ctx, 'sessions', users * 5, users * 5);
  const sockets = opt(ctx, 'sockets', 16, 4);
  const inflight = opt(ctx, 'inflight', 64, 8);
  const seconds = opt(ctx, 'seconds', 40, 12);
  const tailS = Math.min(10, Math.floor(seconds / 2));
  const load = (port: number, durationMs: number, warmupMs: number, seed: number) =>
    runLoad({
      url: `ws://127.0.0.1:${port}/ws`,
      token: serverToken(),
      threads: ctx.threads,
      sockets,
      inflight,
      warmupMs,
      durationMs,
      mix: { op: 'submit', userBase: 1, users, gameModes: MODES },
      seed,
    });

  // The empty database's rate under the same load, for the ratio.
  const empty = freshBenchStores();
  let baseline: RunResult;
  try {
    const server = await startBenchServer(empty);
    try {
      baseline = await load(server.port, ctx.durationS * 1000, ctx.warmupS * 1000, 99);
    } finally {
      await server.stop();
    }
  } finally {
    await empty.drop();
  }
  ctx.log(`  empty database: ${Math.round(baseline.throughput)} submits/s, errors ${baseline.errors}${errorBreakdown(baseline)}`);

  const stores = await seeded(ctx, users, sessions);
  try {
    const runs: RunResult[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      await deleteRedisKeys(stores.redisPrefix);
      const server = await startBenchServer(stores, {}, 'listening');
      try {
        const healthMs = await healthy(server.port, 30_000);
        const r = await load(server.port, seconds * 1000, 0, run + 1);
        const steady = median(r.timeline.slice(-tailS));
        const ready = /"msg":"rank index ready"/.test(server.log());
        const rebuilt = server
          .log()
          .split('\n')
          .filter((l) => l.includes('"msg":"rank index rebuilt"'))
          .map((l) => JSON.parse(l) as { board: string; rows: number; ms: number });
        ctx.log(`  run ${run + 1}: rebuilt during the run: ${rebuilt.map((b) => `${b.board} ${b.rows} rows ${(b.ms / 1000).toFixed(1)} s`).join(', ') || 'nothing'}`);
        r.extra = { ...r.extra, steady, ratio: steady / baseline.throughput, healthMs };
        ctx.log(
          `  run ${run + 1}: /health 200 after ${Math.round(healthMs)} ms; errors ${r.errors}${errorBreakdown(r)}; submits per second ${r.timeline.join(' ')}; ` +
            `last ${tailS} s ${Math.round(steady)}/s = ${(steady / baseline.throughput).toFixed(2)}x the empty database; rank index ${ready ? 'ready' : 'still recovering'} at the end`,
        );
        runs.push(r);
      } finally {
        await server.stop();
      }
    }
    const result = summarizeRuns('growth', 'x the empty-database rate', runs, { users, sessions, sockets, inflight, seconds }, () =>
      median(runs.map((r) => r.extra!.ratio!)),
    );
    result.notes.push(`empty database, same load: ${Math.round(baseline.throughput)} submits/s`);
    return result;
  } finally {
    await stores.drop();
  }
}
