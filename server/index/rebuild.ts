/**
 * Rebuilding one board's rank index from PostgreSQL without blocking reads or losing live writes:
 * fill a copy from one snapshot while live writers log their updates, then in one script replay
 * the log onto the copy (version-checked), swap it in and give the board a fresh epoch.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Sql } from '../store/db.ts';
import { boardExists, streamBoard } from '../store/scores.ts';
import { formatUserValue, toMember } from './keys.ts';
import { newEpoch, type RankIndex } from './rank-index.ts';

const CHUNK_ROWS = 5000;
const TTL_MS = 60_000;

interface RebuildCommands {
  lbRebuildBegin(tz: string, th: string, log: string, rebuilding: string, ttl: number): Promise<number>;
  lbRebuildSwap(...args: string[]): Promise<string | null>;
  lbRebuildExtend(lock: string, rebuilding: string, token: string, ttl: number): Promise<number>;
  lbUnlock(lock: string, token: string): Promise<number>;
}

export type RebuildResult =
  | { status: 'rebuilt'; board: string; rows: number; epoch: string; ms: number }
  | { status: 'busy'; board: string }
  | { status: 'unknown'; board: string }
  | { status: 'expired'; board: string };

export async function rebuildBoard(index: RankIndex, sql: Sql, board: string): Promise<RebuildResult> {
  const redis: Redis = index.redis;
  const cmd = redis as unknown as RebuildCommands;
  const k = index.keys(board);
  const token = randomBytes(8).toString('hex');
  const started = performance.now();
  // A board nobody has scored on gets no index: reads of it answer empty from PostgreSQL, and
  // a client asking for made-up boards cannot make Redis keys.
  if (!(await boardExists(sql, board))) return { status: 'unknown', board };
  if ((await redis.set(k.lock, token, 'PX', TTL_MS, 'NX')) !== 'OK') return { status: 'busy', board };
  try {
    await cmd.lbRebuildBegin(k.tz, k.th, k.log, k.rebuilding, TTL_MS);
    const rows = await streamBoard(sql, board, CHUNK_ROWS, async (chunk) => {
      const zadd: (string | number)[] = [];
      const hset: string[] = [];
      for (const r of chunk) {
        const member = toMember(r.user_id);
        zadd.push(-r.total_score, member);
        hset.push(member, formatUserValue(r.games_played, r.name_version, r.username));
      }
      const p = redis.pipeline();
      p.zadd(k.tz, ...zadd);
      p.hset(k.th, ...hset);
      (p as unknown as { lbRebuildExtend(...a: (string | number)[]): void }).lbRebuildExtend(k.lock, k.rebuilding, token, TTL_MS);
      const results = (await p.exec()) ?? [];
      for (const [err] of results) if (err) throw err;
      if (results[2]?.[1] !== 1) throw new Error(`rebuild of ${board} lost its lock`);
    });
    const epoch = newEpoch();
    const swapped = await cmd.lbRebuildSwap(k.epoch, k.z, k.h, k.tz, k.th, k.log, k.rebuilding, epoch);
    if (swapped === null) return { status: 'expired', board };
    return { status: 'rebuilt', board, rows, epoch, ms: performance.now() - started };
  } finally {
    await cmd.lbUnlock(k.lock, token);
  }
}
