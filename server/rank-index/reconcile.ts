/**
 * Compares a board's rank index with PostgreSQL user by user, and repairs drift by rebuilding the
 * board. The oracle of the fault tests and the operator's `npm run reconcile`.
 */
import type { Sql } from '../store/db.ts';
import { WINDOWS, parseBoard } from '../../protocol/index.ts';
import { listBoards, streamBoard, usersOnBoard } from '../store/scores.ts';
import { ServedBoards } from './served-boards.ts';
import { NO_PROGRESS, type ProgressOutput } from '../progress.ts';
import { fromMember, parseNameValue, toMember } from './keys.ts';
import type { RankIndex } from './rank-index.ts';
import { rebuildBoard } from './rebuild.ts';

export interface BoardDrift {
  board: string;
  /** Rows in PostgreSQL. */
  rows: number;
  /** The board's index is not trusted (its epoch is missing, or its sets are though it has players). */
  untrusted: boolean;
  /** PostgreSQL does not know the board at all; the index has keys of it. */
  orphan: boolean;
  missing: number;
  wrongTotal: number;
  wrongGames: number;
  wrongName: number;
  /** Users in the index (sorted set or hash) that PostgreSQL does not have on this board. */
  extra: number;
  /** A few examples of drifted user ids, for the report. */
  examples: number[];
}

export function hasDrift(d: BoardDrift): boolean {
  // An orphan's index is expected to be untrusted or empty; only members in it would be served.
  return (d.untrusted && !d.orphan) || d.missing + d.wrongTotal + d.wrongGames + d.wrongName + d.extra > 0;
}

const CHUNK_ROWS = 5000;

export async function compareBoard(index: RankIndex, sql: Sql, board: string, orphan = false): Promise<BoardDrift> {
  const bulk = index.bulk;
  const d: BoardDrift = { board, rows: 0, untrusted: false, orphan, missing: 0, wrongTotal: 0, wrongGames: 0, wrongName: 0, extra: 0, examples: [] };
  const note = (userId: number) => {
    if (d.examples.length < 5) d.examples.push(userId);
  };
  d.untrusted = !(await index.trusted(board));
  let inZ = 0;
  let inH = 0;
  await streamBoard(sql, board, CHUNK_ROWS, async (rows) => {
    const members = rows.map((r) => toMember(r.user_id));
    const { scores, games, names } = await bulk.readRows(board, members);
    rows.forEach((r, i) => {
      d.rows++;
      const score = scores[i];
      const g = games[i];
      const name = names[i];
      if (score != null) inZ++;
      if (g != null) inH++;
      if (score == null || g == null || name == null) {
        d.missing++;
        note(r.user_id);
        return;
      }
      const wrong = { total: 0 - Number(score) !== r.total_score, games: Number(g) !== r.games_played, name: parseNameValue(name).name !== r.username };
      if (wrong.total) d.wrongTotal++;
      if (wrong.games) d.wrongGames++;
      if (wrong.name) d.wrongName++;
      if (wrong.total || wrong.games || wrong.name) note(r.user_id);
    });
  });
  // Every chunk is compared by now (streamBoard awaits them all). Members beyond PostgreSQL's are
  // counted exactly: only when the sizes say there are some, by scanning both keys and asking
  // PostgreSQL about each member (a user who joined since the snapshot is not extra).
  const sizes = await bulk.sizes(board);
  if (sizes.z > inZ || sizes.h > inH) {
    const seen = new Set<string>();
    const check = async (members: string[]) => {
      const fresh = members.filter((m) => !seen.has(m));
      for (const m of fresh) seen.add(m);
      const on = await usersOnBoard(sql, board, fresh.map(fromMember));
      for (const m of fresh) {
        if (on.has(fromMember(m))) continue;
        d.extra++;
        note(fromMember(m));
      }
    };
    await bulk.scanMembers(board, 'z', check);
    await bulk.scanMembers(board, 'h', check);
  }
  return d;
}

/** Boards with index keys in Redis (under the prefix, on every master) that PostgreSQL does not know. */
export async function orphanBoards(index: RankIndex, sql: Sql): Promise<string[]> {
  const known = new Set(await listBoards(sql));
  const found = [...(await index.bulk.scanBoards())].filter((board) => parseBoard(board) && !known.has(board));
  return found.sort();
}

/** Deletes an orphan board's index: every instance stops trusting it, then its sets go. */
async function dropBoard(index: RankIndex, board: string): Promise<void> {
  await index.invalidate(board);
  await index.bulk.deleteSets(board);
}

/**
 * Compares every board the index serves, and boards only Redis has; with `repair`, rebuilds each
 * one that drifted (an orphan's keys are deleted) and compares it again. `progress` shows the
 * boards checked of the total.
 */
export async function reconcile(
  index: RankIndex,
  sql: Sql,
  repair: boolean,
  now = Date.now(),
  progress: ProgressOutput = NO_PROGRESS,
): Promise<{ before: BoardDrift[]; after: BoardDrift[] }> {
  const before: BoardDrift[] = [];
  const after: BoardDrift[] = [];
  // Boards of past periods have no index to compare (they are read from PostgreSQL).
  const boards = (await new ServedBoards(WINDOWS, () => now).list(sql)).map((board) => ({ board, orphan: false }));
  for (const board of await orphanBoards(index, sql)) boards.push({ board, orphan: true });
  const line = progress.start(repair ? 'reconcile' : 'reconcile --check', boards.length, 'boards');
  let outcome = 'failed';
  try {
    for (const { board, orphan } of boards) {
      const d = await compareBoard(index, sql, board, orphan);
      before.push(d);
      if (repair && hasDrift(d)) {
        if (orphan) {
          await dropBoard(index, board);
        } else {
          const r = await rebuildBoard(index, sql, board);
          if (r.status !== 'rebuilt') throw new Error(`cannot repair ${board}: rebuild ${r.status}`);
        }
        after.push(await compareBoard(index, sql, board, orphan));
      }
      line.update(before.length);
    }
    outcome = 'done';
  } finally {
    line.finish(outcome);
  }
  return { before, after };
}
