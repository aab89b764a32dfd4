/**
 * What this instance committed, announced to whoever follows it: the submit pipeline emits, the
 * live hub (and tests) subscribe. The pipeline therefore knows nothing of its listeners, which is
 * what lets the server be built in one direction (pipeline, then hub, then the edges) instead of
 * late-binding them to each other. Other instances' commits reach the hub through Redis pub/sub
 * (live/board-link.ts), not through here.
 */
import type { ChangeNotice } from './rank-index/keys.ts';

export interface CommitListener {
  /** A committed change of one user's row on `board` (its total and games after the commit). */
  changed(board: string, notice: ChangeNotice): void;
  /** A commit changed the user's name. */
  renamed(userId: number): void;
}

export class CommitEvents {
  private listeners: CommitListener[] = [];

  /** Adds a listener; the function returned removes it. */
  subscribe(listener: CommitListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /**
   * Announces one batch's committed rows and renames, synchronously and before its submits are
   * answered: a live view marked changed here cannot serve the old rows to a reader who saw the ack.
   */
  committed(rows: readonly ({ board: string } & ChangeNotice)[], renamed: readonly number[]): void {
    for (const l of this.listeners) {
      for (const r of rows) l.changed(r.board, { userId: r.userId, total: r.total, games: r.games });
      for (const userId of renamed) l.renamed(userId);
    }
  }
}
