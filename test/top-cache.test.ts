/**
 * `top` served from an instance's in-memory live view (TOP_CACHE): only while the view is known
 * current. A submit answered by an instance shows in that instance's next `top` at once; another
 * instance shows it once the change notice arrives; reads stay correct through a lost pub/sub link;
 * made-up boards do not grow the views without end.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../client/sdk/connection.ts';
import type { RunningApp } from '../server/app.ts';
import { Model } from './support/model.ts';
import { connectWs, eventually, startTestApp, token } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

let stores: FreshStores;
const apps: RunningApp[] = [];
const ws: Connection[] = [];
let redis: Redis;
const model = new Model();

async function reads(app: RunningApp): Promise<Record<'redis' | 'memory' | 'postgres', number>> {
  const text = await app.metrics.registry.getSingleMetricAsString('leaderboard_index_reads_total');
  const of = (source: string) => Number(new RegExp(`source="${source}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  return { redis: of('redis'), memory: of('memory'), postgres: of('postgres') };
}

async function submit(via: Connection, user_id: number, score: number, game_mode = 'ranked') {
  const req = { user_id, score, game_mode };
  model.submit(req);
  await via.request('submit', req);
}

beforeAll(async () => {
  stores = await freshStores();
  for (let i = 0; i < 2; i++) {
    const app = await startTestApp(stores, { DIFF_TICK_MS: '10' });
    apps.push(app);
    ws.push(await connectWs(app.port, token('server')));
  }
  redis = new Redis(stores.redisUrl);
  for (let u = 1; u <= 30; u++) await submit(ws[u % 2]!, u, u * 10);
});

afterAll(async () => {
  for (const c of ws) c.close();
  for (const a of apps) await a.close();
  redis?.disconnect();
  await stores?.cleanup();
});

describe('top from the live view', () => {
  it('is served from memory once the view is current, and equals the index', async () => {
    const before = await reads(apps[1]!);
    await eventually('a top read served from memory', async () => {
      expect((await ws[1]!.request('top', { board: 'global', limit: 10 })).entries).toEqual(model.top('global', 10));
      return (await reads(apps[1]!)).memory > before.memory;
    });
    for (const limit of [1, 10, 100]) expect((await ws[1]!.request('top', { board: 'global', limit })).entries).toEqual(model.top('global', limit));
  });

  it("shows a submit in the next top of the instance that answered it, every time", async () => {
    const start = await reads(apps[0]!);
    for (let n = 0; n < 60; n++) {
      await submit(ws[0]!, 1 + (n % 35), 7 + ((n * 37) % 400));
      expect((await ws[0]!.request('top', { board: 'global', limit: 10 })).entries, `after submit ${n}`).toEqual(model.top('global', 10));
      expect((await ws[0]!.request('top', { board: 'mode:ranked', limit: 5 })).entries, `after submit ${n}`).toEqual(model.top('mode:ranked', 5));
      await new Promise((r) => setTimeout(r, 25)); // a tick later the view is current again...
      expect((await ws[0]!.request('top', { board: 'global', limit: 10 })).entries, `later, after submit ${n}`).toEqual(model.top('global', 10));
    }
    // ...so both paths served: Redis right after a commit that moved the top, memory once re-read.
    const end = await reads(apps[0]!);
    expect(end.redis).toBeGreaterThan(start.redis);
    expect(end.memory).toBeGreaterThan(start.memory);
  });

  it("shows another instance's submit once its notice arrives", async () => {
    for (let n = 0; n < 20; n++) {
      await submit(ws[0]!, 100 + n, 5000 + n);
      await eventually(`instance 1 sees submit ${n}`, async () => {
        const got = (await ws[1]!.request('top', { board: 'global', limit: 10 })).entries;
        return JSON.stringify(got) === JSON.stringify(model.top('global', 10));
      }, 3000);
    }
  });

  it('stays correct through a lost pub/sub link, and serves from memory again once it is back', async () => {
    // Kill both instances' subscriber connections (the notices of commits meanwhile are lost).
    const list = String(await redis.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    const ids = list
      .split('\n')
      .filter((l) => l.includes(`name=${stores.redisPrefix}:live`))
      .map((l) => /id=(\d+)/.exec(l)![1]!);
    expect(ids.length).toBe(2);
    for (const id of ids) await redis.call('CLIENT', 'KILL', 'ID', id);
    for (let n = 0; n < 10; n++) {
      await submit(ws[0]!, 200 + n, 90_000 + n);
      await eventually(`instance 1 shows submit ${n}`, async () => {
        const got = (await ws[1]!.request('top', { board: 'global', limit: 10 })).entries;
        return JSON.stringify(got) === JSON.stringify(model.top('global', 10));
      }, 3000);
    }
    const before = await reads(apps[1]!);
    await eventually('served from memory again', async () => {
      expect((await ws[1]!.request('top', { board: 'global', limit: 10 })).entries).toEqual(model.top('global', 10));
      return (await reads(apps[1]!)).memory > before.memory;
    }, 10_000);
  });

  it('keeps no more than a bounded number of views for boards nobody follows', async () => {
    for (let i = 0; i < 400; i++) await ws[1]!.request('top', { board: `mode:nobody_${i}`, limit: 5 });
    const feeds = (apps[1]!.live as unknown as { feeds: Map<string, unknown> }).feeds;
    expect(feeds.size).toBeGreaterThan(200); // views were made for the boards read...
    expect(feeds.size).toBeLessThanOrEqual(256 + 10); // ...up to the bound
    expect((await ws[1]!.request('top', { board: 'global', limit: 10 })).entries).toEqual(model.top('global', 10));
  });
});
