/**
 * Each board's kind (server/board-config.ts) and the one translation it needs: the stores keep a
 * board's *sort key* (sql/009), the total on a `desc` board and minus the total on an `asc` one,
 * so ranks, listing order, the rank index and every PostgreSQL read are the same for both kinds.
 * Replies carry totals: the reads turn keys into totals here, and a page cursor's total into a
 * key. On a `desc` board both are the identity and nothing is copied.
 */
import { parseBoard, type BoardDefinition, type Entry, type PageCursor, type Window } from '../protocol/index.ts';
import { DEFAULT_KIND, type BoardConfig, type BoardKind } from './board-config.ts';

export type Sign = 1 | -1;

export class BoardKinds {
  private readonly anyAsc: boolean;

  constructor(
    private readonly config: BoardConfig,
    private readonly windows: readonly Window[],
  ) {
    this.anyAsc = [...config.kinds.values()].some((k) => k.sortOrder === 'asc');
  }

  /** The kind of a board: its family's (a window board is of its family's kind). */
  kind(board: string): BoardKind {
    if (this.config.kinds.size === 0) return DEFAULT_KIND;
    const family = parseBoard(board)?.family ?? board;
    return this.config.kinds.get(family) ?? DEFAULT_KIND;
  }

  /** 1 where the key is the total, -1 where it is minus the total (`asc`). */
  sign(board: string): Sign {
    return this.anyAsc && this.kind(board).sortOrder === 'asc' ? -1 : 1;
  }

  /** A total from a key, or a key from a total (the same map both ways). */
  total(board: string, key: number): number {
    return this.sign(board) === 1 ? key : 0 - key;
  }

  /** Entries whose `total_score` holds keys, with totals instead (the same array on a `desc` board). */
  entries(board: string, rows: Entry[]): Entry[] {
    if (this.sign(board) === 1) return rows;
    return rows.map((e) => ({ ...e, total_score: 0 - e.total_score }));
  }

  /** A page cursor in totals (the client's) as one in keys (the stores'), and back. */
  cursor(board: string, c: PageCursor): PageCursor {
    return this.sign(board) === 1 ? c : { total_score: 0 - c.total_score, user_id: c.user_id };
  }

  /** The definition `boards` lists for a family. */
  definition(board: string, players?: number): BoardDefinition {
    const k = this.kind(board);
    return {
      board,
      sort_order: k.sortOrder,
      write_mode: k.writeMode,
      display: { ...k.display },
      windows: [...this.windows],
      ...(players === undefined ? {} : { players }),
    };
  }
}
