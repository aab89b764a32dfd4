/**
 * A rebuild that meets a Redis timeout goes on where it was instead of failing and starting again
 * from zero (under load, a rebuild of a million rows restarted after each timeout and never
 * finished). A private Redis is paused for writes (CLIENT PAUSE) in the middle of a rebuild of a
 * 150,000-row board, longer than the client's command timeout: the rebuild retries the chunk
 * writes that timed out, finishes, and the index equals PostgreSQL.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { toMember } from '../server/rank-index/keys.ts';
import { RankIndex } from '../server/rank-index/rank-index.ts';
import { rebuildBoard } from '../server/rank-index/rebuild.ts';
import { connect, type Sql } from '../server/store/db.ts';
import { PrivateRedis, stopAllRedis } from './support/redis-server.ts';
import { freshStores, seededDatabase, type FreshStores } from './support/stores.ts';

const USERS = 150_000;
let stores: FreshStores;
let sql: Sql;
let priv: PrivateRedis;
let redis: Redis;
let admin: Redis;

beforeAll(async () => {
  stores = await freshStores();
  await seededDatabase(stores, { users: USERS, sessions: USERS, modes: ['ranked'] });
  sql = connect({ url: stores.databaseUrl, poolSize: 4, connectTimeoutS: 5 });
  priv = await PrivateRedis.start();
  // The server's settings in miniature: a short command timeout, commands failing fast.
  redis = new Redis(priv.url, { commandTimeout: 250, maxRetriesPerRequest: 1 });
  admin = new Redis(priv.url);
}, 120_000);

afterAll(async () => {
  redis?.disconnect();
  admin?.disconnect();
  await sql?.end({ timeout: 5 });
  await stopAllRedis();
  await stores?.cleanup();
});

it('retries the chunk writes a Redis pause timed out, finishes, and equals PostgreSQL', async () => {
  const index = new RankIndex(redis, 'lbt_resume');
  const k = index.keys('global');
  // Pause writes once the copy is under way (its rebuilding mark is set), for longer than the
  // command timeout several times over.
  let paused = false;
  const pauser = (async () => {
    const until = Date.now() + 30_000;
    while (Date.now() < until && (await admin.exists(k.rebuilding)) === 0) await new Promise((r) => setTimeout(r, 2));
    await new Promise((r) => setTimeout(r, 40));
    await admin.call('CLIENT', 'PAUSE', '1200', 'WRITE');
    paused = true;
  })();
  const result = await rebuildBoard(index, sql, 'global', 'test-resume');
  await pauser;
  expect(paused).toBe(true);
  expect(result).toMatchObject({ status: 'rebuilt', rows: USERS });
  expect(result.status === 'rebuilt' && result.retries).toBeGreaterThan(0);
  expect(await admin.zcard(k.z)).toBe(USERS);
  const rows = await sql<{ user_id: number; total_score: number }[]>`
    SELECT user_id, total_score FROM leaderboard WHERE board = 'global' ORDER BY random() LIMIT 200`;
  // The sorted set holds -total (a zero total is stored as -0): their sum is 0.
  for (const r of rows) expect(Number(await admin.zscore(k.z, toMember(r.user_id))) + r.total_score, `user ${r.user_id}`).toBe(0);
}, 120_000);
