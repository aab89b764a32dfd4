/**
 * Which socket follows which group: a socket's boards (`subs` on its data), each group's sockets,
 * the uWS topic subscriptions that carry the group's frames, and the limit of boards per socket.
 * A group whose last socket leaves is dropped from its feed.
 */
import { AppError } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import type { Socket } from '../socket.ts';
import type { Feed, Group } from './feed.ts';

export class Subscriptions {
  constructor(
    /** The hub's feeds by board (read only here). */
    private readonly feeds: ReadonlyMap<string, Feed>,
    private readonly metrics: Metrics,
    private readonly maxPerSocket: number,
  ) {}

  /** Refuses a board beyond the socket's limit; re-subscribing to a board it follows is always allowed. */
  checkRoom(ws: Socket, board: string): void {
    const u = ws.getUserData();
    if (!u.subs.has(board) && u.subs.size >= this.maxPerSocket) {
      throw new AppError('rate_limited', `at most ${this.maxPerSocket} boards per connection`, { retryAfterMs: 1000 });
    }
  }

  /**
   * Moves the socket to the feed's group of `limit` (leaving the one it followed on that board).
   * A paused socket (a slow consumer) joins without hearing the topic: it is given it when it drains.
   */
  join(ws: Socket, feed: Feed, limit: number, paused: boolean): Group {
    const u = ws.getUserData();
    this.leave(ws, feed.board);
    const g = feed.group(limit);
    g.sockets.add(ws);
    u.subs.set(feed.board, g);
    if (!paused) ws.subscribe(g.topic);
    this.metrics.subscriptions.inc();
    return g;
  }

  leave(ws: Socket, board: string): void {
    const u = ws.getUserData();
    const g = u.subs.get(board) as Group | undefined;
    if (!g) return;
    u.subs.delete(board);
    g.sockets.delete(ws);
    if (!u.closed) ws.unsubscribe(g.topic);
    this.metrics.subscriptions.dec();
    if (g.sockets.size === 0) this.feeds.get(board)?.dropGroup(g.limit);
  }

  leaveAll(ws: Socket): void {
    for (const board of [...ws.getUserData().subs.keys()]) this.leave(ws, board);
  }

  get count(): number {
    let n = 0;
    for (const f of this.feeds.values()) for (const g of f.groups.values()) n += g.sockets.size;
    return n;
  }

  /** The largest unsent backlog of any subscribed socket (for tests and diagnostics). */
  maxBacklogBytes(): number {
    let max = 0;
    for (const f of this.feeds.values())
      for (const g of f.groups.values()) for (const ws of g.sockets) max = Math.max(max, ws.getBufferedAmount());
    return max;
  }
}
