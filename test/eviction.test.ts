/**
 * Redis evicting the rank index, on a private redis-server with an evicting maxmemory-policy: the
 * start-up check (refuse or warn; a Redis that will not say is a warning), and boards whose sorted
 * set, hash or names are gone while their epoch stays, deleted by hand and evicted for real under
 * a tiny maxmemory. Reads never answer such a board as empty: they fall back to PostgreSQL, a
 * commit does not rebuild it from one row, and the board is rebuilt.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../client/sdk/connection.ts';
import type { Entry } from '../protocol/index.ts';
import { startApp, type RunningApp } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { evictionVerdict } from '../server/rank-index/eviction.ts';
import { namesKeys } from '../server/rank-index/keys.ts';
import type { Sql } from '../server/store/db.ts';
import { listingOf, openSql, truth, waitForIndex } from './support/index-state.ts';
import { PrivateRedis, stopAllRedis } from './support/redis-server.ts';
import { connectWs, eventually, startTestApp, storeEnv, token } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

let server: PrivateRedis;
let stores: FreshStores;
let app: RunningApp | undefined;
let ws: Connection;
let redis: Redis;
let sql: Sql;
const lines: { level: number; msg: string }[] = [];
/** Nothing but the index's own reads may repair what the tests plant: no periodic check, no view cache. */
const ENV = { INDEX_CHECK_INTERVAL_MS: '3600000', TOP_CACHE: 'off' };

async function reads(): Promise<{ redis: number; postgres: number }> {
  const text = await app!.metrics.registry.getSingleMetricAsString('leaderboard_index_reads_total');
  const of = (source: string) => Number(new RegExp(`source="${source}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  return { redis: of('redis'), postgres: of('postgres') };
}

async function expected(board: string): Promise<Entry[]> {
  return listingOf((await truth(sql)).get(board) ?? []);
}

async function top(board: string): Promise<Entry[]> {
  return (await ws.request('top', { board, limit: 100 })).entries as Entry[];
}

beforeAll(async () => {
  server = await PrivateRedis.start(() => ['--maxmemory-policy', 'allkeys-lru']);
  redis = new Redis(server.url);
  stores = await freshStores(server.url);
  sql = openSql(stores.databaseUrl);
}, 30_000);

afterAll(async () => {
  ws?.close();
  await app?.close();
  redis?.disconnect();
  await sql?.end({ timeout: 5 });
  await stores?.cleanup();
  await stopAllRedis();
});

describe('the start-up check of maxmemory-policy', () => {
  it('refuses to start with REDIS_EVICTION_CHECK=refuse on a policy that evicts', async () => {
    await expect(startTestApp(stores, { ...ENV, REDIS_EVICTION_CHECK: 'refuse' })).rejects.toThrow(/maxmemory-policy allkeys-lru/);
  });

  it('starts with a loud error line otherwise (the default, warn)', async () => {
    const config = loadConfig(storeEnv(stores, ENV));
    const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
    app = await startApp(config, log);
    await app.indexReady;
    expect(lines.find((l) => l.level === 50 && l.msg.startsWith('REDIS MAY EVICT THE RANK INDEX'))?.msg).toContain('allkeys-lru');
    ws = await connectWs(app.port, token('server'));
  });

  it('warns and starts, even with refuse, when Redis will not tell its policy (CONFIG refused)', async () => {
    const hidden = await PrivateRedis.start(() => ['--rename-command', 'CONFIG', '']);
    try {
      const config = loadConfig(storeEnv({ ...stores, redisUrl: hidden.url }, { ...ENV, REDIS_EVICTION_CHECK: 'refuse' }));
      const seen: { level: number; msg: string }[] = [];
      const other = await startApp(config, pino({ level: 'warn' }, { write: (line: string) => void seen.push(JSON.parse(line) as { level: number; msg: string }) }));
      await other.close();
      expect(seen.find((l) => l.level === 40 && l.msg.startsWith('cannot read maxmemory-policy'))).toBeDefined();
    } finally {
      await hidden.stop();
    }
  });

  it('judges every master: any evicting one refuses, unknown ones only warn', () => {
    const ok = { node: 'a:1', policy: 'noeviction', maxmemory: 0 };
    const lru = { node: 'b:2', policy: 'volatile-lru', maxmemory: 1 << 20 };
    const hidden = { node: 'c:3', error: 'unknown command' };
    expect(evictionVerdict([ok, ok], 'refuse')).toEqual({ evicting: [], unknown: [], refuse: false });
    expect(evictionVerdict([ok, lru], 'refuse')).toEqual({ evicting: [lru], unknown: [], refuse: true });
    expect(evictionVerdict([ok, lru], 'warn').refuse).toBe(false);
    expect(evictionVerdict([hidden, ok], 'refuse')).toEqual({ evicting: [], unknown: [hidden], refuse: false });
  });
});

describe('a board whose sets are gone while its epoch stays', () => {
  beforeAll(async () => {
    for (let u = 1; u <= 40; u++) await ws.request('submit', { user_id: u, score: u * 10, game_mode: u % 2 ? 'odd' : 'even', username: `name-${u}` });
  });

  it('is read from PostgreSQL, not answered empty, and rebuilt', async () => {
    const k = app!.index.keys('mode:odd');
    const epoch = await redis.get(k.epoch);
    expect(await top('mode:odd')).toEqual(await expected('mode:odd'));
    await redis.del(k.z);
    const before = await reads();
    expect(await top('mode:odd')).toEqual(await expected('mode:odd'));
    expect((await reads()).postgres).toBeGreaterThan(before.postgres);
    // The read asked for a rebuild: a fresh generation, served from Redis again.
    await eventually('mode:odd rebuilt', async () => (await redis.get(k.epoch)) !== epoch && (await app!.index.trusted('mode:odd')));
    const rebuilt = await reads();
    expect(await top('mode:odd')).toEqual(await expected('mode:odd'));
    expect((await reads()).redis).toBeGreaterThan(rebuilt.redis);
  });

  it('takes no commit onto what is left: a submit does not make it a one-player board', async () => {
    const k = app!.index.keys('mode:even');
    await redis.del(k.z, k.h);
    await ws.request('submit', { user_id: 2, score: 1, game_mode: 'even' });
    expect(await top('mode:even')).toHaveLength(20);
    expect(await top('mode:even')).toEqual(await expected('mode:even'));
    expect((await ws.request('rank', { board: 'mode:even', user_id: 40 })).username).toBe('name-40');
    expect(await waitForIndex(redis, sql, stores.redisPrefix)).toEqual([]);
  });

  it('without its names hash, reads fall back and the names are written again', async () => {
    const { names } = namesKeys(stores.redisPrefix);
    await redis.del(names);
    await ws.request('submit', { user_id: 3, score: 1, game_mode: 'odd' }); // names begin again, partly
    expect(await top('global')).toEqual(await expected('global'));
    expect(await top('mode:even')).toEqual(await expected('mode:even'));
    // The maintainer sees the names hash was not filled since it was lost, and rebuilds `global`.
    await app!.maintainer.check();
    expect(await waitForIndex(redis, sql, stores.redisPrefix)).toEqual([]);
  });

  it('evicted for real under a tiny maxmemory is never answered empty, and the index converges', async () => {
    const k = app!.index.keys('mode:odd');
    const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    // LRU is sampled and its clock ticks in seconds, so under allkeys-lru a young epoch can still
    // be picked among junk keys of the same second (it was, about once in eight runs). volatile-lru
    // evicts for real but only keys with a TTL: the sorted set gets one, the junk too, the epoch not.
    await redis.pexpire(k.z, 3_600_000);
    await new Promise((r) => setTimeout(r, 2100)); // the sorted set ages; the junk is younger
    await redis.config('SET', 'maxmemory-policy', 'volatile-lru');
    await redis.config('SET', 'maxmemory', String(used + 256 * 1024));
    const junk = 'x'.repeat(20_000);
    let i = 0;
    try {
      for (; i < 3000 && (await redis.exists(k.z)) === 1; i++) {
        await redis.set(`${stores.redisPrefix}:junk:${i}`, junk, 'EX', 3600);
      }
    } finally {
      await redis.config('SET', 'maxmemory', '0');
      await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
    }
    expect(Number(/evicted_keys:(\d+)/.exec(await redis.info('stats'))?.[1]), 'Redis evicted keys').toBeGreaterThan(0);
    expect(await redis.exists(k.z), `z still there after ${i} junk keys`).toBe(0);
    expect(await redis.exists(k.epoch), 'the epoch survived').toBe(1);
    const rows = await expected('mode:odd');
    expect(rows.length).toBe(20);
    expect(await top('mode:odd')).toEqual(rows);
    expect(await top('global')).toEqual(await expected('global'));
    await app!.maintainer.check();
    expect(await waitForIndex(redis, sql, stores.redisPrefix, 20_000)).toEqual([]);
  }, 60_000);
});
