/**
 * The rank index as it sits in Redis, compared with what PostgreSQL holds, user by user and board
 * by board. Tests use it to prove that the index converged; it reads only keys under the prefix.
 */
import type { RedisClient as Redis } from '../../server/store/redis.ts';
import { percentile, type Entry, type RankReply } from '../../protocol/index.ts';
import { boardKeys, fromMember, namesKeys, parseNameValue, toMember } from '../../server/rank-index/keys.ts';
import { connect, type Sql } from '../../server/store/db.ts';

export interface TruthRow {
  user_id: number;
  username: string;
  total_score: number;
  games_played: number;
  /** The user's games_played on `global` (the upper bound of a name version). */
  global_games: number;
}

export function openSql(databaseUrl: string, poolSize = 3): Sql {
  return connect({ url: databaseUrl, poolSize, connectTimeoutS: 5 });
}

/** Every board PostgreSQL knows, with its rows. */
export async function truth(sql: Sql): Promise<Map<string, TruthRow[]>> {
  const boards = new Map<string, TruthRow[]>();
  for (const { board } of await sql<{ board: string }[]>`SELECT board FROM boards ORDER BY board`) boards.set(board, []);
  const rows = await sql<(TruthRow & { board: string })[]>`
    SELECT l.board, l.user_id, u.username, l.total_score, l.games_played, g.games_played AS global_games
    FROM board_rows l
    JOIN users u USING (user_id)
    JOIN leaderboard g ON g.board = 'global' AND g.user_id = l.user_id
    ORDER BY l.board, l.user_id`;
  for (const { board, ...row } of rows) boards.get(board)!.push(row);
  return boards;
}

/**
 * Differences between the index and PostgreSQL (empty when they agree): every board has an epoch
 * (marked empty, '~', exactly when it has no rows), its sorted set holds exactly PostgreSQL's
 * users with score -total, and its hash holds "<games>" with PostgreSQL's games; the names hash
 * holds "<version>:<name>" for every user on a board, with PostgreSQL's name and, as version, the
 * user's global games_played (every commit writes its name with it).
 */
export async function indexDiff(redis: Redis, sql: Sql, prefix: string, limit = 20): Promise<string[]> {
  const diffs: string[] = [];
  const users = new Map<number, TruthRow>();
  for (const [board, rows] of await truth(sql)) {
    const k = boardKeys(prefix, board);
    const [epoch, zflat, hash] = await Promise.all([redis.get(k.epoch), redis.zrange(k.z, '0', '-1', 'WITHSCORES'), redis.hgetall(k.h)]);
    if (epoch === null) diffs.push(`${board}: no epoch`);
    else if (epoch.endsWith('~') !== (rows.length === 0)) diffs.push(`${board}: epoch ${epoch} with ${rows.length} rows`);
    const z = new Map<string, number>();
    for (let i = 0; i < zflat.length; i += 2) z.set(zflat[i]!, Number(zflat[i + 1]));
    for (const row of rows) {
      users.set(row.user_id, row);
      const member = toMember(row.user_id);
      const where = `${board} user ${row.user_id}`;
      const score = z.get(member);
      if (score !== -row.total_score) diffs.push(`${where}: zset score ${score}, PostgreSQL total ${row.total_score}`);
      const value = hash[member];
      if (value === undefined) diffs.push(`${where}: no hash row`);
      else if (Number(value) !== row.games_played) diffs.push(`${where}: hash games ${value}, PostgreSQL ${row.games_played}`);
    }
    const known = new Set(rows.map((r) => toMember(r.user_id)));
    for (const member of z.keys()) if (!known.has(member)) diffs.push(`${board}: zset has user ${fromMember(member)} that PostgreSQL has not`);
    for (const member of Object.keys(hash)) if (!known.has(member)) diffs.push(`${board}: hash has user ${fromMember(member)} that PostgreSQL has not`);
    if (diffs.length >= limit) return diffs.slice(0, limit);
  }
  const ids = [...users.keys()];
  const names = ids.length > 0 ? await redis.hmget(namesKeys(prefix).names, ...ids.map(toMember)) : [];
  ids.forEach((id, i) => {
    const row = users.get(id)!;
    const value = names[i];
    if (value == null) return void diffs.push(`user ${id}: no name in the index`);
    const v = parseNameValue(value);
    if (v.name !== row.username) diffs.push(`user ${id}: name "${v.name}", PostgreSQL "${row.username}"`);
    if (v.version !== row.global_games) diffs.push(`user ${id}: name version ${v.version}, global games ${row.global_games}`);
  });
  return diffs.slice(0, limit);
}

/** Boards whose epoch key is missing. */
export async function boardsWithoutEpoch(redis: Redis, sql: Sql, prefix: string): Promise<string[]> {
  const boards = [...(await truth(sql)).keys()];
  const exists = await Promise.all(boards.map((b) => redis.exists(boardKeys(prefix, b).epoch)));
  return boards.filter((_, i) => exists[i] === 0);
}

/** Polls until the index agrees with PostgreSQL or `timeoutMs` passes; returns the last differences. */
export async function waitForIndex(redis: Redis, sql: Sql, prefix: string, timeoutMs = 15_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const diffs = await indexDiff(redis, sql, prefix);
    if (diffs.length === 0 || Date.now() > deadline) return diffs;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A board's listing as the contract defines it, from PostgreSQL rows. */
export function listingOf(rows: readonly TruthRow[]): Entry[] {
  return rows
    .map((r) => ({
      rank: 1 + rows.filter((o) => o.total_score > r.total_score).length,
      user_id: r.user_id,
      username: r.username,
      total_score: r.total_score,
      games_played: r.games_played,
    }))
    .sort((x, y) => x.rank - y.rank || x.user_id - y.user_id);
}

/** The `rank` reply the contract requires for a user on a board, from PostgreSQL rows. */
export function rankReplyOf(board: string, rows: readonly TruthRow[], userId: number): RankReply | undefined {
  const e = listingOf(rows).find((x) => x.user_id === userId);
  if (!e) return undefined;
  return { board, ...e, percentile: percentile(e.rank, rows.length), total_players: rows.length };
}
