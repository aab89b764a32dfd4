/**
 * Which boards the rank index serves, as one definition for every part that asks: the maintainer
 * (what to rebuild and check), the reads (index or PostgreSQL), the reconcile tool. The rule itself
 * is `isIndexedBoard` (protocol/board.ts): all-time boards, and the current period's board of each
 * window kept; every other period is served from PostgreSQL and its index keys expire.
 */
import { isIndexedBoard, periodSuffixes, type Window } from '../../protocol/index.ts';
import type { Sql } from '../store/db.ts';
import { listBoardsOrEndingIn } from '../store/scores.ts';

export class ServedBoards {
  constructor(
    private readonly windows: readonly Window[],
    private readonly now: () => number,
  ) {}

  has(board: string): boolean {
    return isIndexedBoard(board, this.windows, this.now());
  }

  /** The served boards PostgreSQL knows of, in name order. */
  async list(sql: Sql): Promise<string[]> {
    // The SQL narrows by the current periods' suffixes; the rule decides.
    return (await listBoardsOrEndingIn(sql, periodSuffixes(this.windows, this.now()))).filter((b) => this.has(b));
  }
}
