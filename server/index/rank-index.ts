/**
 * The Redis rank index: version-checked updates from PostgreSQL commits and the reads that serve
 * `top`, `around`, `rank`, `ranks` and `page`. A read answers UNTRUSTED when the board's index is not to be trusted
 * (flushed, lost, or being replaced); the caller then falls back to PostgreSQL.
 */
import type { RedisClient } from '../store/redis.ts';
import { compareListing, parseBoard, periodEnd, type Entry, type PageCursor } from '../../protocol/index.ts';
import { assignRanks, type Row } from '../ranking.ts';
import { boardKeys, fromMember, parseUserValue, toMember } from './keys.ts';
import * as scripts from './scripts.ts';
import { randomBytes } from 'node:crypto';

export const UNTRUSTED = Symbol('untrusted');
export type Untrusted = typeof UNTRUSTED;

/** One committed change of one user on one board, with the absolute values PostgreSQL returned. */
export interface IndexUpdate {
  board: string;
  userId: number;
  /** The board's total after the commit. Ignored for a name-only update. */
  total: number;
  /** The board's games_played after the commit; -1 for a name-only update. */
  games: number;
  /** The user's global games_played when `name` was set. */
  nameVersion: number;
  name: string;
  /** This commit created the board. */
  newBoard: boolean;
}

export type ApplyOutcome = { applied: false } | { applied: true; rank: number; epoch: string };

export interface RankAnswer {
  entry: Entry;
  totalPlayers: number;
}

interface ScriptCommands {
  lbRange(...args: (string | number)[]): Promise<RangeReply | null>;
  lbAround(...args: (string | number)[]): Promise<RangeReply | [string] | null>;
  lbRank(...args: (string | number)[]): Promise<[string] | [string, number, number, string, string | null] | null>;
  lbRanks(...args: (string | number)[]): Promise<[string, (string | null)[], number[], (string | null)[]] | null>;
  lbPage(...args: (string | number)[]): Promise<RangeReply | null>;
}
type RangeReply = [string, number, number, string[], (string | null)[]];

const LOG_TTL_MS = 120_000;

/** How long a window board's index outlives its period: late commits of the period still land. */
export const WINDOW_INDEX_GRACE_MS = 10 * 60_000;

/** When a window board's index keys expire (ms since the epoch); undefined for all-time boards. */
export function indexExpiry(board: string): number | undefined {
  const b = parseBoard(board);
  if (!b?.window || !b.period) return undefined;
  return periodEnd(b.window, b.period) + WINDOW_INDEX_GRACE_MS;
}

export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}

export function defineIndexScripts(redis: RedisClient): void {
  // Fixed key counts: on a cluster, auto-pipelining routes a script call by its first argument.
  redis.defineCommand('lbApply', { numberOfKeys: 6, lua: scripts.APPLY_UPDATES });
  redis.defineCommand('lbRange', { numberOfKeys: 3, lua: scripts.READ_RANGE });
  redis.defineCommand('lbAround', { numberOfKeys: 3, lua: scripts.READ_AROUND });
  redis.defineCommand('lbRank', { numberOfKeys: 3, lua: scripts.READ_RANK });
  redis.defineCommand('lbRanks', { numberOfKeys: 3, lua: scripts.READ_RANKS });
  redis.defineCommand('lbPage', { numberOfKeys: 3, lua: scripts.READ_PAGE });
  redis.defineCommand('lbRebuildBegin', { numberOfKeys: 2, lua: scripts.REBUILD_BEGIN });
  redis.defineCommand('lbRebuildSwap', { numberOfKeys: 9, lua: scripts.REBUILD_SWAP });
  redis.defineCommand('lbInvalidate', { numberOfKeys: 2, lua: scripts.INVALIDATE });
  redis.defineCommand('lbRebuildExtend', { numberOfKeys: 4, lua: scripts.REBUILD_EXTEND });
  redis.defineCommand('lbUnlock', { numberOfKeys: 1, lua: scripts.UNLOCK });
}

export class RankIndex {
  private readonly cmd: ScriptCommands;

  constructor(
    readonly redis: RedisClient,
    readonly prefix: string,
  ) {
    defineIndexScripts(redis);
    this.cmd = redis as unknown as ScriptCommands;
  }

  keys(board: string) {
    return boardKeys(this.prefix, board);
  }

  /** True while the connection is up; when it is not, callers skip straight to PostgreSQL. */
  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  /**
   * Applies updates in one pipelined round trip, one script call per board (updates of a board
   * keep their order); one outcome per update, in the order given.
   */
  async apply(updates: readonly IndexUpdate[]): Promise<ApplyOutcome[]> {
    const byBoard = new Map<string, number[]>();
    updates.forEach((u, i) => {
      const list = byBoard.get(u.board);
      if (list) list.push(i);
      else byBoard.set(u.board, [i]);
    });
    // One script call per board, issued together: auto-pipelined into one write per node (a
    // cluster holds boards in different slots, so they cannot share one pipeline).
    const apply = this.redis as unknown as { lbApply(...a: (string | number)[]): Promise<[0] | [1, string, ...number[]]> };
    const boards = [...byBoard.entries()];
    const replies = boards.map(([board, idx]) => {
      const k = this.keys(board);
      const isNew = idx.some((i) => updates[i]!.newBoard);
      const args: (string | number)[] = [isNew ? newEpoch() : '', isNew ? '1' : '0', LOG_TTL_MS, indexExpiry(board) ?? ''];
      for (const i of idx) {
        const u = updates[i]!;
        args.push(toMember(u.userId), u.games < 0 ? '0' : String(-u.total), u.games, u.nameVersion, u.name);
      }
      return apply.lbApply(k.epoch, k.z, k.h, k.rebuilding, k.log, k.channel, ...args);
    });
    const results = await Promise.all(replies);
    const out: ApplyOutcome[] = new Array(updates.length);
    boards.forEach(([, idx], b) => {
      const r = results[b]!;
      idx.forEach((i, k) => (out[i] = r[0] === 1 ? { applied: true, rank: r[2 + k] as number, epoch: r[1] } : { applied: false }));
    });
    return out;
  }

  /** The top `limit` rows, with the index generation they were read from. */
  async top(board: string, limit: number): Promise<{ entries: Entry[]; epoch: string } | Untrusted> {
    const k = this.keys(board);
    const reply = await this.cmd.lbRange(k.epoch, k.z, k.h, 0, limit - 1);
    if (reply === null) return UNTRUSTED;
    const entries = toEntries(reply);
    return entries === UNTRUSTED ? UNTRUSTED : { entries, epoch: reply[0] };
  }

  /** Entries around the user, `undefined` when the user is not on the board. */
  async around(board: string, userId: number, radius: number): Promise<Entry[] | undefined | Untrusted> {
    const k = this.keys(board);
    const reply = await this.cmd.lbAround(k.epoch, k.z, k.h, toMember(userId), radius);
    if (reply === null) return UNTRUSTED;
    if (reply.length === 1) return undefined;
    return toEntries(reply as RangeReply);
  }

  async rank(board: string, userId: number): Promise<RankAnswer | undefined | Untrusted> {
    const k = this.keys(board);
    const reply = await this.cmd.lbRank(k.epoch, k.z, k.h, toMember(userId));
    if (reply === null) return UNTRUSTED;
    if (reply.length === 1) return undefined;
    const [, rank, totalPlayers, negScore, value] = reply;
    if (value === null) return UNTRUSTED; // a score without its row: treat the board as damaged
    const v = parseUserValue(value);
    return {
      entry: { rank, user_id: userId, username: v.name, total_score: 0 - Number(negScore), games_played: v.games },
      totalPlayers,
    };
  }

  /** The entries of those of `userIds` on the board, in listing order (one script call). */
  async ranks(board: string, userIds: readonly number[]): Promise<Entry[] | Untrusted> {
    const k = this.keys(board);
    const reply = await this.cmd.lbRanks(k.epoch, k.z, k.h, ...userIds.map(toMember));
    if (reply === null) return UNTRUSTED;
    const [, negScores, ranks, values] = reply;
    const entries: Entry[] = [];
    for (let i = 0; i < userIds.length; i++) {
      const negScore = negScores[i];
      if (negScore == null) continue;
      const value = values[i];
      if (value == null) return UNTRUSTED; // a score without its row: treat the board as damaged
      const v = parseUserValue(value);
      entries.push({ rank: ranks[i]!, user_id: userIds[i]!, username: v.name, total_score: 0 - Number(negScore), games_played: v.games });
    }
    return entries.sort(compareListing);
  }

  /** Up to `count` rows after `after` in listing order (from the top without it), ranked (one script call). */
  async page(board: string, after: PageCursor | undefined, count: number): Promise<Entry[] | Untrusted> {
    const k = this.keys(board);
    const cursor = after ? [String(0 - after.total_score), toMember(after.user_id)] : ['', ''];
    const reply = await this.cmd.lbPage(k.epoch, k.z, k.h, ...cursor, count);
    if (reply === null) return UNTRUSTED;
    return toEntries(reply);
  }
}

function toEntries(reply: RangeReply): Entry[] | Untrusted {
  const [, firstRank, start, flat, values] = reply;
  const rows: Row[] = new Array(flat.length / 2);
  for (let i = 0; i < rows.length; i++) {
    const value = values[i];
    if (value == null) return UNTRUSTED; // a score without its row: treat the board as damaged
    const v = parseUserValue(value);
    rows[i] = { user_id: fromMember(flat[2 * i]!), username: v.name, total_score: 0 - Number(flat[2 * i + 1]), games_played: v.games };
  }
  return assignRanks(rows, firstRank, start);
}

