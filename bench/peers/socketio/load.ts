/**
 * Load against the Socket.IO peer, measured as our own scenarios are: `runPeerSubmit` (closed loop,
 * sockets x in-flight submits with acknowledgement) and `runPeerFanout` (spectators spread over the
 * instances while writers submit at a fixed rate; commit-to-delivery latency, delivery rate, bytes
 * per spectator). Sockets live in worker threads (`threads`, default 1) so that the generator can
 * be kept from being the limit; `loadCpuPct` and `loadEluMax` in `extra` say how busy it was.
 * Loopback only, bounded in time; every socket and thread is closed at the end.
 */
import type { RunResult } from '../../lib/result.ts';
import { summarize } from '../../lib/stats.ts';
import { closeAll, connectAll } from './connect.ts';
import type { SubmitAck, SubmitPayload } from './messages.ts';
import type { SpectatorPart } from './spectators.ts';
import { ACK_TIMEOUT_MS, GAME_MODE, type SubmitPart } from './submitters.ts';
import { LoadThread, share } from './threads.ts';
import { addTimelines, concatSamples, nowMs } from './window.ts';

/** How long the fan-out waits after the last write for broadcasts still on their way. */
const FANOUT_DRAIN_MS = 3_000;
/** Time between telling the threads `go` and the window's start, so that all start together. */
const START_LEAD_MS = 100;

export interface PeerSubmitOptions {
  ports: number[];
  sockets: number;
  inflight: number;
  durationS: number;
  users: number;
  threads?: number;
}

export interface PeerFanoutOptions {
  ports: number[];
  spectators: number;
  writesPerSec: number;
  durationS: number;
  /** Writer sockets, in the main thread (default: two per instance). */
  writers?: number;
  /** Threads holding the spectators (default 1). */
  threads?: number;
}

function threadCount(requested: number | undefined, items: number): number {
  return Math.max(1, Math.min(Math.floor(requested ?? 1), items));
}

/** Percent of one core the whole generator process (all its threads) used. */
function cpuPct(since: NodeJS.CpuUsage, wallMs: number): number {
  const d = process.cpuUsage(since);
  return Math.round(((d.user + d.system) / 1000 / wallMs) * 1000) / 10;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export async function runPeerSubmit(opts: PeerSubmitOptions): Promise<RunResult> {
  const sockets = Math.max(1, Math.floor(opts.sockets));
  const n = threadCount(opts.threads, sockets);
  const threads = Array.from({ length: n }, (_, i) => new LoadThread<SubmitPart>({ kind: 'submit', ports: opts.ports, ...share(sockets, n, i) }));
  try {
    await Promise.all(threads.map((t) => t.ready));
    const cpu0 = process.cpuUsage();
    const start = nowMs() + START_LEAD_MS;
    const end = start + opts.durationS * 1000;
    for (const t of threads) t.send({ type: 'go', start, end, inflight: Math.max(1, opts.inflight), users: Math.max(1, opts.users) });
    const parts = await Promise.all(threads.map((t) => t.result));
    const wallMs = nowMs() - start;

    const count = parts.reduce((a, p) => a + p.count, 0);
    return {
      ...summarize(concatSamples(parts.map((p) => p.latencies)), count, opts.durationS),
      count,
      durationS: opts.durationS,
      timeline: addTimelines(parts.map((p) => p.timeline)),
      errors: parts.reduce((a, p) => a + p.errors, 0),
      extra: {
        sockets,
        inflight: opts.inflight,
        threads: n,
        loadCpuPct: cpuPct(cpu0, wallMs),
        loadEluMax: round3(Math.max(...parts.map((p) => p.elu))),
      },
    };
  } finally {
    await Promise.all(threads.map((t) => t.stop()));
  }
}

export async function runPeerFanout(opts: PeerFanoutOptions): Promise<RunResult> {
  const durationMs = opts.durationS * 1000;
  const totalWrites = Math.ceil(opts.writesPerSec * opts.durationS);
  if (totalWrites >= 1_000_000) throw new Error('peer fan-out: at most 999,999 writes per run');
  const spectators = Math.max(1, Math.floor(opts.spectators));

  // Each write is by a user of its own with a score above every earlier total, so every write
  // changes the top 10, and its broadcast names it (`by.userId`): write k is user userBase + k.
  const runStamp = Date.now();
  const userBase = 1_000_000_000_000 + (runStamp % 1_000_000) * 1_000_000;
  const scoreBase = runStamp * 1000;
  const sentAtBuffer = new SharedArrayBuffer(Math.max(1, totalWrites) * 8);
  const sentAt = new Float64Array(sentAtBuffer);

  const n = threadCount(opts.threads, spectators);
  const threads = Array.from(
    { length: n },
    (_, i) => new LoadThread<SpectatorPart>({ kind: 'spectate', ports: opts.ports, ...share(spectators, n, i), sentAt: sentAtBuffer, userBase }),
  );
  let writers: Awaited<ReturnType<typeof connectAll>> = [];
  try {
    writers = await connectAll(opts.ports, Math.max(1, opts.writers ?? opts.ports.length * 2));
    await Promise.all(threads.map((t) => t.ready));

    let sent = 0;
    let acked = 0;
    let errors = 0;
    const cpu0 = process.cpuUsage();
    const start = nowMs() + START_LEAD_MS;
    const end = start + durationMs;
    for (const t of threads) t.send({ type: 'go', start, end });
    // Open loop: write k is due at start + k / rate; a late timer sends every write due since.
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = nowMs();
        const due = Math.min(totalWrites, Math.floor(((now - start) / 1000) * opts.writesPerSec));
        while (sent < due && now < end) {
          const k = sent++;
          sentAt[k] = nowMs();
          const payload: SubmitPayload = { userId: userBase + k, score: scoreBase + k, gameMode: GAME_MODE };
          writers[k % writers.length]!.timeout(ACK_TIMEOUT_MS).emit('submit', payload, (err: Error | null, ack?: SubmitAck) => {
            if (err || !ack?.ok) errors++;
            else acked++;
          });
        }
        if (now >= end || sent >= totalWrites) resolve();
        else setTimeout(tick, Math.max(1, Math.min(5, start + ((sent + 1) * 1000) / opts.writesPerSec - now)));
      };
      tick();
    });
    for (const t of threads) t.send({ type: 'finish', sent, drainUntil: nowMs() + FANOUT_DRAIN_MS });
    const parts = await Promise.all(threads.map((t) => t.result));
    const wallMs = nowMs() - start;

    const deliveredInWindow = parts.reduce((a, p) => a + p.deliveredInWindow, 0);
    const delivered = parts.reduce((a, p) => a + p.delivered, 0);
    const perSpectator = parts.reduce((a, p) => a + p.bytes, 0) / spectators;
    return {
      ...summarize(concatSamples(parts.map((p) => p.latencies)), deliveredInWindow, opts.durationS),
      count: deliveredInWindow,
      durationS: opts.durationS,
      timeline: addTimelines(parts.map((p) => p.timeline)),
      errors,
      extra: {
        spectators,
        threads: n,
        writesSent: sent,
        writesAcked: acked,
        deliveries: delivered,
        missedDeliveries: Math.max(0, sent * spectators - delivered),
        bytesPerSpectator: Math.round(perSpectator),
        bytesPerSpectatorPerSec: Math.round(perSpectator / (wallMs / 1000)),
        loadCpuPct: cpuPct(cpu0, wallMs),
        loadEluMax: round3(Math.max(...parts.map((p) => p.elu))),
      },
    };
  } finally {
    closeAll(writers);
    await Promise.all(threads.map((t) => t.stop()));
  }
}
