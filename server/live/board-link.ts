/**
 * The live feeds' link to Redis: which feeds read which board, the sharded subscription to each
 * such board's change channel and to the one channel announcing renames, and whether the link can
 * be trusted to have delivered every notice (it is up, and has not dropped since the feeds were
 * last told to start over).
 */
import { boardKeys, namesKeys, parseChangeNotices, parseRenames, type ChangeNotice } from '../rank-index/keys.ts';
import type { Logger } from '../log.ts';
import type { RedisClient } from '../store/redis.ts';
import type { Feed } from './feed.ts';

export interface BoardLinkEvents {
  /** A change notice for a source board (from any instance). */
  notice(board: string, notice: ChangeNotice): void;
  /** A user's name changed (committed on any instance): every view showing the user is stale. */
  renamed(userId: number): void;
  /** The link came back after a drop: notices may have been lost. */
  resumed(): void;
}

export class BoardLink {
  private readonly channels = new Map<string, string>(); // channel -> source board
  /** Feeds by the board they read: a board's own feed, and a current-period board's feed on its period. */
  private readonly bySource = new Map<string, Set<Feed>>();
  private wasDown = false;
  private hearsRenames = false;

  constructor(
    private readonly subscriber: RedisClient,
    private readonly redisPrefix: string,
    private readonly log: Logger,
  ) {}

  start(events: BoardLinkEvents): void {
    const names = namesKeys(this.redisPrefix).channel;
    // A rename is one notice for every board (names live once per user in the index). Missed
    // while Redis is down, it is covered like any notice: the feeds start over when the link is
    // back, and the periodic re-read bounds it meanwhile.
    const subscribeNames = () => {
      this.subscriber.ssubscribe(names).then(
        () => (this.hearsRenames = true),
        (err: unknown) => this.log.warn({ err }, 'live: cannot subscribe to renames yet; will retry when Redis is back'),
      );
    };
    this.subscriber.on('smessage', (channel: string, message: string) => {
      if (channel === names) {
        for (const userId of parseRenames(message)) events.renamed(userId);
        return;
      }
      const board = this.channels.get(channel);
      if (board === undefined) return;
      for (const notice of parseChangeNotices(message)) events.notice(board, notice);
    });
    this.subscriber.on('close', () => (this.wasDown = true));
    this.subscriber.on('ready', () => {
      if (!this.hearsRenames) subscribeNames();
      if (!this.wasDown) return;
      this.wasDown = false;
      events.resumed();
    });
    subscribeNames();
  }

  /** True while every notice published since the feeds last started over has reached us. */
  get up(): boolean {
    return this.subscriber.status === 'ready' && !this.wasDown && this.hearsRenames;
  }

  /** The feeds reading `board`. */
  feedsOf(board: string): ReadonlySet<Feed> | undefined {
    return this.bySource.get(board);
  }

  /** Starts hearing the changes of the feed's source board (subscribing before its first read). */
  async attach(feed: Feed): Promise<void> {
    const source = feed.source;
    let feeds = this.bySource.get(source);
    if (!feeds) this.bySource.set(source, (feeds = new Set()));
    feeds.add(feed);
    const channel = boardKeys(this.redisPrefix, source).channel;
    if (this.channels.has(channel)) return;
    this.channels.set(channel, source);
    // If Redis is down the periodic refresh covers other instances' changes until it is back.
    await this.subscriber.ssubscribe(channel).catch((err: unknown) => {
      this.log.warn({ err, board: source }, 'live: cannot subscribe to board changes yet');
    });
  }

  /** Stops hearing the source board's changes for this feed (and on Redis, when no feed reads it). */
  detach(feed: Feed): void {
    const source = feed.source;
    const feeds = this.bySource.get(source);
    feeds?.delete(feed);
    if (feeds && feeds.size > 0) return;
    this.bySource.delete(source);
    const channel = boardKeys(this.redisPrefix, source).channel;
    this.channels.delete(channel);
    this.subscriber.sunsubscribe(channel).catch((err: unknown) => this.log.warn({ err, board: source }, 'live: unsubscribe failed'));
  }
}
