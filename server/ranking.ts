/**
 * Ranking rules as pure functions, shared by the Redis index and the PostgreSQL fallback:
 * competition ranks over a window of rows in listing order.
 */
import type { Entry } from '../protocol/index.ts';

export interface Row {
  user_id: number;
  username: string;
  total_score: number;
  games_played: number;
}

/**
 * Assigns competition ranks to `rows` (in listing order: total descending, user_id ascending) that
 * start at 0-based listing position `startPosition`, given the rank of the first row. A row whose
 * total differs from the previous row's is first of its tie group, so its rank is its position + 1.
 */
export function assignRanks(rows: readonly Row[], firstRank: number, startPosition: number): Entry[] {
  const out: Entry[] = new Array(rows.length);
  let rank = firstRank;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (i > 0 && row.total_score !== rows[i - 1]!.total_score) rank = startPosition + i + 1;
    out[i] = { rank, user_id: row.user_id, username: row.username, total_score: row.total_score, games_played: row.games_played };
  }
  return out;
}

/** Listing order for rows not yet ranked: total descending, then user_id ascending. */
export function compareRows(a: Row, b: Row): number {
  return b.total_score - a.total_score || a.user_id - b.user_id;
}
