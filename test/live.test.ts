/**
 * Live push across several real instances sharing one PostgreSQL and one Redis: spectators with
 * different boards and limits on every instance, random submits through all of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { RunningApp } from '../server/app.ts';
import type { Connection } from '../client/sdk/connection.ts';
import { Spectator } from './support/spectator.ts';
import { connectWs, eventually, startTestApp, token } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

let stores: FreshStores;
const apps: RunningApp[] = [];
const writers: Connection[] = [];
const spectators: Spectator[] = [];

beforeAll(async () => {
  stores = await freshStores();
  for (let i = 0; i < 3; i++) apps.push(await startTestApp(stores, { DIFF_TICK_MS: '20', LIVE_REFRESH_MS: '500' }));
  for (const app of apps) writers.push(await connectWs(app.port, token('server')));
});

afterAll(async () => {
  for (const s of spectators) s.close();
  for (const w of writers) w.close();
  for (const app of apps) await app.close();
  await stores?.cleanup();
});

async function truth(board: string, limit: number) {
  return (await writers[0]!.request('top', { board, limit })).entries;
}

describe('spectators on every instance', () => {
  it('see exactly the top N after thousands of random submits, with no gap', async () => {
    const plan: [number, string, number][] = [
      [0, 'global', 10],
      [0, 'mode:ranked', 5],
      [1, 'global', 3],
      [1, 'global', 100],
      [1, 'mode:casual', 10],
      [2, 'global', 10],
      [2, 'mode:ranked', 50],
    ];
    for (const [i, board, limit] of plan) spectators.push(await Spectator.follow(apps[i]!.port, board, limit));

    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const modes = ['ranked', 'casual'];
    const inflight: Promise<unknown>[] = [];
    for (let n = 0; n < 3000; n++) {
      const w = writers[n % writers.length]!;
      inflight.push(
        w.request('submit', {
          user_id: 1 + Math.floor(rand() * 400),
          score: Math.floor(rand() * 50) * 10,
          game_mode: modes[Math.floor(rand() * modes.length)]!,
        }),
      );
      if (inflight.length >= 60) await Promise.all(inflight.splice(0));
    }
    await Promise.all(inflight);

    for (const s of spectators) {
      await eventually(`spectator of ${s.board}/${s.limit} converges`, async () => {
        return JSON.stringify(s.entries) === JSON.stringify(await truth(s.board, s.limit));
      });
      expect(s.entries).toEqual(await truth(s.board, s.limit));
      expect(s.gaps).toEqual([]);
      expect(s.diffs).toBeGreaterThan(0);
    }
  });

  it('coalesces bursts: far fewer diffs than submits', async () => {
    const s = spectators[0]!;
    // 3000 submits touched a 10-row view; per-submit fan-out would have sent one diff each.
    expect(s.diffs).toBeLessThan(1500);
  });

  it('a new leader written on one instance reaches spectators on the others', async () => {
    const watchers = [await Spectator.follow(apps[1]!.port, 'global', 1), await Spectator.follow(apps[2]!.port, 'global', 1)];
    spectators.push(...watchers);
    const leader = (await truth('global', 1))[0]!;
    const reply = await writers[0]!.request('submit', { user_id: 9001, score: leader.total_score + 1000, game_mode: 'ranked', username: 'newking' });
    expect(reply.rank).toBe(1);
    for (const w of watchers) {
      await eventually('new leader pushed', () => w.entries[0]?.user_id === 9001);
      expect(w.entries[0]).toMatchObject({ rank: 1, user_id: 9001, username: 'newking' });
      expect(w.gaps).toEqual([]);
    }
  });

  it('unsubscribe stops pushes; re-subscribe with a new limit replaces the subscription', async () => {
    const s = await Spectator.follow(apps[0]!.port, 'global', 2);
    spectators.push(s);
    expect(await s.conn.request('unsubscribe', { board: 'global' })).toEqual({ board: 'global' });
    expect(await s.conn.request('unsubscribe', { board: 'mode:never' })).toEqual({ board: 'mode:never' });
    const before = s.diffs;
    await writers[0]!.request('submit', { user_id: 9002, score: 10_000_000, game_mode: 'ranked' });
    await new Promise((r) => setTimeout(r, 200));
    expect(s.diffs).toBe(before);
    const snap = await s.conn.request('subscribe', { board: 'global', limit: 4 });
    expect(snap.entries).toEqual(await truth('global', 4));
  });
});

describe('slow spectators', () => {
  let slowApp: RunningApp;
  beforeAll(async () => {
    slowApp = await startTestApp(stores, { WS_MAX_BACKPRESSURE_BYTES: '16384', DIFF_TICK_MS: '5' });
  });
  afterAll(async () => slowApp?.close());

  it('a spectator that stops reading holds bounded memory and is resynced when it resumes', async () => {
    const s = await Spectator.follow(slowApp.port, 'global', 100);
    spectators.push(s);
    const raw = (s.conn as unknown as { socket: { _socket: { pause(): void; resume(): void } } }).socket._socket;
    raw.pause();
    const w = await connectWs(slowApp.port, token('server'));
    let maxBacklog = 0;
    for (let n = 0; n < 1500; n++) {
      // Every submit reshuffles the top 100 so each tick's diff is large.
      await w.request('submit', { user_id: 20_000 + (n % 150), score: 1_000_000 + n * 7, game_mode: 'ranked', username: `slow-${n % 150}-${'x'.repeat(20)}` });
      if (n % 50 === 0) maxBacklog = Math.max(maxBacklog, slowApp.live.maxBacklogBytes());
    }
    maxBacklog = Math.max(maxBacklog, slowApp.live.maxBacklogBytes());
    const drops = await slowApp.metrics.registry.getSingleMetricAsString('leaderboard_live_slow_consumer_drops_total');
    expect(Number(/ (\d+)$/m.exec(drops)?.[1])).toBeGreaterThan(0);
    // The server never queued more than the limit plus one frame for it.
    expect(maxBacklog).toBeLessThanOrEqual(16384 + 64 * 1024);
    raw.resume();
    await eventually('slow spectator resynced', async () => s.snapshots > 0 && JSON.stringify(s.entries) === JSON.stringify(await truth('global', 100)));
    expect(s.gaps).toEqual([]);
    w.close();
  });
});

describe('pub/sub loss', () => {
  it('a dropped pub/sub connection gives spectators a new epoch, and they converge', async () => {
    const s = await Spectator.follow(apps[1]!.port, 'global', 10);
    spectators.push(s);
    const epochBefore = s.view.epoch;
    const admin = new Redis(stores.redisUrl);
    try {
      const list = await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub');
      const ids = String(list)
        .split('\n')
        .filter((l) => l.includes(`name=${stores.redisPrefix}:live`))
        .map((l) => /id=(\d+)/.exec(l)![1]!);
      expect(ids.length).toBe(3);
      for (const id of ids) await admin.call('CLIENT', 'KILL', 'ID', id);
    } finally {
      admin.disconnect();
    }
    await writers[2]!.request('submit', { user_id: 9003, score: 50_000_000, game_mode: 'casual' });
    await eventually('new epoch after pub/sub loss', () => s.view.epoch !== epochBefore && s.snapshots > 0);
    await eventually('converged', async () => JSON.stringify(s.entries) === JSON.stringify(await truth('global', 10)));
    expect(s.entries[0]!.user_id).toBe(9003);
    expect(s.gaps).toEqual([]);
  });
});
