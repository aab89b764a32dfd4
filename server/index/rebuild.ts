/**
 * Rebuilding one board's rank index from PostgreSQL without blocking reads or losing live writes:
 * fill a copy from one snapshot while live writers log their updates, then in one script replay
 * the log onto the copy (version-checked), swap it in and give the board a fresh epoch. The
 * board's users' names are written to the names hash on the way (version-checked in place: live
 * renames may land before or after), so a rebuilt board never lacks a name.
 */
import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../store/redis.ts';
import type { Sql } from '../store/db.ts';
import { clearPending, pendingFor } from '../store/pending.ts';
import { boardExists, boardSize, streamBoard, type IndexRow } from '../store/scores.ts';
import { NO_PROGRESS, type Progress, type ProgressOutput } from '../progress.ts';
import { GLOBAL_BOARD } from '../../protocol/index.ts';
import { NAMES_FILLED, instanceAliveKey, toMember } from './keys.ts';
import { indexExpiry, newEpoch, type RankIndex } from './rank-index.ts';

const CHUNK_ROWS = 10_000;
/**
 * A chunk's write that meets a Redis timeout or a dropped connection is tried again (the writes
 * are idempotent: the same members and scores, names version-checked) rather than failing the
 * rebuild, which would start again from zero. Backoff 200 ms, doubling: about 6 s in all, well
 * inside the lock's life (TTL_MS), which every successful write extends.
 */
const WRITE_ATTEMPTS = 6;
const WRITE_BACKOFF_MS = 200;
const WRITES_IN_FLIGHT = 4;
/** Lock and rebuilding-mark lifetime, extended with every chunk: a dead holder's lock goes in this long. */
const TTL_MS = 15_000;

interface RebuildCommands {
  lbRebuildBegin(log: string, rebuilding: string, ttl: number): Promise<number>;
  lbRebuildSwap(...args: string[]): Promise<string | null>;
  lbSetNames(...args: (string | number)[]): Promise<string[]>;
  lbUnlock(lock: string, token: string): Promise<number>;
}

export type RebuildResult =
  /** `retries`: chunk writes tried again after a Redis timeout or a dropped connection. */
  | { status: 'rebuilt'; board: string; rows: number; epoch: string; ms: number; retries: number }
  | { status: 'busy'; board: string }
  | { status: 'unknown'; board: string }
  | { status: 'expired'; board: string };

/**
 * A Redis failure worth trying the same write again for: a timeout, a connection lost or not yet
 * back, a server loading or busy. Error replies (a script's refusal, out of memory) and a lost
 * lock are not.
 */
function isTransient(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.message.includes('lost its lock')) return false;
  if (err.name === 'ReplyError') return /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN)\b/.test(err.message);
  return true;
}

/**
 * Takes the board's rebuild lock. The lock's value starts with its holder's instance id: a lock
 * whose holder's heartbeat is gone (it died mid-rebuild) is taken over at once rather than waited out.
 */
async function acquire(index: RankIndex, lock: string, token: string): Promise<boolean> {
  const redis = index.redis;
  if ((await redis.set(lock, token, 'PX', TTL_MS, 'NX')) === 'OK') return true;
  const holder = await redis.get(lock);
  if (holder === null) return (await redis.set(lock, token, 'PX', TTL_MS, 'NX')) === 'OK';
  const holderInstance = holder.split(':')[0]!;
  if ((await redis.exists(instanceAliveKey(index.prefix, holderInstance))) === 1) return false;
  await (redis as unknown as RebuildCommands).lbUnlock(lock, holder);
  return (await redis.set(lock, token, 'PX', TTL_MS, 'NX')) === 'OK';
}

/**
 * Rebuilds one board; `owner` is the instance id of the caller (its heartbeat vouches for the lock).
 * `progress` shows the rows copied of the board's total (counted only when it is drawn).
 */
export async function rebuildBoard(
  index: RankIndex,
  sql: Sql,
  board: string,
  owner: string = `tool-${randomBytes(4).toString('hex')}`,
  progress: ProgressOutput = NO_PROGRESS,
): Promise<RebuildResult> {
  const redis: RedisClient = index.redis;
  const cmd = redis as unknown as RebuildCommands;
  const k = index.keys(board);
  const token = `${owner}:${randomBytes(8).toString('hex')}`;
  const tz = k.tz(token);
  const th = k.th(token);
  const started = performance.now();
  // A board nobody has scored on gets no index: reads of it answer empty from PostgreSQL, and
  // a client asking for made-up boards cannot make Redis keys.
  if (!(await boardExists(sql, board))) return { status: 'unknown', board };
  // The owner's heartbeat vouches for the lock; a server's heartbeat keeps it too, a tool only has this.
  const alive = instanceAliveKey(index.prefix, owner);
  await redis.set(alive, '1', 'PX', TTL_MS);
  if (!(await acquire(index, k.lock, token))) return { status: 'busy', board };
  let line: Progress | undefined;
  let copied = 0;
  let retries = 0;
  let outcome = 'failed';
  try {
    // Counted outside the copy's snapshot: the total may be off by the writes in between.
    line = progress.start(`rebuild ${board}`, progress.enabled ? await boardSize(sql, board) : undefined, 'rows');
    await cmd.lbRebuildBegin(k.log, k.rebuilding, TTL_MS);
    // Reading the next chunk from PostgreSQL overlaps writing earlier ones to Redis.
    const writing = new Set<Promise<void>>();
    const writeOnce = async (chunk: IndexRow[]) => {
      const zadd: (string | number)[] = [];
      const hset: (string | number)[] = [];
      const names: (string | number)[] = [];
      for (const r of chunk) {
        const member = toMember(r.user_id);
        zadd.push(-r.total_score, member);
        hset.push(member, r.games_played);
        names.push(member, r.name_version, r.username);
      }
      // The board's keys in one pipeline (one slot); the names and the heartbeat, in other
      // slots, beside it.
      const p = redis.pipeline();
      p.zadd(tz, ...zadd);
      p.hset(th, ...hset);
      (p as unknown as { lbRebuildExtend(...a: (string | number)[]): void }).lbRebuildExtend(k.lock, k.rebuilding, tz, th, token, TTL_MS);
      const { names: namesKey, channel } = index.namesKeys;
      const [results] = await Promise.all([p.exec(), cmd.lbSetNames(namesKey, channel, ...names), redis.set(alive, '1', 'PX', TTL_MS)]);
      for (const [err] of results ?? []) if (err) throw err;
      if (results?.[2]?.[1] !== 1) throw new Error(`rebuild of ${board} lost its lock`);
      copied += chunk.length;
      line?.update(copied);
    };
    const write = async (chunk: IndexRow[]) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await writeOnce(chunk);
        } catch (err) {
          if (attempt >= WRITE_ATTEMPTS || !isTransient(err)) throw err;
          retries++;
          await new Promise((r) => setTimeout(r, WRITE_BACKOFF_MS * 2 ** (attempt - 1)));
        }
      }
    };
    let included: { instance: string; token: number }[] = [];
    const rows = await streamBoard(
      sql,
      board,
      CHUNK_ROWS,
      async (chunk) => {
        const w = write(chunk);
        writing.add(w);
        void w.then(
          () => writing.delete(w),
          () => undefined, // awaited below, where the error is thrown
        );
        if (writing.size >= WRITES_IN_FLIGHT) await Promise.race(writing);
      },
      // The commits these pending rows stand for are in this snapshot, so in the copy.
      async (tx) => {
        included = await pendingFor(tx, board);
      },
    );
    await Promise.all(writing);
    const epoch = newEpoch();
    const expiry = String(indexExpiry(board) ?? '');
    const swapped = await cmd.lbRebuildSwap(k.epoch, k.z, k.h, tz, th, k.log, k.rebuilding, k.lock, k.channel, epoch, token, expiry);
    if (swapped === null) {
      outcome = 'expired';
      return { status: 'expired', board };
    }
    outcome = 'done';
    await clearPending(sql, board, included);
    // `global` holds every user: the names hash now has every name (see NAMES_FILLED).
    if (board === GLOBAL_BOARD) await redis.hset(index.namesKeys.names, NAMES_FILLED, epoch);
    return { status: 'rebuilt', board, rows, epoch, ms: performance.now() - started, retries };
  } finally {
    line?.finish(outcome);
    await cmd.lbUnlock(k.lock, token);
  }
}
