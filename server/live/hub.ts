/**
 * Live push: subscriptions, the coalescing tick that turns committed changes into at most one diff
 * per board and limit per tick, period rollover of current-period boards, `top` from the views
 * while they are current, and slow-consumer handling. Frames are encoded once per group and
 * published through uWS topics; board-link.ts carries other instances' changes.
 */
import type { RedisClient } from '../store/redis.ts';
import { randomBytes } from 'node:crypto';
import {
  CLOSE_CODES,
  encode,
  isCurrentPeriodAlias,
  resolveBoard,
  type Entry,
  type SubscribeRequest,
  type UnsubscribeRequest,
} from '../../protocol/index.ts';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { ChangeNotice } from '../index/keys.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Socket } from '../socket.ts';
import type { TemplatedApp } from '../uws.ts';
import { BoardLink } from './board-link.ts';
import { Feed, VIEW_SIZE, snapshotOf, type Group } from './feed.ts';

export interface LiveOptions {
  tickMs: number;
  /** Every feed is re-read this often even without notices (lost pub/sub messages, Redis down). */
  refreshMs: number;
  /** A socket's unsent backlog above this gets no more pushes until it drains. */
  maxBacklogBytes: number;
  /** A socket still over the limit this long after it passed it is closed with 4008. */
  lagTimeoutMs: number;
  maxSubscriptionsPerSocket: number;
}

export interface LiveDeps {
  app: TemplatedApp;
  /** A connection of its own: a subscribed Redis connection can do nothing else. */
  subscriber: RedisClient;
  redisPrefix: string;
  loadTop: (board: string, limit: number) => Promise<{ entries: Entry[]; epoch: string | undefined }>;
  send: (ws: Socket, frame: object) => void;
  metrics: Metrics;
  log: Logger;
  options: LiveOptions;
  /** Seconds from a change notice to the diff carrying it. */
  onDiffLatency?: (seconds: number) => void;
  /** Decides which period a current-period board (`global:daily`) shows. */
  clock: Clock;
}

/**
 * A current-period board's feed moves to the new period this long after the boundary: submits
 * taken just before it have committed by then, so the final standings sent are final.
 */
export const ROLLOVER_SETTLE_MS = 1000;
/** A board read with `top` keeps its feed (its in-memory view) this long without spectators. */
const TOP_CACHE_KEEP_MS = 10_000;
/** Feeds kept only for `top` reads, at most (made-up board names must not grow them without end). */
const MAX_CACHE_FEEDS = 256;
const ROLLOVER_CHECK_MS = 100;

export class LiveHub {
  private readonly feeds = new Map<string, Feed>();
  private readonly ready = new Map<Feed, Promise<void>>();
  private readonly link: BoardLink;
  private readonly lagging = new Set<Socket>();
  private readonly instance = randomBytes(3).toString('hex');
  private epochCounter = 0;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly d: LiveDeps) {
    this.link = new BoardLink(d.subscriber, d.redisPrefix, d.log);
  }

  start(): void {
    const { options } = this.d;
    this.link.start({
      notice: (board, notice) => this.noteChange(board, notice),
      renamed: (userId) => this.noteRename(userId),
      resumed: () => {
        // Notices may have been missed while disconnected: every group starts over.
        for (const feed of this.feeds.values()) {
          feed.restartPending = true;
          feed.dirty = true;
        }
      },
    });
    this.timers.push(setInterval(() => this.tick(), options.tickMs));
    this.timers.push(setInterval(() => this.feeds.forEach((f) => (f.dirty = true)), options.refreshMs));
    this.timers.push(setInterval(() => this.sweep(), 1000));
    this.timers.push(setInterval(() => this.checkRollovers(), ROLLOVER_CHECK_MS));
    for (const t of this.timers) t.unref();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /**
   * The top `limit` rows of `board` from this instance's live view, when that view is current: the
   * feed is initialised and was read from the rank index, no change notice has arrived since (a
   * local commit marks it before its submit is answered, another instance's through pub/sub),
   * and the pub/sub link is up. Otherwise undefined, and the board gets a feed so that later reads
   * can be served from memory. If notices are lost without the link being seen to drop, the
   * periodic re-read (`refreshMs`) still bounds how old a view can be.
   */
  cachedTop(board: string, limit: number): Entry[] | undefined {
    if (limit > VIEW_SIZE || isCurrentPeriodAlias(board)) return undefined;
    const feed = this.feeds.get(board);
    if (!feed) {
      if (this.cacheFeeds() < MAX_CACHE_FEEDS) {
        this.feedFor(board)
          .then((f) => (f.lastReadAt = Date.now()))
          .catch((err: unknown) => this.d.log.warn({ err, board }, 'live: cannot start a view for top reads'));
      }
      return undefined;
    }
    feed.lastReadAt = Date.now();
    const current =
      !this.ready.has(feed) && !feed.dirty && !feed.refreshing && !feed.restartPending && feed.fromIndex && this.link.up;
    return current ? feed.top(limit) : undefined;
  }

  private cacheFeeds(): number {
    let n = 0;
    for (const f of this.feeds.values()) if (f.groups.size === 0) n++;
    return n;
  }

  /** The largest unsent backlog of any subscribed socket (for tests and diagnostics). */
  maxBacklogBytes(): number {
    let max = 0;
    for (const f of this.feeds.values())
      for (const g of f.groups.values()) for (const ws of g.sockets) max = Math.max(max, ws.getBufferedAmount());
    return max;
  }

  get subscriptionCount(): number {
    let n = 0;
    for (const f of this.feeds.values()) for (const g of f.groups.values()) n += g.sockets.size;
    return n;
  }

  /** A committed change on `board`, from this instance or (through pub/sub) another. */
  noteChange(board: string, notice: ChangeNotice): void {
    const feeds = this.link.feedsOf(board);
    if (!feeds) return;
    for (const feed of feeds) {
      if (!feed.affectedBy(notice)) continue;
      feed.dirty = true;
      if (feed.dirtySince === 0) feed.dirtySince = performance.now();
    }
  }

  /** A user was renamed (here, or through pub/sub elsewhere): views showing them are read again. */
  noteRename(userId: number): void {
    for (const feed of this.feeds.values()) {
      if (!feed.shows(userId)) continue;
      feed.dirty = true;
      if (feed.dirtySince === 0) feed.dirtySince = performance.now();
    }
  }

  /** Subscribes (or re-subscribes with a new limit) and replies with the snapshot itself, so no diff can overtake it. */
  async subscribe(ws: Socket, rid: number | undefined, req: SubscribeRequest): Promise<void> {
    const u = ws.getUserData();
    if (!u.subs.has(req.board) && u.subs.size >= this.d.options.maxSubscriptionsPerSocket) {
      throw new AppError('rate_limited', `at most ${this.d.options.maxSubscriptionsPerSocket} boards per connection`, {
        retryAfterMs: 1000,
      });
    }
    const feed = await this.feedFor(req.board);
    if (u.closed) return;
    this.leave(ws, req.board);
    const g = feed.group(req.limit);
    g.sockets.add(ws);
    u.subs.set(req.board, g);
    if (!u.laggingSince) ws.subscribe(g.topic);
    this.d.metrics.subscriptions.inc();
    this.d.send(ws, { ...snapshotOf(g), op: 'subscribe', ...(rid === undefined ? {} : { rid }) });
  }

  unsubscribe(ws: Socket, req: UnsubscribeRequest): { board: string } {
    this.leave(ws, req.board);
    return { board: req.board };
  }

  onClose(ws: Socket): void {
    const u = ws.getUserData();
    for (const board of [...u.subs.keys()]) this.leave(ws, board);
    this.lagging.delete(ws);
  }

  /** The socket's backlog shrank: a lagging socket that caught up gets a fresh snapshot of each board it follows. */
  onDrain(ws: Socket): void {
    const u = ws.getUserData();
    if (!u.laggingSince || u.closed || ws.getBufferedAmount() > this.d.options.maxBacklogBytes / 2) return;
    u.laggingSince = 0;
    this.lagging.delete(ws);
    for (const g of u.subs.values() as Iterable<Group>) {
      ws.subscribe(g.topic);
      this.d.send(ws, snapshotOf(g));
      this.d.metrics.resyncs.inc();
    }
  }

  private newEpoch = (): string => `${this.instance}.${++this.epochCounter}`;

  private async feedFor(board: string): Promise<Feed> {
    let feed = this.feeds.get(board);
    if (!feed) {
      const created = new Feed(board, this.newEpoch, this.sourceOf(board));
      this.feeds.set(board, created);
      this.ready.set(created, this.initFeed(created).finally(() => this.ready.delete(created)));
      feed = created;
    }
    try {
      await this.ready.get(feed); // undefined once the feed is initialised
    } catch (err) {
      if (this.feeds.get(board) === feed) this.feeds.delete(board);
      throw err;
    }
    return feed;
  }

  /** The board a feed of `board` reads now: a current-period id's period, as of the settle delay ago. */
  private sourceOf(board: string): string {
    return resolveBoard(board, this.d.clock.now() - ROLLOVER_SETTLE_MS);
  }

  private async initFeed(feed: Feed): Promise<void> {
    await this.link.attach(feed);
    const { entries, epoch } = await this.d.loadTop(feed.source, VIEW_SIZE);
    feed.setView(entries, epoch);
    feed.dirty = false;
  }

  /** Moves current-period feeds whose period has ended (and settled) on to the new one. */
  private checkRollovers(): void {
    for (const feed of this.feeds.values()) {
      if (!isCurrentPeriodAlias(feed.board) || feed.refreshing || this.ready.has(feed)) continue;
      const next = this.sourceOf(feed.board);
      if (next !== feed.source) void this.rollover(feed, next);
    }
  }

  /**
   * Sends every group the ended period's final standings (read from PostgreSQL, the period being
   * over) and then a fresh snapshot of the new period, each under a new epoch. On failure the feed
   * stays on the old period and the next check tries again.
   */
  private async rollover(feed: Feed, next: string): Promise<void> {
    feed.refreshing = true;
    const ended = feed.source;
    try {
      const final = await this.d.loadTop(ended, VIEW_SIZE);
      feed.setView(final.entries, undefined);
      for (const g of feed.groups.values()) this.publish(g, { ...feed.restart(g), period: ended, final: true });
      this.link.detach(feed);
      feed.switchSource(next);
      await this.link.attach(feed);
      const fresh = await this.d.loadTop(next, VIEW_SIZE);
      feed.setView(fresh.entries, fresh.epoch);
      for (const g of feed.groups.values()) {
        g.period = next;
        this.publish(g, feed.restart(g));
      }
      feed.dirty = false;
      this.d.log.info({ board: feed.board, ended, period: next }, 'live: period rolled over');
    } catch (err) {
      // Whatever was sent, the next attempt starts the groups over again from a fresh read.
      feed.restartPending = true;
      feed.dirty = true;
      this.d.log.warn({ err, board: feed.board, ended, period: next }, 'live: period rollover failed; will retry');
    } finally {
      feed.refreshing = false;
    }
  }

  private leave(ws: Socket, board: string): void {
    const u = ws.getUserData();
    const g = u.subs.get(board) as Group | undefined;
    if (!g) return;
    u.subs.delete(board);
    g.sockets.delete(ws);
    if (!u.closed) ws.unsubscribe(g.topic);
    this.d.metrics.subscriptions.dec();
    if (g.sockets.size === 0) this.feeds.get(board)?.groups.delete(g.limit);
  }

  private tick(): void {
    for (const feed of this.feeds.values()) {
      if (feed.dirty && !feed.refreshing && this.ready.get(feed) === undefined) void this.refresh(feed);
    }
  }

  private async refresh(feed: Feed): Promise<void> {
    feed.refreshing = true;
    feed.dirty = false;
    const restart = feed.restartPending;
    feed.restartPending = false;
    const since = feed.dirtySince;
    feed.dirtySince = 0;
    try {
      const { entries, epoch } = await this.d.loadTop(feed.source, VIEW_SIZE);
      const rebuilt = feed.setView(entries, epoch);
      let published = false;
      for (const g of feed.groups.values()) {
        const frame = restart || rebuilt ? feed.restart(g) : feed.advance(g);
        if (frame) published = this.publish(g, frame) || published;
      }
      if (published && since > 0) this.d.onDiffLatency?.((performance.now() - since) / 1000);
    } catch (err) {
      feed.dirty = true;
      feed.restartPending ||= restart;
      if (feed.dirtySince === 0) feed.dirtySince = since;
      this.d.log.warn({ err, board: feed.board }, 'live: cannot read the board; will retry');
    } finally {
      feed.refreshing = false;
    }
  }

  /** Publishes to the group's topic; false when no socket of it could take the frame. */
  private publish(g: Group, frame: object): boolean {
    const bytes = encode(frame);
    const limit = this.d.options.maxBacklogBytes;
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

  /** Closes sockets lagging too long, and forgets feeds nobody follows. */
  private sweep(): void {
    const now = Date.now();
    for (const ws of this.lagging) {
      const u = ws.getUserData();
      if (u.closed) this.lagging.delete(ws);
      else if (now - u.laggingSince > this.d.options.lagTimeoutMs) ws.end(CLOSE_CODES.slow_consumer, 'slow consumer');
    }
    for (const [board, feed] of this.feeds) {
      if (feed.groups.size > 0 || feed.refreshing || this.ready.has(feed) || now - feed.lastReadAt < TOP_CACHE_KEEP_MS) continue;
      this.feeds.delete(board);
      this.link.detach(feed);
    }
  }
}
