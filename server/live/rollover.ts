/**
 * Period rollover of current-period feeds (`global:daily`): which period such a feed reads now,
 * and moving its groups from the period that ended (its final standings) to the new one.
 */
import { isCurrentPeriodAlias, resolveBoard, type Entry } from '../../protocol/index.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { BoardLink } from './board-link.ts';
import { VIEW_SIZE, type Feed, type Group } from './feed.ts';

/**
 * A current-period board's feed moves to the new period this long after the boundary: submits
 * taken just before it have committed by then, so the final standings sent are final.
 */
export const ROLLOVER_SETTLE_MS = 1000;

/** The board a feed of `board` reads at `ms`: a current-period id's period, as of the settle delay before. */
export function sourceAt(board: string, ms: number): string {
  return resolveBoard(board, ms - ROLLOVER_SETTLE_MS);
}

export interface RolloverDeps {
  clock: Clock;
  link: BoardLink;
  loadTop: (board: string, limit: number) => Promise<{ entries: Entry[]; epoch: string | undefined }>;
  publish: (g: Group, frame: object) => boolean;
  /** A feed still being initialised has no view to roll over yet. */
  initialised: (feed: Feed) => boolean;
  log: Logger;
}

export class PeriodRollover {
  constructor(private readonly d: RolloverDeps) {}

  /** Moves current-period feeds whose period has ended (and settled) on to the new one. */
  check(feeds: Iterable<Feed>): void {
    for (const feed of feeds) {
      if (!isCurrentPeriodAlias(feed.board) || feed.refreshing || !this.d.initialised(feed)) continue;
      const next = sourceAt(feed.board, this.d.clock.now());
      if (next !== feed.source) void this.rollover(feed, next);
    }
  }

  /**
   * Sends every group the ended period's final standings (read from PostgreSQL, the period being
   * over) and then a fresh snapshot of the new period, each under a new epoch. On failure the feed
   * stays on the old period and the next check tries again.
   */
  private async rollover(feed: Feed, next: string): Promise<void> {
    const { link, loadTop, publish, log } = this.d;
    feed.beginRollover();
    const ended = feed.source;
    try {
      const final = await loadTop(ended, VIEW_SIZE);
      feed.setView(final.entries, undefined);
      for (const g of feed.groups.values()) publish(g, { ...feed.restart(g), period: ended, final: true });
      link.detach(feed);
      feed.switchSource(next);
      await link.attach(feed);
      feed.startWholeRead();
      const fresh = await loadTop(next, VIEW_SIZE);
      feed.setView(fresh.entries, fresh.epoch);
      for (const g of feed.groups.values()) publish(g, feed.restartInPeriod(g));
      log.info({ board: feed.board, ended, period: next }, 'live: period rolled over');
    } catch (err) {
      // Whatever was sent, the next attempt starts the groups over again from a fresh read.
      feed.markRestart();
      log.warn({ err, board: feed.board, ended, period: next }, 'live: period rollover failed; will retry');
    } finally {
      feed.endRefresh();
    }
  }
}
