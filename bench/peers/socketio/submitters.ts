/**
 * One thread's share of the closed-loop submit load on the peer: each socket keeps `inflight`
 * submits outstanding; latency is acknowledgement time minus send time.
 */
import { performance } from 'node:perf_hooks';
import type { Socket } from 'socket.io-client';
import { Samples } from '../../lib/stats.ts';
import { closeAll, connectAll } from './connect.ts';
import type { SubmitAck, SubmitPayload } from './messages.ts';
import { bump, emptyTimeline, nowMs } from './window.ts';

export const ACK_TIMEOUT_MS = 10_000;
export const GAME_MODE = 'bench';

export interface SubmitRun {
  /** Absolute times (nowMs) of the window. */
  start: number;
  end: number;
  inflight: number;
  users: number;
}

export interface SubmitPart {
  latencies: Float64Array;
  /** Acknowledged inside the window. */
  count: number;
  errors: number;
  timeline: number[];
  /** Share of the window this thread's event loop was busy (1: the generator thread was the limit). */
  elu: number;
}

export class SubmitGroup {
  private constructor(private readonly sockets: Socket[]) {}

  static async open(ports: readonly number[], count: number, offset: number): Promise<SubmitGroup> {
    return new SubmitGroup(await connectAll(ports, count, offset));
  }

  async run(r: SubmitRun): Promise<SubmitPart> {
    const latencies = new Samples();
    const timeline = emptyTimeline((r.end - r.start) / 1000);
    let count = 0;
    let errors = 0;
    while (nowMs() < r.start) await new Promise((res) => setTimeout(res, Math.max(1, r.start - nowMs())));
    const elu0 = performance.eventLoopUtilization();

    await new Promise<void>((resolve) => {
      let loops = this.sockets.length * Math.max(1, r.inflight);
      if (loops === 0) return resolve();
      // Past the last possible acknowledgement timeout nothing more can come: stop waiting.
      const guard = setTimeout(resolve, r.end - nowMs() + ACK_TIMEOUT_MS + 2000);
      const loopDone = () => {
        if (--loops === 0) {
          clearTimeout(guard);
          resolve();
        }
      };
      const fire = (socket: Socket) => {
        const t0 = nowMs();
        if (t0 >= r.end) return loopDone();
        const payload: SubmitPayload = {
          userId: 1 + Math.floor(Math.random() * r.users),
          score: 1 + Math.floor(Math.random() * 100),
          gameMode: GAME_MODE,
        };
        socket.timeout(ACK_TIMEOUT_MS).emit('submit', payload, (err: Error | null, ack?: SubmitAck) => {
          const t1 = nowMs();
          if (err || !ack?.ok) errors++;
          else {
            // Acks after the window count for latency (dropping them would hide the tail), not
            // for throughput.
            latencies.push(t1 - t0);
            if (t1 <= r.end) {
              count++;
              bump(timeline, r.start, t1);
            }
          }
          fire(socket);
        });
      };
      for (const s of this.sockets) for (let i = 0; i < Math.max(1, r.inflight); i++) fire(s);
    });
    const elu = performance.eventLoopUtilization(elu0).utilization;
    return { latencies: latencies.toArray(), count, errors, timeline, elu };
  }

  close(): void {
    closeAll(this.sockets);
  }
}
