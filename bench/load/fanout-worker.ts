/**
 * Fan-out load thread: spectators subscribed to the global top 10, spread over the given servers.
 * A sample of them decode every frame and measure commit-to-screen latency; all count bytes.
 *
 * The writer (another thread) submits new leaders at a fixed rate: submit i, sent at its intended
 * time t0 + i / rate, carries score BASE + i, so every submit is a new leader. A diff whose best
 * score is BASE + k shows every submit up to k: each of those not yet seen gets latency
 * now - (t0 + i / rate). That is the time from the submit leaving the writer to its being on the
 * spectator's screen, queueing included.
 */
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { decode, encode } from '../../protocol/index.ts';

export interface FanoutParams {
  urls: string[];
  spectators: number;
  measured: number;
  /** performance.timeOrigin-based start of the writer's schedule. */
  t0Wall: number;
  ratePerSec: number;
  scoreBase: number;
  durationMs: number;
  warmupMs: number;
  index: number;
}

export interface FanoutResult {
  latencies: Float64Array;
  frames: number;
  bytes: number;
  connectErrors: number;
  timeline: number[];
}

async function run(p: FanoutParams): Promise<FanoutResult> {
  const sockets: WebSocket[] = [];
  let connectErrors = 0;
  let frames = 0;
  let bytes = 0;
  const latencies: number[] = [];
  const timeline: number[] = [];
  const wallNow = () => performance.timeOrigin + performance.now();
  const measureFrom = p.t0Wall + p.warmupMs;
  const end = measureFrom + p.durationMs;
  for (let i = 0; i < p.spectators; i++) {
    const url = p.urls[(p.index + i) % p.urls.length]!;
    try {
      const ws = await new Promise<WebSocket>((resolve, reject) => {
        const s = new WebSocket(url, { perMessageDeflate: false });
        s.binaryType = 'nodebuffer';
        s.once('open', () => resolve(s));
        s.once('error', reject);
      });
      sockets.push(ws);
      const measured = i < p.measured;
      let seen = -1;
      ws.on('message', (data: Buffer) => {
        const now = wallNow();
        if (now < measureFrom || now >= end) return;
        frames++;
        bytes += data.length;
        const second = Math.floor((now - measureFrom) / 1000);
        timeline[second] = (timeline[second] ?? 0) + 1;
        if (!measured) return;
        const f = decode(data) as { op: string; entries?: { total_score: number }[] };
        if (f.op !== 'diff' && f.op !== 'snapshot') return;
        let best = -1;
        for (const e of f.entries ?? []) best = Math.max(best, e.total_score - p.scoreBase);
        if (seen < 0) {
          seen = best;
          return;
        }
        for (let k = seen + 1; k <= best; k++) latencies.push(now - (p.t0Wall + (k * 1000) / p.ratePerSec));
        if (best > seen) seen = best;
      });
      ws.send(encode({ op: 'subscribe', rid: 1, board: 'global', limit: 10 }));
    } catch {
      connectErrors++;
    }
  }
  await new Promise((r) => setTimeout(r, Math.max(0, end - wallNow() + 300)));
  for (const ws of sockets) ws.terminate();
  return { latencies: Float64Array.from(latencies), frames, bytes, connectErrors, timeline: Array.from({ length: Math.ceil(p.durationMs / 1000) }, (_, s) => timeline[s] ?? 0) };
}

if (parentPort) {
  run(workerData as FanoutParams).then(
    (r) => parentPort!.postMessage(r, [r.latencies.buffer as ArrayBuffer]),
    (err: unknown) => parentPort!.postMessage({ error: String(err) }),
  );
}
