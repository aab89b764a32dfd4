/**
 * One load-generator thread: S WebSockets speaking the real protocol, closed loop (each socket
 * keeps D requests in flight) or open loop (requests at a fixed rate, latency measured from the
 * intended send time so queueing is not hidden). Replies are matched by rid without decoding them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { isErrorReply, makeFrame, peekRid, prng, type RequestMix } from './protocol-client.ts';
import { decode } from '../../protocol/codec.ts';

export interface WorkerParams {
  url: string;
  token?: string;
  sockets: number;
  /** Closed loop: requests in flight per socket. */
  inflight: number;
  /** Open loop when set: requests per second for this worker. */
  ratePerSec?: number;
  warmupMs: number;
  durationMs: number;
  mix: RequestMix;
  seed: number;
  workerIndex: number;
  /** Open loop: start the schedule at this wall-clock time (ms, timeOrigin-based), to line up with other threads. */
  startAtWall?: number;
}

export interface WorkerResult {
  latencies: Float64Array;
  count: number;
  errors: number;
  errorCodes: Record<string, number>;
  timeline: number[];
  durationS: number;
  connectErrors: number;
}

const RID_SPACE = 1 << 16;

async function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function run(p: WorkerParams): Promise<WorkerResult> {
  const url = p.token ? `${p.url}?token=${p.token}` : p.url;
  const rand = prng(p.seed);
  let connectErrors = 0;
  const sockets: WebSocket[] = [];
  for (let i = 0; i < p.sockets; i++) {
    try {
      sockets.push(await open(url));
    } catch {
      connectErrors++; // counted and reported; the run goes on with the sockets that opened
    }
  }
  const latencies: number[] = [];
  const timeline: number[] = [];
  let count = 0;
  let errors = 0;
  /** Error replies by code (decoded only for error replies: the hot path stays a byte scan). */
  const errorCodes: Record<string, number> = {};
  let uniq = 0;
  const t0 = p.startAtWall === undefined ? performance.now() : p.startAtWall - performance.timeOrigin;
  if (t0 > performance.now()) await new Promise((r) => setTimeout(r, t0 - performance.now()));
  const measureFrom = t0 + p.warmupMs;
  const end = measureFrom + p.durationMs;
  const open_ = p.ratePerSec !== undefined;
  const intervalMs = open_ ? 1000 / p.ratePerSec! : 0;
  let scheduled = 0;

  const sent = sockets.map(() => new Float64Array(RID_SPACE));
  const nextRid = sockets.map(() => 1);
  const send = (i: number, at: number, seq = uniq) => {
    const rid = nextRid[i]!;
    nextRid[i] = rid + 1 >= RID_SPACE ? 1 : rid + 1;
    sent[i]![rid] = at;
    sockets[i]!.send(makeFrame(p.mix, rid, rand, `w${p.workerIndex}s${i}n${uniq++}`, seq));
  };

  sockets.forEach((ws, i) => {
    ws.on('message', (data: Buffer) => {
      const now = performance.now();
      const rid = peekRid(data);
      if (rid === undefined) return; // a push, not a reply
      if (now >= measureFrom && now < end) {
        latencies.push(now - sent[i]![rid]!);
        count++;
        const second = Math.floor((now - measureFrom) / 1000);
        timeline[second] = (timeline[second] ?? 0) + 1;
        if (isErrorReply(data)) {
          errors++;
          const code = String((decode(data) as { code?: unknown }).code);
          errorCodes[code] = (errorCodes[code] ?? 0) + 1;
        }
      }
      if (!open_ && now < end) send(i, now);
    });
  });

  if (open_) {
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = performance.now();
        if (now >= end) {
          clearInterval(timer);
          resolve();
          return;
        }
        // Everything whose intended time has come goes out now, stamped with that intended time.
        const due = Math.floor((now - t0) / intervalMs);
        while (scheduled < due) {
          send(scheduled % sockets.length, t0 + scheduled * intervalMs, scheduled);
          scheduled++;
        }
      }, 1);
    });
  } else {
    sockets.forEach((_, i) => {
      for (let d = 0; d < p.inflight; d++) send(i, performance.now());
    });
    await new Promise((r) => setTimeout(r, end - performance.now()));
  }
  // Let the last replies land, then close.
  await new Promise((r) => setTimeout(r, 200));
  for (const ws of sockets) ws.terminate();
  const lat = Float64Array.from(latencies);
  return { latencies: lat, count, errors, timeline: Array.from({ length: Math.ceil(p.durationMs / 1000) }, (_, s) => timeline[s] ?? 0), durationS: p.durationMs / 1000, connectErrors, errorCodes };
}

if (parentPort) {
  run(workerData as WorkerParams).then(
    (r) => parentPort!.postMessage(r, [r.latencies.buffer as ArrayBuffer]),
    (err: unknown) => parentPort!.postMessage({ error: String(err) }),
  );
}
