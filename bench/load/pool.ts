/** Runs a load across worker threads and merges what they measured into one RunResult. */
import { Worker } from 'node:worker_threads';
import type { RunResult } from '../lib/result.ts';
import { summarize } from '../lib/stats.ts';
import type { WorkerParams, WorkerResult } from './worker.ts';

export interface LoadParams extends Omit<WorkerParams, 'workerIndex' | 'seed' | 'sockets' | 'ratePerSec'> {
  threads: number;
  /** Total sockets, split across threads. */
  sockets: number;
  /** Total open-loop rate, split across threads. */
  ratePerSec?: number;
  seed?: number;
}

function runWorker(params: WorkerParams): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./worker-entry.mjs', import.meta.url), { workerData: params });
    w.once('message', (m: WorkerResult | { error: string }) => {
      if ('error' in m) reject(new Error(m.error));
      else resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

export async function runLoad(p: LoadParams): Promise<RunResult> {
  const threads = Math.max(1, Math.min(p.threads, p.sockets));
  const results = await Promise.all(
    Array.from({ length: threads }, (_, i) =>
      runWorker({
        ...p,
        sockets: Math.floor(p.sockets / threads) + (i < p.sockets % threads ? 1 : 0),
        ratePerSec: p.ratePerSec === undefined ? undefined : p.ratePerSec / threads,
        workerIndex: i,
        seed: (p.seed ?? 1) * 1000 + i,
      }),
    ),
  );
  const all = new Float64Array(results.reduce((n, r) => n + r.latencies.length, 0));
  let offset = 0;
  for (const r of results) {
    all.set(r.latencies, offset);
    offset += r.latencies.length;
  }
  const count = results.reduce((n, r) => n + r.count, 0);
  const durationS = p.durationMs / 1000;
  const s = summarize(all, count, durationS);
  const timeline = results[0]!.timeline.map((_, i) => results.reduce((n, r) => n + (r.timeline[i] ?? 0), 0));
  return {
    ...s,
    count,
    durationS,
    timeline,
    errors: results.reduce((n, r) => n + r.errors, 0),
    extra: {
      connectErrors: results.reduce((n, r) => n + r.connectErrors, 0),
      // Error replies by code, as `error:<code>`.
      ...results.reduce<Record<string, number>>((m, r) => {
        for (const [code, n] of Object.entries(r.errorCodes)) m[`error:${code}`] = (m[`error:${code}`] ?? 0) + n;
        return m;
      }, {}),
    },
  };
}
