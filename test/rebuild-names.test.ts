/**
 * Which rebuilds write names: `global`'s writes every user's into a copy of the names hash (plain
 * writes; names written live meanwhile are logged and replayed, version-checked, at its swap) and
 * marks it filled; another board's then reads its rows without names (no join in PostgreSQL, no
 * name per row in Redis) and still reads with every name; while the hash is not filled, or
 * `global` is not trusted, a board's rebuild writes its users' names itself.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NAMES_FILLED, namesKeys, toMember } from '../server/rank-index/keys.ts';
import { RankIndex } from '../server/rank-index/rank-index.ts';
import { rebuildBoard } from '../server/rank-index/rebuild.ts';
import { connect, type Sql } from '../server/store/db.ts';
import { REDIS_URL, deleteKeys, freshStores, seededDatabase, type FreshStores } from './support/stores.ts';

const USERS = 3_000;
let stores: FreshStores;
let sql: Sql;
let redis: Redis;
const prefixes: string[] = [];

beforeAll(async () => {
  stores = await freshStores();
  await seededDatabase(stores, { users: USERS, sessions: USERS * 2, modes: ['ranked', 'casual'] });
  sql = connect({ url: stores.databaseUrl, poolSize: 4, connectTimeoutS: 5 });
  redis = new Redis(REDIS_URL);
}, 120_000);

afterAll(async () => {
  redis?.disconnect();
  await sql?.end({ timeout: 5 });
  for (const p of prefixes) await deleteKeys(REDIS_URL, p);
  await stores?.cleanup();
});

function freshIndex(): { index: RankIndex; names: string; prefix: string } {
  const prefix = `lbt_${randomBytes(5).toString('hex')}`;
  prefixes.push(prefix);
  return { index: new RankIndex(redis, prefix), names: namesKeys(prefix).names, prefix };
}

/** Every entry of the board from PostgreSQL, by user, with its name. */
async function fromPostgres(board: string): Promise<Map<number, string>> {
  const rows = await sql<{ user_id: number; username: string }[]>`
    SELECT l.user_id, u.username FROM leaderboard l JOIN users u USING (user_id) WHERE l.board = ${board}`;
  return new Map(rows.map((r) => [Number(r.user_id), r.username]));
}

async function expectNamed(index: RankIndex, board: string): Promise<void> {
  const want = await fromPostgres(board);
  const top = await index.top(board, want.size + 10);
  if (typeof top === 'symbol') throw new Error(`${board} is not trusted`);
  expect(top.entries.length).toBe(want.size);
  for (const e of top.entries) expect(e.username).toBe(want.get(e.user_id));
}

it('fills the names from global, then rebuilds a mode board without writing names and reads every name', async () => {
  const { index, names } = freshIndex();
  expect((await rebuildBoard(index, sql, 'global')).status).toBe('rebuilt');
  expect(await index.namesFilled()).toBe(true);
  const filled = await redis.hlen(names);
  // A name changed by hand in the hash stays as it is: the mode board's rebuild writes none.
  const someone = [...(await fromPostgres('mode:ranked')).keys()][0]!;
  const member = String(someone).padStart(16, '0');
  const held = (await redis.hget(names, member))!;
  await redis.hset(names, member, held.replace(/:.*/, ':renamed-by-hand'));
  expect((await rebuildBoard(index, sql, 'mode:ranked')).status).toBe('rebuilt');
  expect(await redis.hlen(names)).toBe(filled);
  expect((await redis.hget(names, member))!.endsWith(':renamed-by-hand')).toBe(true);
  await redis.hset(names, member, held);
  await expectNamed(index, 'mode:ranked');
});

it('writes a board’s names itself while the names hash is not filled', async () => {
  const { index, names } = freshIndex();
  expect(await index.namesFilled()).toBe(false);
  expect((await rebuildBoard(index, sql, 'mode:casual')).status).toBe('rebuilt');
  expect(await redis.hlen(names)).toBe((await fromPostgres('mode:casual')).size);
  await expectNamed(index, 'mode:casual');
});

it('writes a board’s names itself while global is not trusted, even with the hash filled', async () => {
  const { index, names } = freshIndex();
  expect((await rebuildBoard(index, sql, 'global')).status).toBe('rebuilt');
  await index.invalidate('global');
  await redis.del(names);
  await redis.hset(names, NAMES_FILLED, 'x'); // the marker alone: a hash "filled" but emptied
  expect(await index.namesFilled()).toBe(true);
  expect((await rebuildBoard(index, sql, 'mode:ranked')).status).toBe('rebuilt');
  await expectNamed(index, 'mode:ranked');
});

it('a rebuild of global swaps in a names copy: stale names replaced, the copy and its log gone, the hash filled', async () => {
  const { index, names, prefix } = freshIndex();
  const k = namesKeys(prefix);
  const want = await fromPostgres('global');
  const someone = toMember([...want.keys()][0]!);
  await redis.hset(names, someone, '999999:left-behind'); // a name no commit wrote, at a version none reaches
  expect((await rebuildBoard(index, sql, 'global')).status).toBe('rebuilt');
  expect(await redis.hget(names, someone)).toMatch(new RegExp(`:${want.get(Number(someone))}$`));
  expect(await redis.hlen(names)).toBe(want.size + 1); // every user, and the filled mark
  expect(await index.namesFilled()).toBe(true);
  expect(await redis.exists(k.log, k.rebuilding)).toBe(0);
  expect(await redis.keys(`${names}~*`)).toEqual([]);
  await expectNamed(index, 'global');
});

it('names written live while the copy fills are in it once swapped, version-checked; a later rebuild’s copy makes an earlier one’s swap fail', async () => {
  const { index, names } = freshIndex();
  const bulk = index.bulk;
  const users = [...(await fromPostgres('global')).keys()].slice(0, 3);
  const [renamed, stale, untouched] = users as [number, number, number];
  const snapshot = users.map((u) => ({ user_id: u, total_score: 10, games_played: 5, username: `snap${u}`, name_version: 5 }));
  await bulk.beginNamesCopy('r1', 15_000);
  await bulk.beginCopy('global', 15_000);
  await bulk.lock('global', 'r1', 15_000);
  expect(await bulk.writeCopy('global', 'r1', 'test', snapshot, 15_000, 'copy')).toBe(true);
  // Live commits during the fill: a rename newer than the snapshot, and a name older than it.
  await index.apply([], [
    { userId: renamed, version: 6, name: 'renamed-live' },
    { userId: stale, version: 4, name: 'older-than-copy' },
  ]);
  expect(await redis.hget(names, toMember(renamed))).toBe('6:renamed-live'); // served live meanwhile
  expect(await bulk.swapNamesCopy('r1', 'gen1')).toBe(true);
  expect(await redis.hget(names, toMember(renamed))).toBe('6:renamed-live');
  expect(await redis.hget(names, toMember(stale))).toBe(`5:snap${stale}`);
  expect(await redis.hget(names, toMember(untouched))).toBe(`5:snap${untouched}`);
  expect(await redis.hget(names, NAMES_FILLED)).toBe('gen1');
  expect(await redis.ttl(names)).toBe(-1);

  // Two rebuilds' copies (the first one's lock lost meanwhile): only the one begun last swaps.
  await bulk.unlock('global', 'r1');
  await bulk.beginNamesCopy('r2', 15_000);
  await bulk.beginNamesCopy('r3', 15_000);
  expect(await bulk.lock('global', 'r2', 15_000)).toBe(true);
  expect(await bulk.writeCopy('global', 'r2', 'test', snapshot, 15_000, 'copy')).toBe(false);
  expect(await bulk.swapNamesCopy('r2', 'gen2')).toBe(false);
  expect(await redis.hget(names, NAMES_FILLED)).toBe('gen1');
  expect(await bulk.swapNamesCopy('r3', 'gen3')).toBe(true);
});
