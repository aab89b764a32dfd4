/**
 * Time-window boards across a period boundary, with the servers' clock injected: two instances
 * stand 6 s before 2027-03-01T00:00Z (a Monday and the first of a month, so the day, the ISO week
 * and the month all end at once). Submits before the boundary count in the old periods, those after
 * it in the new ones on either instance; current-period ids resolve to the period of the moment;
 * past periods stay queryable from PostgreSQL; spectators of `global:daily` get the ended day's
 * final standings and then a fresh snapshot of the new day; window keys in Redis expire after
 * their period; a family's write mode holds on its windows.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Connection } from '../client/sdk/connection.ts';
import type { Entry } from '../protocol/index.ts';
import type { RunningApp } from '../server/app.ts';
import { OffsetClock } from '../server/clock.ts';
import { boardKeys } from '../server/rank-index/keys.ts';
import { WINDOW_INDEX_GRACE_MS } from '../server/rank-index/rank-index.ts';
import type { Sql } from '../server/store/db.ts';
import { listingOf, openSql, waitForIndex, type TruthRow } from './support/index-state.ts';
import { connectWs, eventually, startTestApp, token } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

const BOUNDARY = Date.parse('2027-03-01T00:00:00Z');
const OLD = { daily: '2027-02-28', weekly: '2027-W08', monthly: '2027-02' };
const NEW = { daily: '2027-03-01', weekly: '2027-W09', monthly: '2027-03' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let stores: FreshStores;
let dir: string;
const clock = new OffsetClock();
const apps: RunningApp[] = [];
const writers: Connection[] = [];
let spectator: Connection;
const pushed: Record<string, unknown>[] = [];
let sql: Sql;
let redis: Redis;

/** Scores per board, per user, as the reference: the sum everywhere but on `mode:speed` (best). */
const model = new Map<string, Map<number, { total: number; games: number }>>();
function expectCount(board: string, user: number, score: number) {
  const rows = model.get(board) ?? new Map<number, { total: number; games: number }>();
  model.set(board, rows);
  const prev = rows.get(user);
  const best = board.startsWith('mode:speed');
  rows.set(user, { total: prev ? (best ? Math.max(prev.total, score) : prev.total + score) : score, games: (prev?.games ?? 0) + 1 });
}
function modelListing(board: string): Entry[] {
  const rows = [...(model.get(board) ?? new Map()).entries()].map(([user_id, r]) => ({ user_id, username: `player${user_id}`, total_score: r.total, games_played: r.games }));
  return listingOf(rows as TruthRow[]);
}
async function submit(via: Connection, user_id: number, score: number, game_mode: string, periods: typeof OLD) {
  await via.request('submit', { user_id, score, game_mode });
  for (const family of ['global', `mode:${game_mode}`]) {
    expectCount(family, user_id, score);
    for (const [w, p] of Object.entries(periods)) expectCount(`${family}:${w}:${p}`, user_id, score);
  }
}

beforeAll(async () => {
  stores = await freshStores();
  dir = await mkdtemp(join(tmpdir(), 'lb-windows-'));
  const cfg = join(dir, 'boards.json');
  await writeFile(cfg, JSON.stringify({ boards: [{ board: 'mode:speed', write_mode: 'best' }] }));
  clock.offsetMs = BOUNDARY - 6000 - Date.now();
  for (let i = 0; i < 2; i++) {
    const app = await startTestApp(stores, { BOARDS_CONFIG: cfg, DIFF_TICK_MS: '20' }, clock);
    apps.push(app);
    writers.push(await connectWs(app.port, token('server')));
  }
  spectator = await connectWs(apps[1]!.port);
  spectator.onPush = (f) => pushed.push(f);
  sql = openSql(stores.databaseUrl);
  redis = new Redis(stores.redisUrl);
});

afterAll(async () => {
  spectator?.close();
  for (const w of writers) w.close();
  for (const a of apps) await a.close();
  await sql?.end({ timeout: 5 });
  redis?.disconnect();
  await stores?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('counts each submit in the periods it was taken in, and rolls every window over at the boundary on every instance', async () => {
  // Before the boundary, on both instances.
  for (const [i, [user, score, mode]] of ([[1, 50, 'ranked'], [2, 70, 'ranked'], [3, 20, 'speed'], [3, 90, 'speed'], [3, 40, 'speed'], [4, 10, 'casual']] as const).entries()) {
    await submit(writers[i % 2]!, user, score, mode, OLD);
  }
  const sub = (await spectator.request('subscribe', { board: 'global:daily', limit: 10 })) as { period: string; entries: Entry[] };
  expect(sub.period).toBe(`global:daily:${OLD.daily}`);
  expect(sub.entries).toEqual(modelListing(`global:daily:${OLD.daily}`));
  const top = (await writers[0]!.request('top', { board: 'global:daily', limit: 10 })) as { board: string; entries: Entry[] };
  expect(top.board, 'a current-period id resolves to its period').toBe(`global:daily:${OLD.daily}`);
  expect(top.entries).toEqual(modelListing(`global:daily:${OLD.daily}`));

  // The last submit of the old day, just before midnight.
  // (1.5 s of margin: a loaded machine may take that long to hand the submit to its batch.)
  while (clock.now() < BOUNDARY - 1500) await sleep(20);
  await submit(writers[1]!, 5, 100, 'ranked', OLD);
  while (clock.now() < BOUNDARY + 20) await sleep(20);
  // After midnight, on both instances: the new day, week and month only.
  await submit(writers[0]!, 1, 5, 'ranked', NEW);
  await submit(writers[1]!, 6, 8, 'speed', NEW);
  await submit(writers[1]!, 6, 3, 'speed', NEW);
  const nowTop = (await writers[1]!.request('top', { board: 'global:daily', limit: 10 })) as { board: string; entries: Entry[] };
  expect(nowTop.board).toBe(`global:daily:${NEW.daily}`);
  expect(nowTop.entries).toEqual(modelListing(`global:daily:${NEW.daily}`));

  // PostgreSQL holds every window board exactly as the model does.
  const rows = await sql<TruthRow[] & { board: string }[]>`
    SELECT l.board, l.user_id, u.username, l.total_score, l.games_played FROM board_rows l JOIN users u USING (user_id) ORDER BY l.board, l.user_id`;
  const stored = new Map<string, TruthRow[]>();
  for (const r of rows as unknown as (TruthRow & { board: string })[]) stored.set(r.board, [...(stored.get(r.board) ?? []), r]);
  expect([...stored.keys()].sort()).toEqual([...model.keys()].sort());
  for (const board of model.keys()) expect(listingOf(stored.get(board)!), board).toEqual(modelListing(board));
  // ... and the index of every current board agrees with it.
  expect(await waitForIndex(redis, sql, stores.redisPrefix)).toEqual([]);
});

it('sends spectators of the current day the final standings of the day that ended, then the new day', async () => {
  await eventually('two snapshots after the rollover', async () => pushed.filter((f) => f.op === 'snapshot').length >= 2, 10_000);
  const snaps = pushed.filter((f) => f.op === 'snapshot') as { board: string; period: string; final?: boolean; entries: Entry[]; epoch: string }[];
  expect(snaps[0]).toMatchObject({ board: 'global:daily', period: `global:daily:${OLD.daily}`, final: true });
  expect(snaps[0]!.entries, 'final standings include the last submit before midnight').toEqual(modelListing(`global:daily:${OLD.daily}`));
  expect(snaps[1]).toMatchObject({ board: 'global:daily', period: `global:daily:${NEW.daily}` });
  expect(snaps[1]!.final).toBeUndefined();
  expect(snaps[1]!.epoch).not.toBe(snaps[0]!.epoch);
  // Diffs after the rollover continue the new day's snapshot.
  await submit(writers[0]!, 7, 500, 'casual', NEW);
  await eventually('the new day diff arrives', async () => pushed.some((f) => f.op === 'diff' && f.epoch === snaps[1]!.epoch), 5000);
  const last = pushed.filter((f) => f.op === 'diff' && f.epoch === snaps[1]!.epoch).at(-1) as { entries: Entry[] };
  expect(last.entries.some((e) => e.user_id === 7 && e.total_score === 500)).toBe(true);
});

it('answers top, rank and around on past periods from PostgreSQL, exactly', async () => {
  for (const board of [`global:daily:${OLD.daily}`, `mode:ranked:weekly:${OLD.weekly}`, `mode:speed:monthly:${OLD.monthly}`]) {
    const want = modelListing(board);
    const top = (await writers[0]!.request('top', { board, limit: 10 })) as { board: string; entries: Entry[] };
    expect(top).toEqual({ board, entries: want });
    const e = want[want.length - 1]!;
    const rank = (await writers[1]!.request('rank', { board, user_id: e.user_id })) as { rank: number; total_score: number; board: string };
    expect({ board: rank.board, rank: rank.rank, total: rank.total_score }).toEqual({ board, rank: e.rank, total: e.total_score });
    const around = (await writers[0]!.request('around', { board, user_id: e.user_id, radius: 1 })) as { entries: Entry[] };
    expect(around.entries).toEqual(want.slice(Math.max(0, want.length - 2)));
  }
  // `mode:speed` keeps the best score on its windows too: 90, not 150.
  expect(modelListing(`mode:speed:daily:${OLD.daily}`)[0]!.total_score).toBe(90);
  const metrics = await (await fetch(`http://127.0.0.1:${apps[0]!.port}/metrics`)).text();
  expect(metrics).toMatch(/leaderboard_index_reads_total\{source="postgres"\} [1-9]/);
});

it('lets the Redis keys of ended periods expire after their period, and keeps the all-time ones', async () => {
  for (const board of [`global:daily:${OLD.daily}`, `global:weekly:${OLD.weekly}`, `global:monthly:${OLD.monthly}`, `global:daily:${NEW.daily}`]) {
    const b = boardKeys(stores.redisPrefix, board);
    const ttl = await redis.pttl(b.z);
    expect(ttl, `${board} has a TTL`).toBeGreaterThan(0);
  }
  const expireAt = Date.now() + (await redis.pttl(boardKeys(stores.redisPrefix, `global:daily:${OLD.daily}`).z));
  expect(Math.abs(expireAt - (BOUNDARY + WINDOW_INDEX_GRACE_MS))).toBeLessThan(5000);
  expect(await redis.pttl(boardKeys(stores.redisPrefix, 'global').z)).toBe(-1);
  // A rebuilt window board gets its expiry back with its new generation.
  const today = boardKeys(stores.redisPrefix, `global:daily:${NEW.daily}`);
  await redis.del(today.epoch);
  await eventually('the current day is rebuilt', async () => (await redis.exists(today.epoch)) === 1, 15_000);
  for (const key of [today.epoch, today.z, today.h]) {
    const at = Date.now() + (await redis.pttl(key));
    expect(Math.abs(at - (BOUNDARY + 86_400_000 + WINDOW_INDEX_GRACE_MS)), key).toBeLessThan(5000);
  }
  expect(await redis.pttl(boardKeys(stores.redisPrefix, 'global').epoch)).toBe(-1);
});
