/** `idle`: C idle sockets on one instance; server memory per socket from its RSS before and after. */
import WebSocket from 'ws';
import { opt, type BenchContext } from '../lib/context.ts';
import type { RunResult, ScenarioResult } from '../lib/result.ts';
import { freshBenchStores, startBenchServer } from '../lib/servers.ts';
import { summarizeRuns } from './socket-requests.ts';

async function openMany(url: string, n: number): Promise<WebSocket[]> {
  const out: WebSocket[] = [];
  const batch = 200;
  for (let i = 0; i < n; i += batch) {
    const opened = await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, () => new Promise<WebSocket>((resolve, reject) => {
        const s = new WebSocket(url, { perMessageDeflate: false });
        s.once('open', () => resolve(s));
        s.once('error', reject);
      })),
    );
    out.push(...opened);
  }
  return out;
}

export async function idle(ctx: BenchContext): Promise<ScenarioResult> {
  const count = opt(ctx, 'sockets', 10_000, 500);
  const stores = freshBenchStores();
  try {
    const runs: RunResult[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      // A fresh server per run: memory freed by an earlier run's sockets would hide this run's.
      const server = await startBenchServer(stores, { MAX_SOCKETS: String(count * 2) });
      let sockets: WebSocket[] = [];
      try {
        await new Promise((r) => setTimeout(r, 1000));
        const before = server.rss();
        const started = performance.now();
        sockets = await openMany(`ws://127.0.0.1:${server.port}/ws`, count);
        const openS = (performance.now() - started) / 1000;
        await new Promise((r) => setTimeout(r, 2000)); // let allocations settle
        const after = server.rss();
        const perSocket = (after - before) / count;
        ctx.log(`  run ${run + 1}: ${count} sockets, RSS +${((after - before) / 1048576).toFixed(1)} MiB, ${(perSocket / 1024).toFixed(2)} KiB/socket, opened in ${openS.toFixed(1)} s`);
        runs.push({ throughput: count / openS, count, durationS: openS, p50: 0, p99: 0, max: 0, timeline: [], errors: 0, extra: { bytesPerSocket: perSocket, rssBefore: before, rssAfter: after } });
      } finally {
        for (const s of sockets) s.terminate();
        await server.stop();
      }
    }
    const r = summarizeRuns('idle', 'KiB/socket', runs, { sockets: count }, () => 0);
    const per = runs.map((x) => x.extra!.bytesPerSocket!).sort((a, b) => a - b);
    r.headline = per[Math.floor(per.length / 2)]! / 1024;
    return r;
  } finally {
    await stores.drop();
  }
}
