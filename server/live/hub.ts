/**
 * Live push, the coordinator: the feeds by board and their first reads, the timers, and the
 * coalescing tick that turns committed changes into at most one diff per board and limit per tick.
 * Who follows what is subscriptions.ts, backlogs and publishing slow-consumers.ts, period changes
 * rollover.ts, `top` from the views top-cache.ts; board-link.ts carries other instances' changes.
 */
import type { RedisClient } from '../store/redis.ts';
import { randomBytes } from 'node:crypto';
import type { Entry, SubscribeRequest, UnsubscribeRequest } from '../../protocol/index.ts';
import type { Sign } from '../board-kinds.ts';
import type { Clock } from '../clock.ts';
import type { ChangeNotice } from '../rank-index/keys.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Socket } from '../socket.ts';
import type { TemplatedApp } from '../uws.ts';
import { BoardLink } from './board-link.ts';
import { Feed, VIEW_SIZE, snapshotOf } from './feed.ts';
import { PeriodRollover, sourceAt } from './rollover.ts';
import { SlowConsumers } from './slow-consumers.ts';
import { Subscriptions } from './subscriptions.ts';
import { TopCache } from './top-cache.ts';

export { ROLLOVER_SETTLE_MS } from './rollover.ts';

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
  /** The top rows of a board, with totals. */
  loadTop: (board: string, limit: number) => Promise<{ entries: Entry[]; epoch: string | undefined }>;
  /** -1 for a board whose change notices carry minus the totals (`asc`, server/board-kinds.ts). */
  signOf?: (board: string) => Sign;
  send: (ws: Socket, frame: object) => void;
  metrics: Metrics;
  log: Logger;
  options: LiveOptions;
  /** Seconds from a change notice to the diff carrying it. */
  onDiffLatency?: (seconds: number) => void;
  /** Decides which period a current-period board (`global:daily`) shows. */
  clock: Clock;
}

const ROLLOVER_CHECK_MS = 100;

export class LiveHub {
  private readonly feeds = new Map<string, Feed>();
  /** Feeds still being initialised (their first read), by the promise of it. */
  private readonly ready = new Map<Feed, Promise<void>>();
  private readonly link: BoardLink;
  private readonly subs: Subscriptions;
  private readonly slow: SlowConsumers;
  private readonly rollover: PeriodRollover;
  private readonly topCache: TopCache;
  private readonly instance = randomBytes(3).toString('hex');
  private epochCounter = 0;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly d: LiveDeps) {
    const { options } = d;
    const initialised = (feed: Feed) => !this.ready.has(feed);
    this.link = new BoardLink(d.subscriber, d.redisPrefix, d.log);
    this.subs = new Subscriptions(this.feeds, d.metrics, options.maxSubscriptionsPerSocket);
    this.slow = new SlowConsumers({
      app: d.app,
      send: d.send,
      metrics: d.metrics,
      maxBacklogBytes: options.maxBacklogBytes,
      lagTimeoutMs: options.lagTimeoutMs,
    });
    this.rollover = new PeriodRollover({
      clock: d.clock,
      link: this.link,
      loadTop: d.loadTop,
      publish: (g, frame) => this.slow.publish(g, frame),
      initialised,
      log: d.log,
    });
    this.topCache = new TopCache({ feeds: this.feeds, feedFor: (board) => this.feedFor(board), initialised, link: this.link, log: d.log });
  }

  start(): void {
    const { options } = this.d;
    this.link.start({
      notice: (board, notice) => this.noteChange(board, notice),
      renamed: (userId) => this.noteRename(userId),
      resumed: () => {
        // Notices may have been missed while disconnected: every group starts over.
        for (const feed of this.feeds.values()) feed.markRestart();
      },
    });
    this.timers.push(setInterval(() => this.tick(), options.tickMs));
    this.timers.push(setInterval(() => this.feeds.forEach((f) => f.markStale()), options.refreshMs));
    this.timers.push(setInterval(() => this.sweep(), 1000));
    this.timers.push(setInterval(() => this.rollover.check(this.feeds.values()), ROLLOVER_CHECK_MS));
    for (const t of this.timers) t.unref();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** See TopCache.cachedTop: the view's rows when known current, else undefined. */
  cachedTop(board: string, limit: number): Entry[] | undefined {
    return this.topCache.cachedTop(board, limit);
  }

  /** The largest unsent backlog of any subscribed socket (for tests and diagnostics). */
  maxBacklogBytes(): number {
    return this.subs.maxBacklogBytes();
  }

  get subscriptionCount(): number {
    return this.subs.count;
  }

  /** A committed change on `board`, from this instance or (through pub/sub) another. */
  noteChange(board: string, notice: ChangeNotice): void {
    const feeds = this.link.feedsOf(board);
    if (!feeds) return;
    for (const feed of feeds) if (feed.affectedBy(notice)) feed.markChanged(performance.now());
  }

  /** A user was renamed (here, or through pub/sub elsewhere): views showing them are read again. */
  noteRename(userId: number): void {
    for (const feed of this.feeds.values()) if (feed.shows(userId)) feed.markChanged(performance.now());
  }

  /** Subscribes (or re-subscribes with a new limit) and replies with the snapshot itself, so no diff can overtake it. */
  async subscribe(ws: Socket, rid: number | undefined, req: SubscribeRequest): Promise<void> {
    this.subs.checkRoom(ws, req.board);
    const feed = await this.feedFor(req.board);
    if (ws.getUserData().closed) return;
    const g = this.subs.join(ws, feed, req.limit, this.slow.isLagging(ws));
    this.d.send(ws, { ...snapshotOf(g), op: 'subscribe', ...(rid === undefined ? {} : { rid }) });
  }

  unsubscribe(ws: Socket, req: UnsubscribeRequest): { board: string } {
    this.subs.leave(ws, req.board);
    return { board: req.board };
  }

  onClose(ws: Socket): void {
    this.subs.leaveAll(ws);
    this.slow.forget(ws);
  }

  /** The socket's backlog shrank: a lagging socket that caught up gets a fresh snapshot of each board it follows. */
  onDrain(ws: Socket): void {
    this.slow.onDrain(ws);
  }

  /** The epoch of a group started anew (the `epoch` of its snapshot and diff frames), unique across instances. */
  private nextGroupEpoch = (): string => `${this.instance}.${++this.epochCounter}`;

  private async feedFor(board: string): Promise<Feed> {
    let feed = this.feeds.get(board);
    if (!feed) {
      const created = new Feed(board, this.nextGroupEpoch, sourceAt(board, this.d.clock.now()), this.d.signOf?.(board) ?? 1);
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

  private async initFeed(feed: Feed): Promise<void> {
    await this.link.attach(feed);
    feed.startWholeRead();
    const { entries, epoch } = await this.d.loadTop(feed.source, VIEW_SIZE);
    feed.setView(entries, epoch);
  }

  private tick(): void {
    for (const feed of this.feeds.values()) {
      if (feed.dirty && !feed.refreshing && this.ready.get(feed) === undefined) void this.refresh(feed);
    }
  }

  private async refresh(feed: Feed): Promise<void> {
    const start = feed.beginRefresh();
    try {
      const { entries, epoch } = await this.d.loadTop(feed.source, VIEW_SIZE);
      const rebuilt = feed.setView(entries, epoch);
      let published = false;
      for (const g of feed.groups.values()) {
        const frame = start.restart || rebuilt ? feed.restart(g) : feed.advance(g);
        if (frame) published = this.slow.publish(g, frame) || published;
      }
      if (published && start.since > 0) this.d.onDiffLatency?.((performance.now() - start.since) / 1000);
    } catch (err) {
      feed.refreshFailed(start);
      this.d.log.warn({ err, board: feed.board }, 'live: cannot read the board; will retry');
    } finally {
      feed.endRefresh();
    }
  }

  /** Closes sockets lagging too long, and forgets feeds nobody follows or reads. */
  private sweep(): void {
    const now = Date.now();
    this.slow.sweep(now);
    for (const [board, feed] of this.feeds) {
      if (feed.groups.size > 0 || feed.refreshing || this.ready.has(feed) || this.topCache.keeps(feed, now)) continue;
      this.feeds.delete(board);
      this.link.detach(feed);
    }
  }
}
