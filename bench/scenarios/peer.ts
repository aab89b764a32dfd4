/**
 * The Socket.IO peer (bench/peers/socketio): the same submit and fan-out scenarios against what
 * a Node developer would build instead, measured in the same session as ours.
 */
import { opt, type BenchContext } from '../lib/context.ts';
import type { RunResult, ScenarioResult } from '../lib/result.ts';
import { PG_BASE, REDIS_URL } from '../lib/servers.ts';
import { runPeerFanout, runPeerSubmit } from '../peers/socketio/load.ts';
import { startPeerFleet } from '../peers/socketio/fleet.ts';
import { summarizeRuns } from './socket-requests.ts';

export async function peerSubmit(ctx: BenchContext): Promise<ScenarioResult> {
  const sockets = opt(ctx, 'sockets', 64, 8);
  const inflight = opt(ctx, 'inflight', 16, 4);
  const fleet = await startPeerFleet({ instances: 1, databaseUrl: `${PG_BASE}/postgres`, redisUrl: REDIS_URL });
  try {
    const runs: RunResult[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      const r = await runPeerSubmit({ ports: fleet.ports, sockets, inflight, durationS: ctx.durationS, users: 100_000, threads: ctx.threads });
      ctx.log(`  run ${run + 1}: ${Math.round(r.throughput)}/s p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms`);
      runs.push(r);
    }
    return summarizeRuns('peer-submit', 'submits/s', runs, { sockets, inflight, peer: 'socket.io + redis-adapter' }, (m) => m.throughput);
  } finally {
    await fleet.stop();
  }
}

export async function peerFanout(ctx: BenchContext): Promise<ScenarioResult> {
  const spectators = opt(ctx, 'spectators', 5000, 200);
  const rate = opt(ctx, 'rate', 1000, 100);
  const fleet = await startPeerFleet({ instances: 2, databaseUrl: `${PG_BASE}/postgres`, redisUrl: REDIS_URL });
  try {
    const runs: RunResult[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      const r = await runPeerFanout({ ports: fleet.ports, spectators, writesPerSec: rate, durationS: ctx.durationS, threads: ctx.threads });
      ctx.log(`  run ${run + 1}: delivery p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms, ${Math.round(r.throughput)} frames/s delivered`);
      runs.push(r);
    }
    return summarizeRuns('peer-fanout', 'ms p99 commit-to-screen', runs, { spectators, rate, instances: 2, peer: 'socket.io + redis-adapter' }, (m) => m.p99);
  } finally {
    await fleet.stop();
  }
}
