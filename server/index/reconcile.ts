/**
 * Compares a board's rank index with PostgreSQL user by user, and repairs drift by rebuilding the
 * board. The oracle of the fault tests and the operator's `npm run reconcile`.
 */
import type { Sql } from '../store/db.ts';
import { WINDOWS, periodSuffixes } from '../../protocol/index.ts';
import { listLiveBoards, streamBoard } from '../store/scores.ts';
import { parseUserValue, toMember } from './keys.ts';
import type { RankIndex } from './rank-index.ts';
import { rebuildBoard } from './rebuild.ts';

export interface BoardDrift {
  board: string;
  /** Rows in PostgreSQL. */
  rows: number;
  /** The board's epoch key is missing (the index is not trusted; reads fall back to PostgreSQL). */
  untrusted: boolean;
  missing: number;
  wrongTotal: number;
  wrongGames: number;
  wrongName: number;
  /** Members in the index that PostgreSQL does not have on this board. */
  extra: number;
  /** A few examples of drifted user ids, for the report. */
  examples: number[];
}

export function hasDrift(d: BoardDrift): boolean {
  return d.untrusted || d.missing + d.wrongTotal + d.wrongGames + d.wrongName + d.extra > 0;
}

export async function compareBoard(index: RankIndex, sql: Sql, board: string): Promise<BoardDrift> {
  const k = index.keys(board);
  const d: BoardDrift = { board, rows: 0, untrusted: false, missing: 0, wrongTotal: 0, wrongGames: 0, wrongName: 0, extra: 0, examples: [] };
  const note = (userId: number) => {
    if (d.examples.length < 5) d.examples.push(userId);
  };
  d.untrusted = (await index.redis.exists(k.epoch)) === 0;
  let matched = 0;
  await streamBoard(sql, board, 5000, async (rows) => {
    const members = rows.map((r) => toMember(r.user_id));
    const [scores, values] = await Promise.all([index.redis.zmscore(k.z, ...members), index.redis.hmget(k.h, ...members)]);
    rows.forEach((r, i) => {
      d.rows++;
      const score = scores[i];
      const value = values[i];
      if (score == null || value == null) {
        d.missing++;
        note(r.user_id);
        return;
      }
      matched++;
      const v = parseUserValue(value);
      const wrong = { total: 0 - Number(score) !== r.total_score, games: v.games !== r.games_played, name: v.name !== r.username };
      if (wrong.total) d.wrongTotal++;
      if (wrong.games) d.wrongGames++;
      if (wrong.name) d.wrongName++;
      if (wrong.total || wrong.games || wrong.name) note(r.user_id);
    });
  });
  d.extra = (await index.redis.zcard(k.z)) - matched;
  return d;
}

/** Compares every board the index serves; with `repair`, rebuilds each one that drifted and compares it again. */
export async function reconcile(
  index: RankIndex,
  sql: Sql,
  repair: boolean,
  now = Date.now(),
): Promise<{ before: BoardDrift[]; after: BoardDrift[] }> {
  const before: BoardDrift[] = [];
  const after: BoardDrift[] = [];
  // Boards of past periods have no index to compare (they are read from PostgreSQL).
  for (const board of await listLiveBoards(sql, periodSuffixes(WINDOWS, now))) {
    const d = await compareBoard(index, sql, board);
    before.push(d);
    if (!repair || !hasDrift(d)) continue;
    const r = await rebuildBoard(index, sql, board);
    if (r.status !== 'rebuilt') throw new Error(`cannot repair ${board}: rebuild ${r.status}`);
    after.push(await compareBoard(index, sql, board));
  }
  return { before, after };
}
