/**
 * PostgreSQL queries of the leaderboard: the submit call and every read, used directly when the
 * rank index cannot serve. Thin: ranking arithmetic lives in ranking.ts.
 */
import { WINDOWS, defaultUsername, nameKey, parseBoard, type Entry, type HistoryReply, type PageCursor, type SubmitRequest } from '../../protocol/index.ts';
import { assignRanks, type Row } from '../ranking.ts';
import type { Sql, Tx } from './db.ts';
import type { PendingRecord } from './pending.ts';
import { windowColumn } from './window-close.ts';

export interface SubmitResult {
  status: 'ok' | 'duplicate' | 'conflict';
  username: string | null;
  global_total: number | null;
  global_games: number | null;
  mode_total: number | null;
  mode_games: number | null;
  session_id: number | null;
  committed_at: Date | null;
  new_board: boolean | null;
  /** Always null (kept in the row type of sql/functions/3_submit_batch.sql). */
  other_boards: string[] | null;
  /** The user's totals on its window boards as of this commit (sql/functions/3_submit_batch.sql); null when none. */
  w_boards?: string[] | null;
  w_totals?: number[] | null;
  w_games?: number[] | null;
  /** Window boards this batch created. */
  w_new?: string[] | null;
}

/**
 * One submit; it refuses to commit once `deadline` has passed (SQLSTATE LB001), and also counts
 * on the window boards named by `suffixes` (sql/functions/3_submit_batch.sql).
 */
export async function submit(sql: Sql, r: SubmitRequest, deadline: Date, suffixes: readonly string[], pending?: PendingRecord): Promise<SubmitResult> {
  const [row] = await submitBatch(sql, [r], deadline, suffixes, pending);
  return row!;
}

/**
 * Many submits in one transaction and one round trip; one result per request, in order. Each row
 * carries the key of the name it may write (its username's, or its default name's for a new
 * user): uniqueness is on the key (sql/001).
 */
export async function submitBatch(
  sql: Sql,
  reqs: readonly SubmitRequest[],
  deadline: Date,
  suffixes: readonly string[],
  pending?: PendingRecord,
): Promise<SubmitResult[]> {
  // The pending record is written by the same statement, so it commits (or not) with the batch.
  const record = pending
    ? sql`WITH pending AS (
        INSERT INTO index_pending (instance, token, boards)
        VALUES (${pending.instance}, ${pending.token}, ${sql.array([...pending.boards], 25)}::text[]))`
    : sql``;
  const rows = await sql<(SubmitResult & { ord: number })[]>`
    ${record}
    SELECT * FROM lb_submit_batch(
      ${deadline},
      ${sql.array(periodsOf(suffixes) as string[], 25)}::text[],
      ${sql.array(reqs.map((r) => r.user_id), 20)}::bigint[],
      ${sql.array(reqs.map((r) => r.score), 20)}::bigint[],
      ${sql.array(reqs.map((r) => r.game_mode), 25)}::text[],
      ${sql.array(reqs.map((r) => r.username ?? null) as string[], 25)}::text[],
      ${sql.array(reqs.map((r) => r.submission_id ?? null) as string[], 25)}::text[],
      ${sql.array(reqs.map((r) => nameKey(r.username ?? defaultUsername(r.user_id))), 25)}::text[])`;
  if (rows.length !== reqs.length) throw new Error(`lb_submit_batch returned ${rows.length} rows for ${reqs.length} submits`);
  return rows.sort((a, b) => a.ord - b.ord);
}

/**
 * The period keys of `suffixes` (`:daily:2026-12-01`, ...) in the order lb_submit_batch takes them
 * ({daily, weekly, monthly}), null for a window not named.
 */
export function periodsOf(suffixes: readonly string[]): (string | null)[] {
  return WINDOWS.map((w) => {
    const s = suffixes.find((x) => x.startsWith(`:${w}:`));
    return s === undefined ? null : s.slice(w.length + 2);
  });
}

/**
 * The rows of `board`, (user_id, total_score, games_played), as a subquery to select from. An
 * all-time board's rows, or a closed period's, are its own rows of `leaderboard`; an open period's
 * are also its family's rows whose window columns hold that period (sql/008). For the plain case
 * the planner flattens the subquery, so `leaderboard_rank_idx` serves it as before.
 */
function rowsOf(sql: Sql | Tx, board: string) {
  const b = parseBoard(board);
  if (!b?.window || b.period === undefined) {
    return sql`(SELECT user_id, total_score, games_played FROM leaderboard WHERE board = ${board})`;
  }
  const window = b.window;
  const col = (what: 'period' | 'total' | 'games') => windowColumn(sql, window, what);
  return sql`(
    SELECT user_id, total_score, games_played FROM leaderboard WHERE board = ${board}
    UNION ALL
    SELECT user_id, ${col('total')}, ${col('games')} FROM leaderboard
    WHERE board = ${b.family} AND ${col('period')} = ${b.period}
      AND NOT EXISTS (SELECT 1 FROM window_closes c WHERE c.time_window = ${b.window} AND c.period = ${b.period}))`;
}

/** The user's global totals when `submissionId` is committed for them (the submit is a retry), else undefined. */
export async function committedTotals(sql: Sql, userId: number, submissionId: string): Promise<{ total_score: number; games_played: number } | undefined> {
  const [row] = await sql<{ total_score: number; games_played: number }[]>`
    SELECT l.total_score, l.games_played
    FROM game_sessions s JOIN leaderboard l ON l.board = 'global' AND l.user_id = s.user_id
    WHERE s.user_id = ${userId} AND s.submission_id = ${submissionId}`;
  return row;
}

export interface UserTotals extends Row {}

export async function userOnBoard(sql: Sql, board: string, userId: number): Promise<UserTotals | undefined> {
  const [row] = await sql<UserTotals[]>`
    SELECT l.user_id, u.username, l.total_score, l.games_played
    FROM ${rowsOf(sql, board)} l JOIN users u USING (user_id)
    WHERE l.user_id = ${userId}`;
  return row;
}

export async function usernameOf(sql: Sql, userId: number): Promise<string | undefined> {
  const [row] = await sql<{ username: string }[]>`SELECT username FROM users WHERE user_id = ${userId}`;
  return row?.username;
}

/**
 * The user named `username`: exactly, or else by key (so `alice` finds `Alice`). The exact match
 * comes first, for a name stored before name keys whose key another user holds (its key is NULL).
 */
export async function userIdByName(sql: Sql, username: string): Promise<number | undefined> {
  const [row] = await sql<{ user_id: number }[]>`
    SELECT user_id FROM users WHERE username = ${username} OR name_key = ${nameKey(username)}
    ORDER BY username = ${username} DESC LIMIT 1`;
  return row?.user_id;
}

/** Competition rank of a total: 1 + the number of users with a strictly higher total. */
export async function rankOfTotal(sql: Sql, board: string, total: number): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    SELECT count(*)::bigint AS n FROM ${rowsOf(sql, board)} l WHERE l.total_score > ${total}`;
  return row!.n + 1;
}

/**
 * rankOfTotal with a bounded cost: at most `cap` index entries are read. Exact when fewer than
 * `cap` players are ahead; otherwise `cap + 1`, a lower bound.
 */
export async function rankOfTotalCapped(sql: Sql, board: string, total: number, cap: number): Promise<{ rank: number; exact: boolean }> {
  return (await ranksOfTotalsCapped(sql, board, [total], cap))[0]!;
}

/**
 * rankOfTotalCapped for many totals in one statement: a batch of submits whose ranks the index
 * could not give costs one round trip, not one per submit.
 */
export async function ranksOfTotalsCapped(sql: Sql, board: string, totals: readonly number[], cap: number): Promise<{ rank: number; exact: boolean }[]> {
  if (totals.length === 0) return [];
  const rows = await sql<{ n: number }[]>`
    SELECT (SELECT count(*)::integer FROM (
              SELECT 1 FROM ${rowsOf(sql, board)} l WHERE l.total_score > t.total
              ORDER BY l.total_score DESC LIMIT ${cap}) AS ahead) AS n
    FROM unnest(${sql.array(totals as number[], 20)}::bigint[]) WITH ORDINALITY AS t(total, o)
    ORDER BY t.o`;
  return rows.map(({ n }) => (n < cap ? { rank: n + 1, exact: true } : { rank: cap + 1, exact: false }));
}

export async function boardSize(sql: Sql, board: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::bigint AS n FROM ${rowsOf(sql, board)} l`;
  return row!.n;
}

export async function top(sql: Sql, board: string, limit: number): Promise<Entry[]> {
  const rows = await sql<Row[]>`
    SELECT l.user_id, u.username, l.total_score, l.games_played
    FROM ${rowsOf(sql, board)} l JOIN users u USING (user_id)
    ORDER BY l.total_score DESC, l.user_id
    LIMIT ${limit}`;
  return assignRanks(rows, 1, 0);
}

/**
 * Up to `n` rows strictly after the position (total, userId) in listing order, without names or
 * ranks: two range scans of leaderboard_rank_idx (the rest of that tie group, then lower totals).
 * A fragment, for `around` and `page` to build on.
 */
function rowsAfter(sql: Sql, board: string, total: number, userId: number, n: number) {
  return sql`
    SELECT * FROM (
      (SELECT l.user_id, l.total_score, l.games_played FROM ${rowsOf(sql, board)} l
       WHERE l.total_score = ${total} AND l.user_id > ${userId}
       ORDER BY l.user_id LIMIT ${n})
      UNION ALL
      (SELECT l.user_id, l.total_score, l.games_played FROM ${rowsOf(sql, board)} l
       WHERE l.total_score < ${total}
       ORDER BY l.total_score DESC, l.user_id LIMIT ${n})
    ) x
    ORDER BY x.total_score DESC, x.user_id LIMIT ${n}`;
}

/** The user's row and up to `radius` rows either side, in listing order; undefined when absent. */
export async function around(sql: Sql, board: string, userId: number, radius: number): Promise<Entry[] | undefined> {
  const me = await userOnBoard(sql, board, userId);
  if (!me) return undefined;
  const t = me.total_score;
  const [before, after] = await Promise.all([
    sql<Row[]>`
      SELECT * FROM (
        (SELECT l.user_id, l.total_score, l.games_played FROM ${rowsOf(sql, board)} l
         WHERE l.total_score = ${t} AND l.user_id < ${userId}
         ORDER BY l.user_id DESC LIMIT ${radius})
        UNION ALL
        (SELECT l.user_id, l.total_score, l.games_played FROM ${rowsOf(sql, board)} l
         WHERE l.total_score > ${t}
         ORDER BY l.total_score, l.user_id DESC LIMIT ${radius})
      ) b JOIN users u USING (user_id)
      ORDER BY b.total_score, b.user_id DESC LIMIT ${radius}`,
    sql<Row[]>`
      SELECT a.user_id, u.username, a.total_score, a.games_played
      FROM (${rowsAfter(sql, board, t, userId, radius)}) a JOIN users u USING (user_id)
      ORDER BY a.total_score DESC, a.user_id`,
  ]);
  const rows = [...before.reverse(), me, ...after];
  const first = rows[0]!;
  const [counts] = await sql<{ higher: number; tied_before: number }[]>`
    SELECT count(*) FILTER (WHERE total_score > ${first.total_score})::bigint AS higher,
           count(*) FILTER (WHERE total_score = ${first.total_score} AND user_id < ${first.user_id})::bigint AS tied_before
    FROM ${rowsOf(sql, board)} l WHERE l.total_score >= ${first.total_score}`;
  return assignRanks(rows, counts!.higher + 1, counts!.higher + counts!.tied_before);
}

/**
 * The entries of those of `userIds` on the board, in listing order, in one statement (one
 * snapshot). Each distinct total is ranked once, by the count `rankOfTotal` makes.
 */
export async function ranks(sql: Sql, board: string, userIds: readonly number[]): Promise<Entry[]> {
  const rows = await sql<Entry[]>`
    WITH me AS (
      SELECT l.user_id, u.username, l.total_score, l.games_played
      FROM ${rowsOf(sql, board)} l JOIN users u USING (user_id)
      WHERE l.user_id = ANY(${sql.array(userIds as number[], 20)}::bigint[])
    ), r AS (
      SELECT t.total_score,
             (SELECT count(*) FROM ${rowsOf(sql, board)} h WHERE h.total_score > t.total_score)::bigint + 1 AS rank
      FROM (SELECT DISTINCT total_score FROM me) t
    )
    SELECT r.rank, me.user_id, me.username, me.total_score, me.games_played
    FROM me JOIN r USING (total_score)
    ORDER BY me.total_score DESC, me.user_id`;
  return [...rows];
}

/**
 * Up to `count` rows after `after` in listing order, ranked, in one statement (one snapshot).
 * Keyset, not OFFSET: the rows come from `rowsAfter` (range scans), as `around`'s do; ranking the
 * first row counts the rows above it, which costs what `rank` costs at that depth.
 */
export async function page(sql: Sql, board: string, after: PageCursor | undefined, count: number): Promise<Entry[]> {
  if (!after) return top(sql, board, count);
  const { total_score: t, user_id: u } = after;
  const rows = await sql<(Row & { higher: number; tied_before: number })[]>`
    WITH p AS (${rowsAfter(sql, board, t, u, count)}), f AS (
      SELECT total_score, user_id FROM p ORDER BY total_score DESC, user_id LIMIT 1
    ), c AS (
      SELECT count(*) FILTER (WHERE l.total_score > f.total_score)::bigint AS higher,
             count(*) FILTER (WHERE l.total_score = f.total_score AND l.user_id < f.user_id)::bigint AS tied_before
      FROM f JOIN ${rowsOf(sql, board)} l ON l.total_score >= f.total_score
    )
    SELECT p.user_id, u.username, p.total_score, p.games_played, c.higher, c.tied_before
    FROM p JOIN users u USING (user_id) CROSS JOIN c
    ORDER BY p.total_score DESC, p.user_id`;
  if (rows.length === 0) return [];
  const { higher, tied_before } = rows[0]!;
  return assignRanks(rows, higher + 1, higher + tied_before);
}

export async function history(sql: Sql, userId: number, limit: number, offset: number): Promise<HistoryReply | undefined> {
  const [totals] = await sql<{ games_played: number }[]>`
    SELECT games_played FROM leaderboard WHERE board = 'global' AND user_id = ${userId}`;
  if (!totals) return undefined;
  const sessions = await sql<{ id: number; score: number; game_mode: string; created_at: Date }[]>`
    SELECT id, score, game_mode, created_at FROM game_sessions
    WHERE user_id = ${userId} ORDER BY id DESC LIMIT ${limit} OFFSET ${offset}`;
  return {
    user_id: userId,
    sessions: sessions.map((s) => ({ id: s.id, score: s.score, game_mode: s.game_mode, timestamp: s.created_at.getTime() })),
    total_sessions: totals.games_played,
  };
}

export async function boardExists(sql: Sql, board: string): Promise<boolean> {
  return (await sql`SELECT 1 FROM boards WHERE board = ${board}`).length > 0;
}

export async function listBoards(sql: Sql): Promise<string[]> {
  return (await sql<{ board: string }[]>`SELECT board FROM boards ORDER BY board`).map((r) => r.board);
}

/** The all-time boards (`global`, `mode:<m>`), without their window boards. */
export async function listFamilies(sql: Sql): Promise<string[]> {
  return (await sql<{ board: string }[]>`SELECT board FROM boards WHERE board !~ ${WINDOW_BOARD_RE} ORDER BY board`).map((r) => r.board);
}

/** All-time boards, and window boards of the periods `suffixes` name (see rank-index/served-boards.ts). */
export async function listBoardsOrEndingIn(sql: Sql, suffixes: readonly string[]): Promise<string[]> {
  return (
    await sql<{ board: string }[]>`
      SELECT board FROM boards
      WHERE board !~ ${WINDOW_BOARD_RE} OR board LIKE ANY (${suffixes.map((s) => '%' + s)}::text[])
      ORDER BY board`
  ).map((r) => r.board);
}

/** Those of `userIds` that have a row on `board`. */
export async function usersOnBoard(sql: Sql, board: string, userIds: readonly number[]): Promise<Set<number>> {
  if (userIds.length === 0) return new Set();
  const rows = await sql<{ user_id: number }[]>`
    SELECT l.user_id FROM ${rowsOf(sql, board)} l WHERE l.user_id = ANY(${sql.array(userIds as number[], 20)})`;
  return new Set(rows.map((r) => Number(r.user_id)));
}

/** Matches the ids of window boards as stored (`<family>:<window>:<period>`). */
const WINDOW_BOARD_RE = ':(daily|weekly|monthly):';

/** A board row as the index stores it: the name's version is the user's global games_played. */
export interface IndexRow extends Row {
  name_version: number;
}

/** A row for the index without the user's name (`withNames: false`). */
export type IndexRowOf<N extends boolean> = N extends true ? IndexRow : Omit<IndexRow, 'username' | 'name_version'>;

/**
 * Streams a board's rows in chunks from one consistent snapshot (for rebuilding the index); resolves
 * once `onChunk` has finished with every chunk. No chunk is passed for a board without rows.
 * Without names (a rebuild that need not write them), a board's rows are read alone: no join
 * with `users`, nor with `global` for the name's version.
 */
export async function streamBoard<N extends boolean = true>(
  sql: Sql,
  board: string,
  chunkSize: number,
  onChunk: (rows: IndexRowOf<N>[]) => Promise<void>,
  /** Runs first in the same snapshot (a rebuild reads the pending rows its copy will include). */
  inSnapshot?: (tx: Tx) => Promise<void>,
  withNames: N = true as N,
): Promise<number> {
  let count = 0;
  await sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
    if (inSnapshot) await inSnapshot(tx);
    // The whole result is read: planned for it (one sort), not for its first rows (for a cursor,
    // by default: the rank index's order with a random heap read per row, about 3x as long for 1M rows).
    await tx`SET LOCAL cursor_tuple_fraction = 1`;
    // In listing order: Redis inserts each member next to the one before it, where the sorted
    // set's nodes are still in the cache (a million members in random order took 1.6x as long).
    const inListingOrder = tx`ORDER BY l.total_score DESC, l.user_id`;
    // On the global board a row's own games_played is the name version: no self-join.
    const query = !withNames
      ? tx<IndexRowOf<N>[]>`
            SELECT l.user_id, l.total_score, l.games_played FROM ${rowsOf(tx, board)} l
            ${inListingOrder}`
      : board === 'global'
        ? tx<IndexRowOf<N>[]>`
            SELECT l.user_id, u.username, l.total_score, l.games_played, l.games_played AS name_version
            FROM leaderboard l JOIN users u USING (user_id)
            WHERE l.board = 'global'
            ${inListingOrder}`
        : tx<IndexRowOf<N>[]>`
            SELECT l.user_id, u.username, l.total_score, l.games_played, g.games_played AS name_version
            FROM ${rowsOf(tx, board)} l
            JOIN users u USING (user_id)
            JOIN leaderboard g ON g.board = 'global' AND g.user_id = l.user_id
            ${inListingOrder}`;
    // postgres.js awaits the callback for every chunk but the last, which it calls as the query
    // completes and leaves running: it is awaited here (and its failure surfaced, not dropped).
    let last: Promise<void> = Promise.resolve();
    await query.cursor(chunkSize, (rows) => {
      count += rows.length;
      last = onChunk(rows);
      last.catch(() => undefined); // awaited below; until then not an unhandled rejection
      return last;
    });
    await last;
  });
  return count;
}
