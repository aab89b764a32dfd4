/**
 * Reads of a board, index first: the rank index answers while it serves the board (Redis
 * connected, the board not known stale here, a board of the current period or all-time), and
 * PostgreSQL answers whenever it cannot. Shared by the operations (leaderboard.ts) and the live
 * views (live/), which re-read the top rows of the boards they show.
 */
import type { Entry } from '../protocol/index.ts';
import type { BoardKinds } from './board-kinds.ts';
import { unavailable } from './errors.ts';
import type { IndexMaintainer } from './rank-index/maintainer.ts';
import type { ServedBoards } from './rank-index/served-boards.ts';
import { UNTRUSTED, type RankIndex, type Untrusted } from './rank-index/rank-index.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import { isConnectionError, withDeadline, type Sql } from './store/db.ts';
import * as db from './store/scores.ts';

export interface BoardReadsDeps {
  sql: Sql;
  index: RankIndex;
  maintainer: IndexMaintainer;
  /** Which boards the index serves (all-time ones and the current periods'). */
  served: ServedBoards;
  /** Each board's kind: the stores hold sort keys, replies totals (board-kinds.ts). */
  kinds: BoardKinds;
  /** A PostgreSQL call without an answer by then fails as `unavailable`. */
  queryTimeoutMs: number;
  log: Logger;
  metrics: Metrics;
}

export class BoardReads {
  readonly sql: Sql;
  readonly index: RankIndex;
  readonly kinds: BoardKinds;

  constructor(private readonly d: BoardReadsDeps) {
    this.sql = d.sql;
    this.index = d.index;
    this.kinds = d.kinds;
  }

  /**
   * The top rows, with totals (not keys), and, when they came from the index, its generation
   * (live feeds watch it change).
   */
  async topView(board: string, limit: number): Promise<{ entries: Entry[]; epoch: string | undefined }> {
    const fromIndex = await this.read('top', board, () => this.index.top(board, limit));
    if (fromIndex !== UNTRUSTED) return { entries: this.kinds.entries(board, fromIndex.entries), epoch: fromIndex.epoch };
    return { entries: this.kinds.entries(board, await this.db('top', () => db.top(this.sql, board, limit))), epoch: undefined };
  }

  /**
   * Whether reads of `board` may go to the index: Redis connected, the board not known stale here,
   * and not a past period (those are served from PostgreSQL alone; their index keys expire).
   */
  indexServes(board: string): boolean {
    return this.index.connected && !this.d.maintainer.isDirty(board) && this.d.served.has(board);
  }

  /**
   * Runs an index read; UNTRUSTED (and a rebuild request) when the index cannot answer for the
   * board. `timed: false` for a read the index times itself (one Redis call serving many reads).
   */
  async read<T>(call: string, board: string, fn: () => Promise<T | Untrusted>, timed = true): Promise<T | Untrusted> {
    if (!this.indexServes(board)) {
      this.d.metrics.indexReads.inc({ source: 'postgres' });
      return UNTRUSTED;
    }
    try {
      const v = await (timed ? this.timed('redis', call, fn) : fn());
      if (v === UNTRUSTED) this.d.maintainer.request(board);
      this.d.metrics.indexReads.inc({ source: v === UNTRUSTED ? 'postgres' : 'redis' });
      return v;
    } catch (err) {
      this.d.log.warn({ err, board }, 'rank index read failed; answering from PostgreSQL');
      this.d.metrics.indexReads.inc({ source: 'postgres' });
      return UNTRUSTED;
    }
  }

  /** Runs PostgreSQL work; an unreachable or stalled database becomes `unavailable`. */
  async db<T>(call: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.timed('postgres', call, () => withDeadline(fn(), this.d.queryTimeoutMs));
    } catch (err) {
      if (isConnectionError(err)) throw unavailable('the database is unavailable; retry later', err);
      throw err;
    }
  }

  private async timed<T>(store: 'postgres' | 'redis', call: string, fn: () => Promise<T>): Promise<T> {
    const end = this.d.metrics.storeDuration.startTimer({ store, call });
    try {
      return await fn();
    } finally {
      end();
    }
  }
}
