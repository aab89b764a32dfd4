/**
 * One thread's share of the peer's spectators: joined to the `spectators` room, they time each
 * `top10` broadcast against its write's send time (read from memory shared with the writer
 * thread, indexed by the write's number, which the broadcast carries as `by.userId - userBase`)
 * and count the bytes they receive.
 */
import { performance } from 'node:perf_hooks';
import type { Socket } from 'socket.io-client';
import { Samples } from '../../lib/stats.ts';
import { closeAll, connectAll } from './connect.ts';
import type { Top10Message } from './messages.ts';
import { ACK_TIMEOUT_MS } from './submitters.ts';
import { bump, emptyTimeline, nowMs } from './window.ts';

export interface WriteLog {
  /** Send time (nowMs) of write k at index k; 0 until sent. Shared across threads. */
  sentAt: Float64Array;
  userBase: number;
}

export interface SpectatorPart {
  latencies: Float64Array;
  delivered: number;
  deliveredInWindow: number;
  timeline: number[];
  bytes: number;
  spectators: number;
  elu: number;
}

function packetBytes(data: unknown): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

export class SpectatorGroup {
  private readonly latencies = new Samples();
  private timeline: number[] = [];
  private counting = false;
  private start = 0;
  private end = 0;
  private delivered = 0;
  private deliveredInWindow = 0;
  private bytes = 0;
  private elu0 = performance.eventLoopUtilization();

  private constructor(private readonly sockets: Socket[], private readonly log: WriteLog) {
    for (const s of sockets) {
      s.io.engine.on('packet', (p: { data?: unknown }) => {
        if (this.counting) this.bytes += 1 + packetBytes(p.data); // +1: the engine.io packet type
      });
      s.on('top10', (m: Top10Message) => this.onTop10(m));
    }
  }

  static async open(ports: readonly number[], count: number, offset: number, log: WriteLog): Promise<SpectatorGroup> {
    const sockets = await connectAll(ports, count, offset);
    try {
      const replies = await Promise.all(sockets.map((s) => s.timeout(ACK_TIMEOUT_MS).emitWithAck('spectate') as Promise<{ top?: unknown; error?: string }>));
      const refused = replies.find((r) => !Array.isArray(r.top));
      if (refused) throw new Error(`peer refused a spectator: ${refused.error ?? 'no top 10 in its reply'}`);
    } catch (err) {
      closeAll(sockets);
      throw err;
    }
    return new SpectatorGroup(sockets, log);
  }

  private onTop10(m: Top10Message): void {
    const t = nowMs();
    const k = m.by.userId - this.log.userBase;
    const sent = k >= 0 && k < this.log.sentAt.length ? this.log.sentAt[k]! : 0;
    if (sent === 0) return; // not one of this run's writes
    this.latencies.push(t - sent);
    this.delivered++;
    if (t <= this.end) {
      this.deliveredInWindow++;
      bump(this.timeline, this.start, t);
    }
  }

  begin(start: number, end: number): void {
    this.start = start;
    this.end = end;
    this.timeline = emptyTimeline((end - start) / 1000);
    this.elu0 = performance.eventLoopUtilization();
    this.counting = true;
  }

  /** Waits until every one of `sent` writes reached every spectator here, or `drainUntil`; then closes. */
  async finish(sent: number, drainUntil: number): Promise<SpectatorPart> {
    while (nowMs() < drainUntil && this.delivered < sent * this.sockets.length) await new Promise((r) => setTimeout(r, 20));
    this.counting = false;
    const elu = performance.eventLoopUtilization(this.elu0).utilization;
    this.close();
    return {
      latencies: this.latencies.toArray(),
      delivered: this.delivered,
      deliveredInWindow: this.deliveredInWindow,
      timeline: this.timeline,
      bytes: this.bytes,
      spectators: this.sockets.length,
      elu,
    };
  }

  close(): void {
    closeAll(this.sockets);
  }
}
