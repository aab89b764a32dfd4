/**
 * `top` served from the live views: when a feed's view may answer a read, starting feeds for boards
 * read but not followed (a bounded number of them), and how long such a feed is kept for reads.
 */
import { isCurrentPeriodAlias, type Entry } from '../../protocol/index.ts';
import type { Logger } from '../log.ts';
import type { BoardLink } from './board-link.ts';
import { VIEW_SIZE, type Feed } from './feed.ts';

/** A board read with `top` keeps its feed (its in-memory view) this long without spectators. */
const TOP_CACHE_KEEP_MS = 10_000;
/** Feeds kept only for `top` reads, at most (made-up board names must not grow them without end). */
const MAX_CACHE_FEEDS = 256;

export interface TopCacheDeps {
  /** The hub's feeds by board (read only here). */
  feeds: ReadonlyMap<string, Feed>;
  /** The board's feed, made and initialised if it has none. */
  feedFor: (board: string) => Promise<Feed>;
  initialised: (feed: Feed) => boolean;
  link: BoardLink;
  log: Logger;
}

export class TopCache {
  constructor(private readonly d: TopCacheDeps) {}

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
    const feed = this.d.feeds.get(board);
    if (!feed) {
      if (this.readOnlyFeeds() < MAX_CACHE_FEEDS) {
        this.d
          .feedFor(board)
          .then((f) => f.noteRead(Date.now()))
          .catch((err: unknown) => this.d.log.warn({ err, board }, 'live: cannot start a view for top reads'));
      }
      return undefined;
    }
    feed.noteRead(Date.now());
    const current = this.d.initialised(feed) && feed.isCurrent() && this.d.link.up;
    return current ? feed.top(limit) : undefined;
  }

  /** Whether a feed nobody follows is kept for reads at `now` (Date.now()). */
  keeps(feed: Feed, now: number): boolean {
    return now - feed.lastReadAt < TOP_CACHE_KEEP_MS;
  }

  private readOnlyFeeds(): number {
    let n = 0;
    for (const f of this.d.feeds.values()) if (f.groups.size === 0) n++;
    return n;
  }
}
