/**
 * Slow consumers: the sockets whose unsent backlog passed the limit (`laggingSince` on their data),
 * the backlog check made on every publish, the fresh snapshots a lagging socket gets once it
 * drains, and closing the ones that lag too long. Publishing lives here because deciding who can
 * take a frame is the backlog check: a frame is encoded once and published to the group's topic.
 */
import { CLOSE_CODES, encode } from '../../protocol/index.ts';
import type { Metrics } from '../metrics.ts';
import type { Socket } from '../socket.ts';
import type { TemplatedApp } from '../uws.ts';
import { snapshotOf, type Group } from './feed.ts';

export interface SlowConsumerDeps {
  app: TemplatedApp;
  send: (ws: Socket, frame: object) => void;
  metrics: Metrics;
  /** A socket's unsent backlog above this gets no more pushes until it drains. */
  maxBacklogBytes: number;
  /** A socket still over the limit this long after it passed it is closed with 4008. */
  lagTimeoutMs: number;
}

export class SlowConsumers {
  private readonly lagging = new Set<Socket>();

  constructor(private readonly d: SlowConsumerDeps) {}

  /** A lagging socket hears no topic: it must not be given one until it drains. */
  isLagging(ws: Socket): boolean {
    return Boolean(ws.getUserData().laggingSince);
  }

  /** Publishes to the group's topic; false when no socket of it could take the frame. */
  publish(g: Group, frame: object): boolean {
    const bytes = encode(frame);
    const limit = this.d.maxBacklogBytes;
    let delivered = 0;
    for (const ws of g.sockets) {
      const u = ws.getUserData();
      if (u.laggingSince) continue;
      if (ws.getBufferedAmount() + bytes.byteLength > limit) {
        // Its backlog is full: it gets nothing more (so its stream is never broken, only paused)
        // until it drains, then a fresh snapshot.
        u.laggingSince = Date.now();
        this.lagging.add(ws);
        for (const sub of u.subs.values()) ws.unsubscribe(sub.topic);
        this.d.metrics.slowConsumers.inc();
        continue;
      }
      delivered++;
    }
    if (delivered === 0) return false;
    this.d.app.publish(g.topic, bytes, true);
    this.d.metrics.pushes.inc({ kind: (frame as { op: string }).op }, delivered);
    return true;
  }

  /** The socket's backlog shrank: a lagging socket that caught up gets a fresh snapshot of each board it follows. */
  onDrain(ws: Socket): void {
    const u = ws.getUserData();
    if (!u.laggingSince || u.closed || ws.getBufferedAmount() > this.d.maxBacklogBytes / 2) return;
    u.laggingSince = 0;
    this.lagging.delete(ws);
    for (const g of u.subs.values() as Iterable<Group>) {
      ws.subscribe(g.topic);
      this.d.send(ws, snapshotOf(g));
      this.d.metrics.resyncs.inc();
    }
  }

  forget(ws: Socket): void {
    this.lagging.delete(ws);
  }

  /** Closes the sockets lagging longer than the timeout (Date.now()). */
  sweep(now: number): void {
    for (const ws of this.lagging) {
      const u = ws.getUserData();
      if (u.closed) this.lagging.delete(ws);
      else if (now - u.laggingSince > this.d.lagTimeoutMs) ws.end(CLOSE_CODES.slow_consumer, 'slow consumer');
    }
  }
}
