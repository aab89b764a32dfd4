/**
 * A reference model of the contract's ranking rules, written as plainly as possible: the tests
 * compare the server's every answer with it.
 */
import { GLOBAL_BOARD, mayUseUsername, modeBoard, nameKey, percentile, type Entry } from '../../protocol/index.ts';

interface Totals {
  total: number;
  games: number;
}

export class Model {
  readonly names = new Map<number, string>();
  readonly boards = new Map<string, Map<number, Totals>>();
  readonly sessions = new Map<number, { score: number; game_mode: string }[]>();
  private readonly submissionIds = new Map<number, Set<string>>();

  submit(r: { user_id: number; score: number; game_mode: string; username?: string; submission_id?: string }) {
    const subs = this.submissionIds.get(r.user_id) ?? new Set<string>();
    if (r.submission_id !== undefined && subs.has(r.submission_id)) {
      return { kind: 'ok' as const, reply: { ...this.globalTotals(r.user_id), duplicate: true } };
    }
    if (r.username !== undefined) {
      // Names are one name when their keys are (protocol/names.ts); default names are reserved.
      if (!mayUseUsername(r.user_id, r.username)) return { kind: 'conflict' as const };
      const key = nameKey(r.username);
      for (const [id, name] of this.names) if (id !== r.user_id && nameKey(name) === key) return { kind: 'conflict' as const };
      this.names.set(r.user_id, r.username);
    } else if (!this.names.has(r.user_id)) {
      this.names.set(r.user_id, `player${r.user_id}`);
    }
    if (r.submission_id !== undefined) subs.add(r.submission_id);
    this.submissionIds.set(r.user_id, subs);
    for (const b of [GLOBAL_BOARD, modeBoard(r.game_mode)]) {
      const board = this.boards.get(b) ?? new Map<number, Totals>();
      const t = board.get(r.user_id) ?? { total: 0, games: 0 };
      board.set(r.user_id, { total: t.total + r.score, games: t.games + 1 });
      this.boards.set(b, board);
    }
    const list = this.sessions.get(r.user_id) ?? [];
    list.unshift({ score: r.score, game_mode: r.game_mode });
    this.sessions.set(r.user_id, list);
    return { kind: 'ok' as const, reply: { ...this.globalTotals(r.user_id), duplicate: false } };
  }

  private globalTotals(userId: number) {
    const t = this.boards.get(GLOBAL_BOARD)!.get(userId)!;
    return { user_id: userId, total_score: t.total, games_played: t.games, rank: this.rankOf(GLOBAL_BOARD, t.total) };
  }

  rankOf(board: string, total: number): number {
    let higher = 0;
    for (const t of this.boards.get(board)?.values() ?? []) if (t.total > total) higher++;
    return higher + 1;
  }

  listing(board: string): Entry[] {
    const rows = [...(this.boards.get(board) ?? new Map<number, Totals>()).entries()].map(([id, t]) => ({
      rank: this.rankOf(board, t.total),
      user_id: id,
      username: this.names.get(id)!,
      total_score: t.total,
      games_played: t.games,
    }));
    return rows.sort((a, b) => a.rank - b.rank || a.user_id - b.user_id);
  }

  top(board: string, limit: number): Entry[] {
    return this.listing(board).slice(0, limit);
  }

  around(board: string, userId: number, radius: number): Entry[] | undefined {
    const list = this.listing(board);
    const i = list.findIndex((e) => e.user_id === userId);
    if (i < 0) return undefined;
    return list.slice(Math.max(0, i - radius), i + radius + 1);
  }

  rank(board: string, userId: number) {
    const list = this.listing(board);
    const e = list.find((x) => x.user_id === userId);
    if (!e) return undefined;
    return { board, ...e, percentile: percentile(e.rank, list.length), total_players: list.length };
  }

  history(userId: number, limit: number, offset: number) {
    const list = this.sessions.get(userId);
    if (!list) return undefined;
    return { total_sessions: list.length, sessions: list.slice(offset, offset + limit) };
  }

  boardIds(): string[] {
    return [...this.boards.keys()];
  }

  /** `ranks` (a v1 addition): the listed users on the board in listing order, the others as listed. */
  ranks(board: string, userIds: readonly number[]) {
    const listed = new Set(userIds);
    const entries = this.listing(board).filter((e) => listed.has(e.user_id));
    const found = new Set(entries.map((e) => e.user_id));
    return { board, entries, missing: userIds.filter((id) => !found.has(id)) };
  }

  /** `page` (a v1 addition): up to `limit` rows strictly after the cursor in listing order. */
  page(board: string, limit: number, after?: { total_score: number; user_id: number }) {
    const rest = this.listing(board).filter(
      (e) => !after || e.total_score < after.total_score || (e.total_score === after.total_score && e.user_id > after.user_id),
    );
    const entries = rest.slice(0, limit);
    const last = entries[entries.length - 1];
    return { board, entries, next: rest.length > limit && last ? { total_score: last.total_score, user_id: last.user_id } : null };
  }
}
