/**
 * `fanout`: S spectators on two instances follow the global top 10 while a writer submits a new
 * leader at a fixed rate through both instances. Measures commit-to-screen latency (from each
 * submit's intended send time to the first frame on a spectator's socket that shows it), frames
 * delivered per second and bytes per spectator.
 */
import { Worker } from 'node:worker_threads';
import { opt, serverToken, type BenchContext } from '../lib/context.ts';
import type { RunResult, ScenarioResult } from '../lib/result.ts';
import { freshBenchStores, startBenchServer } from '../lib/servers.ts';
import { summarize } from '../lib/stats.ts';
import type { FanoutParams, FanoutResult } from '../load/fanout-worker.ts';
import { runLoad } from '../load/pool.ts';
import { summarizeRuns } from './socket-requests.ts';

function spectate(params: FanoutParams): Promise<FanoutResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('../load/worker-entry.mjs', import.meta.url), { workerData: { ...params, kind: 'fanout' } });
    w.once('message', (m: FanoutResult | { error: string }) => {
      if ('error' in m) reject(new Error(m.error));
      else resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

export async function fanout(ctx: BenchContext): Promise<ScenarioResult> {
  const spectators = opt(ctx, 'spectators', 5000, 200);
  const rate = opt(ctx, 'rate', 1000, 100);
  const measured = opt(ctx, 'measured', 50, 20);
  const spectatorThreads = Math.max(1, ctx.threads);
  const stores = freshBenchStores();
  const servers = [await startBenchServer(stores), await startBenchServer(stores)];
  const urls = servers.map((s) => `ws://127.0.0.1:${s.port}/ws`);
  try {
    const runs: RunResult[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      const base = 1_000_000 * (run + 1); // each run's leaders beat the previous run's
      // Spectators connect first; the writer's schedule starts once they are all subscribed.
      const connectSlackMs = Math.max(2000, spectators * 2);
      const t0Wall = performance.timeOrigin + performance.now() + connectSlackMs;
      const perThread = Math.ceil(spectators / spectatorThreads);
      const watching = Array.from({ length: spectatorThreads }, (_, i) =>
        spectate({
          urls,
          spectators: Math.min(perThread, spectators - i * perThread),
          measured: Math.ceil(measured / spectatorThreads),
          t0Wall,
          ratePerSec: rate,
          scoreBase: base,
          durationMs: ctx.durationS * 1000,
          warmupMs: ctx.warmupS * 1000,
          index: i,
        }),
      );
      const writer = runLoad({
        url: urls[run % 2]!,
        token: serverToken(),
        threads: 1,
        sockets: 8,
        inflight: 0,
        ratePerSec: rate,
        startAtWall: t0Wall,
        warmupMs: ctx.warmupS * 1000,
        durationMs: ctx.durationS * 1000,
        mix: { op: 'leader', userBase: (run + 1) * 10_000_000, users: 1, gameModes: ['ranked'], leaderBase: base },
      });
      const [seen, written] = await Promise.all([Promise.all(watching), writer]);
      const all = new Float64Array(seen.reduce((n, s) => n + s.latencies.length, 0));
      let off = 0;
      for (const s of seen) {
        all.set(s.latencies, off);
        off += s.latencies.length;
      }
      const frames = seen.reduce((n, s) => n + s.frames, 0);
      const bytes = seen.reduce((n, s) => n + s.bytes, 0);
      const sum = summarize(all, all.length, ctx.durationS);
      const r: RunResult = {
        throughput: frames / ctx.durationS,
        count: frames,
        durationS: ctx.durationS,
        p50: sum.p50,
        p99: sum.p99,
        max: sum.max,
        timeline: seen[0]!.timeline.map((_, i) => seen.reduce((n, s) => n + (s.timeline[i] ?? 0), 0)),
        errors: written.errors + seen.reduce((n, s) => n + s.connectErrors, 0),
        extra: {
          bytesPerSpectatorPerSec: bytes / spectators / ctx.durationS,
          submitsPerSec: written.throughput,
          submitAckP99Ms: written.p99,
          latencySamples: all.length,
        },
      };
      ctx.log(
        `  run ${run + 1}: commit-to-screen p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms, ${Math.round(r.throughput)} frames/s delivered, ` +
          `${Math.round(r.extra!.bytesPerSpectatorPerSec!)} B/s per spectator, writer ${Math.round(written.throughput)}/s`,
      );
      runs.push(r);
    }
    return summarizeRuns('fanout', 'ms p99 commit-to-screen', runs, { spectators, rate, instances: 2, limit: 10 }, (m) => m.p99);
  } finally {
    for (const s of servers) await s.stop();
    await stores.drop();
  }
}
