/**
 * The same server on a real 3-master Redis Cluster (started here on loopback ports, stopped
 * after): two instances share it. The ranking checks of the core suite, against the reference
 * model, with every read served by the cluster-held index; board keys spread over the masters;
 * spectators on one instance follow submits made on the other through sharded pub/sub; a lost
 * epoch is rebuilt; the per-user submit limits and the instance journal work across slots.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../client/sdk/connection.ts';
import type { RunningApp } from '../server/app.ts';
import { boardKeys } from '../server/rank-index/keys.ts';
import type { Sql } from '../server/store/db.ts';
import { openSql, waitForIndex } from './support/index-state.ts';
import { Model } from './support/model.ts';
import { RedisCluster } from './support/redis-cluster.ts';
import { connectWs, eventually, startTestApp, token } from './support/servers.ts';
import { Spectator } from './support/spectator.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

let cluster: RedisCluster;
let stores: FreshStores;
const apps: RunningApp[] = [];
const writers: Connection[] = [];
let sql: Sql;
let client: ReturnType<RedisCluster['client']>;
const model = new Model();
const BOARDS = ['global', 'mode:ranked', 'mode:casual', 'mode:blitz'];

async function indexReads(app: RunningApp): Promise<{ redis: number; postgres: number }> {
  const text = await (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text();
  const of = (source: string) => Number(new RegExp(`leaderboard_index_reads_total\\{source="${source}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  return { redis: of('redis'), postgres: of('postgres') };
}

beforeAll(async () => {
  cluster = await RedisCluster.start(3);
  stores = await freshStores();
  for (let i = 0; i < 2; i++) {
    const app = await startTestApp(stores, { REDIS_CLUSTER_NODES: cluster.seeds, SUBMIT_RATE_PER_USER: '100000', SUBMIT_BURST_PER_USER: '100000', DIFF_TICK_MS: '20', LIVE_REFRESH_MS: '600000' });
    apps.push(app);
    for (let k = 0; k < 2; k++) writers.push(await connectWs(app.port, token('server')));
  }
  sql = openSql(stores.databaseUrl);
  client = cluster.client();
}, 60_000);

afterAll(async () => {
  for (const w of writers) w.close();
  for (const a of apps) await a.close();
  client?.disconnect();
  await sql?.end({ timeout: 5 });
  await cluster?.deleteKeys(stores.redisPrefix);
  await stores?.cleanup();
  await cluster?.stop();
});

describe('on a Redis Cluster', () => {
  it('commits a concurrent burst on two instances and answers every ranking read as the model does, from the index', async () => {
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const sent: Promise<unknown>[] = [];
    for (let n = 0; n < 800; n++) {
      const user_id = 1 + Math.floor(rand() * 80);
      const req: Parameters<Model['submit']>[0] = { user_id, score: Math.floor(rand() * 20) * 5, game_mode: ['ranked', 'casual', 'blitz'][Math.floor(rand() * 3)]! };
      if (rand() < 0.2) req.submission_id = `s${Math.floor(rand() * 5)}`;
      model.submit(req);
      // A user's submits all go through one socket, so they commit in the model's order.
      sent.push(writers[user_id % writers.length]!.request('submit', req));
    }
    await Promise.all(sent);
    expect(await waitForIndex(client as never, sql, stores.redisPrefix)).toEqual([]);

    const before = await indexReads(apps[0]!);
    const ws = writers[0]!;
    for (const board of BOARDS) {
      expect((await ws.request('top', { board, limit: 100 })).entries, `top ${board}`).toEqual(model.top(board, 100));
      for (const e of model.listing(board)) {
        const r = await ws.request('rank', { board, user_id: e.user_id });
        expect({ rank: r.rank, total: r.total_score, games: r.games_played }, `rank ${board} ${e.user_id}`).toEqual({ rank: e.rank, total: e.total_score, games: e.games_played });
      }
      const some = model.listing(board).filter((_, i) => i % 7 === 3);
      for (const e of some) expect((await ws.request('around', { board, user_id: e.user_id, radius: 3 })).entries).toEqual(model.around(board, e.user_id, 3));
      const friends = [...some.map((e) => e.user_id), 9999];
      expect(await ws.request('ranks', { board, user_ids: friends })).toEqual(model.ranks(board, friends));
      let after: { total_score: number; user_id: number } | undefined;
      const walked: number[] = [];
      for (;;) {
        const page = await ws.request('page', { board, limit: 9, ...(after ? { after } : {}) });
        expect(page).toEqual(model.page(board, 9, after));
        walked.push(...page.entries.map((e: { user_id: number }) => e.user_id));
        if (!page.next) break;
        after = page.next;
      }
      expect(walked).toEqual(model.listing(board).map((e) => e.user_id));
    }
    const afterReads = await indexReads(apps[0]!);
    expect(afterReads.postgres, 'no read fell back to PostgreSQL').toBe(before.postgres);
    expect(afterReads.redis).toBeGreaterThan(before.redis);
    // Every commit reached the index directly (a failed update would only show up as a rebuild).
    for (const app of apps) {
      const text = await (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text();
      expect(/leaderboard_index_write_failures_total (\d+)/.exec(text)?.[1], 'index write failures').toBe('0');
    }
  });

  it('spreads the boards over the masters, each board in one slot', async () => {
    const holders = new Map<string, Set<number>>();
    for (const n of cluster.nodes) {
      const c = new Redis({ host: '127.0.0.1', port: n.port });
      try {
        for (const key of await c.keys(`${stores.redisPrefix}:*`)) {
          const tag = /\{([^}]*)\}/.exec(key)![1]!;
          holders.set(tag, (holders.get(tag) ?? new Set()).add(n.port));
        }
      } finally {
        c.disconnect();
      }
    }
    for (const [tag, ports] of holders) expect(ports.size, `keys of {${tag}} on one node`).toBe(1);
    const used = new Set([...holders.values()].flatMap((p) => [...p]));
    expect(used.size, 'masters holding board keys').toBeGreaterThanOrEqual(2);
    expect(holders.has('instances'), 'the instance journal lives in the cluster too').toBe(true);
  });

  it('pushes changes committed on one instance to spectators of the other (sharded pub/sub)', async () => {
    // Periodic re-reads are off (LIVE_REFRESH_MS): only the cluster's pub/sub can tell instance 1.
    const spectators = await Promise.all(['global', 'mode:arena'].map((b) => Spectator.follow(apps[1]!.port, b, 10)));
    try {
      for (let n = 0; n < 60; n++) {
        const req = { user_id: 100 + (n % 15), score: 500 + n, game_mode: 'arena' };
        model.submit(req);
        await writers[0]!.request('submit', req);
      }
      for (const s of spectators) {
        await eventually(`${s.board} converges`, async () => JSON.stringify(s.entries) === JSON.stringify(model.top(s.board, 10)), 10_000);
        expect(s.gaps).toEqual([]);
        expect(s.diffs).toBeGreaterThan(0);
      }
    } finally {
      for (const s of spectators) s.conn.close();
    }
  });

  it('takes a rename to spectators on the other instance of a board the renaming submit did not touch', async () => {
    // Names live in one hash in its own slot; the rename notice travels on its own shard channel.
    const s = await Spectator.follow(apps[1]!.port, 'mode:arena', 100);
    try {
      expect(s.entries.find((e) => e.user_id === 100)?.username).toBe('player100');
      const req = { user_id: 100, score: 1, game_mode: 'blitz', username: 'renamed-on-cluster' };
      model.submit(req);
      await writers[0]!.request('submit', req);
      await eventually('the spectator of mode:arena sees the new name', () => s.entries.find((e) => e.user_id === 100)?.username === 'renamed-on-cluster', 5000);
      expect(s.gaps).toEqual([]);
      expect(s.entries).toEqual(model.top('mode:arena', 100));
      expect((await writers[3]!.request('rank', { board: 'mode:arena', user_id: 100 })).username).toBe('renamed-on-cluster');
    } finally {
      s.conn.close();
    }
  });

  it('rebuilds a board whose epoch was lost, answering from PostgreSQL meanwhile', async () => {
    await client.del(boardKeys(stores.redisPrefix, 'mode:ranked').epoch);
    expect((await writers[1]!.request('top', { board: 'mode:ranked', limit: 50 })).entries).toEqual(model.top('mode:ranked', 50));
    await eventually('mode:ranked has an epoch again', async () => (await client.exists(boardKeys(stores.redisPrefix, 'mode:ranked').epoch)) === 1, 15_000);
    expect(await waitForIndex(client as never, sql, stores.redisPrefix)).toEqual([]);
  });
});
