/**
 * The rank index's Lua scripts as client commands: each script's name, key count and TypeScript
 * signature (arguments and reply) in one place, registered with `defineScripts` (store/redis.ts),
 * so code can call only scripts that were defined, with the arguments and the reply they have. The
 * submit guard's scripts (limits/submit-guard.ts) use the same mechanism.
 */
import type { ChainableCommander, ClientContext, Result } from 'ioredis';
import { defineScripts, isCluster, type RedisClient } from '../store/redis.ts';
import * as lua from './scripts.ts';

type Names = (string | null)[];
/** epoch, first rank, start, flat member/score, games values, names (null when read separately). */
export type RowsReply = [string, number, number, string[], (string | null)[], Names | null];
/** {0}: the board's index is not trusted (nothing applied); else its epoch, then the ranks asked for. */
export type ApplyReply = [0] | [1, string, ...number[]];
/** epoch, totals, ranks, games, names (null when read separately), total players: one each per member asked. */
export type RanksReply = [string, (number | null)[], number[], (number | null)[], Names | null, number];

/** A read script's keys: the board's, and the names hash where the script reads it (not on a cluster). */
export type ReadKeys = [epoch: string, z: string, h: string] | [epoch: string, z: string, h: string, names: string];

/** The rank index's scripts (scripts.ts says what each does); `C` is a client's or a pipeline's. */
export interface IndexScripts<C extends ClientContext = { type: 'default' }> {
  /** `updates`: member, negscore, games per update. */
  lbApply(
    epoch: string,
    z: string,
    h: string,
    rebuilding: string,
    log: string,
    channel: string,
    freshEpoch: string,
    isNewBoard: '1' | '0',
    logTtlMs: number,
    expireAt: number | '',
    ranksWanted: '1' | '0',
    ...updates: (string | number)[]
  ): Result<ApplyReply, C>;
  /** `users`: member, version, name per user. Answers the members renamed. */
  lbSetNames(names: string, channel: string, log: string, rebuilding: string, ...users: (string | number)[]): Result<string[], C>;
  lbNamesBegin(log: string, rebuilding: string, token: string, ttlMs: number): Result<number, C>;
  /** Answers 1 while the names copy is the rebuild's, else 0. */
  lbNamesExtend(rebuilding: string, copy: string, log: string, token: string, ttlMs: number): Result<0 | 1, C>;
  /** Answers 1 once swapped in, 0 when the copy is no longer the rebuild's. */
  lbNamesSwap(names: string, copy: string, log: string, rebuilding: string, token: string, filledBy: string): Result<0 | 1, C>;
  lbTrusted(epoch: string, z: string, h: string): Result<0 | 1, C>;
  lbRange(...args: [...ReadKeys, start: number, stop: number]): Result<RowsReply | null, C>;
  lbAround(...args: [...ReadKeys, member: string, radius: number]): Result<RowsReply | [string] | null, C>;
  lbRanks(...args: [...ReadKeys, ...members: string[]]): Result<RanksReply | null, C>;
  /** The cursor's negscore and member are '' and '' for the top. */
  lbPage(...args: [...ReadKeys, negScore: string, member: string, count: number]): Result<RowsReply | null, C>;
  lbRebuildBegin(log: string, rebuilding: string, ttlMs: number): Result<number, C>;
  /** Answers the fresh epoch, or null when the rebuild lost its mark or its lock. */
  lbRebuildSwap(
    epoch: string,
    z: string,
    h: string,
    tz: string,
    th: string,
    log: string,
    rebuilding: string,
    lock: string,
    channel: string,
    freshEpoch: string,
    token: string,
    expireAt: string,
  ): Result<string | null, C>;
  lbInvalidate(epoch: string, channel: string): Result<number, C>;
  /** Answers 1 while the lock is the caller's, else 0. */
  lbRebuildExtend(lock: string, rebuilding: string, tz: string, th: string, token: string, ttlMs: number): Result<0 | 1, C>;
  lbUnlock(lock: string, token: string): Result<number, C>;
}

export type IndexClient = RedisClient & IndexScripts;
export type IndexPipeline = ChainableCommander & IndexScripts<{ type: 'pipeline' }>;

/** `readKeys`: 4 when the read scripts also read the names hash (a single Redis), 3 on a cluster. */
export function defineIndexScripts(redis: RedisClient, readKeys: 3 | 4 = isCluster(redis) ? 3 : 4): IndexClient {
  // Fixed key counts: on a cluster, auto-pipelining routes a script call by its first argument.
  return defineScripts<IndexScripts>(redis, {
    lbApply: { numberOfKeys: 6, lua: lua.APPLY_UPDATES },
    lbSetNames: { numberOfKeys: 4, lua: lua.SET_NAMES },
    lbNamesBegin: { numberOfKeys: 2, lua: lua.NAMES_BEGIN },
    lbNamesExtend: { numberOfKeys: 3, lua: lua.NAMES_EXTEND },
    lbNamesSwap: { numberOfKeys: 4, lua: lua.NAMES_SWAP },
    lbTrusted: { numberOfKeys: 3, lua: lua.IS_TRUSTED },
    lbRange: { numberOfKeys: readKeys, lua: lua.READ_RANGE },
    lbAround: { numberOfKeys: readKeys, lua: lua.READ_AROUND },
    lbRanks: { numberOfKeys: readKeys, lua: lua.READ_RANKS },
    lbPage: { numberOfKeys: readKeys, lua: lua.READ_PAGE },
    lbRebuildBegin: { numberOfKeys: 2, lua: lua.REBUILD_BEGIN },
    lbRebuildSwap: { numberOfKeys: 9, lua: lua.REBUILD_SWAP },
    lbInvalidate: { numberOfKeys: 2, lua: lua.INVALIDATE },
    lbRebuildExtend: { numberOfKeys: 4, lua: lua.REBUILD_EXTEND },
    lbUnlock: { numberOfKeys: 1, lua: lua.UNLOCK },
  });
}

/** A pipeline of a client with the index's scripts: ioredis gives it the client's commands. */
export function indexPipeline(redis: IndexClient): IndexPipeline {
  return redis.pipeline() as IndexPipeline;
}
