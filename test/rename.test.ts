/**
 * A rename costs the same Redis work whatever the number of boards the user is on (names live
 * once per user in the index), and still reaches every board: reads on both instances, `top`
 * served from memory, and spectators of boards the renaming submit did not touch (with periodic
 * re-reads off, so only the rename notice can bring it). On a private redis-server, so that its
 * command counts are this test's alone.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Connection } from '../client/sdk/connection.ts';
import type { RunningApp } from '../server/app.ts';
import { openSql, waitForIndex } from './support/index-state.ts';
import { PrivateRedis, stopAllRedis } from './support/redis-server.ts';
import { connectWs, eventually, startTestApp, token } from './support/servers.ts';
import { Spectator } from './support/spectator.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

const MODES = 200;
const USER = 7;
let server: PrivateRedis;
let stores: FreshStores;
let redis: Redis;
const apps: RunningApp[] = [];
const ws: Connection[] = [];

/** Every command Redis ran so far, those run inside scripts included. */
async function commandsRun(): Promise<number> {
  const info = await redis.info('commandstats');
  let n = 0;
  for (const m of info.matchAll(/calls=(\d+)/g)) n += Number(m[1]);
  return n;
}

/** Redis commands one submit costs (the INFO call measuring it counted out). */
async function cost(req: { user_id: number; score: number; game_mode: string; username?: string }): Promise<number> {
  const before = await commandsRun();
  await ws[0]!.request('submit', req);
  return (await commandsRun()) - before - 1;
}

beforeAll(async () => {
  server = await PrivateRedis.start();
  redis = new Redis(server.url);
  stores = await freshStores(server.url);
  // No periodic index check or re-read during the measurement; the windows stay on (4 boards a mode).
  const env = { INDEX_CHECK_INTERVAL_MS: '3600000', LIVE_REFRESH_MS: '600000', DIFF_TICK_MS: '10', MAX_BOARDS: '100000' };
  for (let i = 0; i < 2; i++) {
    apps.push(await startTestApp(stores, env));
    ws.push(await connectWs(apps[i]!.port, token('server')));
  }
  for (let m = 0; m < MODES; m++) {
    await ws[0]!.request('submit', { user_id: USER, score: 100 + m, game_mode: `m${m}`, username: 'before' });
    await ws[1]!.request('submit', { user_id: 1000 + m, score: 50, game_mode: `m${m}` });
  }
}, 120_000);

afterAll(async () => {
  for (const c of ws) c.close();
  for (const a of apps) await a.close();
  redis?.disconnect();
  await stores?.cleanup();
  await stopAllRedis();
});

it(`renames a user on ${MODES * 4 + 4} boards with the Redis work of any submit, and every board shows the new name`, async () => {
  const sql = openSql(stores.databaseUrl);
  try {
    const boards = (await sql<{ board: string }[]>`SELECT board FROM board_rows WHERE user_id = ${USER} ORDER BY board`).map((r) => r.board);
    expect(boards.length).toBe(MODES * 4 + 4);
    // Measured before any live view exists, so that no re-read of a view counts.
    const plain = await cost({ user_id: USER, score: 1, game_mode: 'm0' });
    const rename = await cost({ user_id: USER, score: 1, game_mode: 'm0', username: 'middle' });
    console.info(`Redis commands: a submit ${plain}, a rename of a user on ${boards.length} boards ${rename}`);
    // One name write and one notice more than any submit (a heartbeat or two may fall in between).
    expect(rename).toBeLessThanOrEqual(plain + 10);
    expect(rename).toBeLessThan(150);

    // Spectators and `top` views of boards the renaming submit does not touch, on both instances.
    const spectators = await Promise.all([Spectator.follow(apps[1]!.port, 'mode:m5', 10), Spectator.follow(apps[0]!.port, 'mode:m6:daily', 10)]);
    for (const s of spectators) expect(s.entries.find((e) => e.user_id === USER)?.username).toBe('middle');
    const memoryReads = async (app: RunningApp) =>
      Number(/source="memory"\} (\d+)/.exec(await app.metrics.registry.getSingleMetricAsString('leaderboard_index_reads_total'))?.[1] ?? 0);
    for (let i = 0; i < 2; i++) {
      await eventually('top of mode:m9 served from memory', async () => {
        const before = await memoryReads(apps[i]!);
        await ws[i]!.request('top', { board: 'mode:m9', limit: 10 });
        return (await memoryReads(apps[i]!)) > before;
      });
    }
    await ws[0]!.request('submit', { user_id: USER, score: 1, game_mode: 'm0', username: 'after' });

    // This instance's own commit shows in its next `top` at once; the other's once the notice arrives.
    expect((await ws[0]!.request('top', { board: 'mode:m9', limit: 10 })).entries.find((e: { user_id: number }) => e.user_id === USER)?.username).toBe('after');
    await eventually('the other instance shows the new name in top', async () => {
      const entries = (await ws[1]!.request('top', { board: 'mode:m9', limit: 10 })).entries as { user_id: number; username: string }[];
      return entries.find((e) => e.user_id === USER)?.username === 'after';
    }, 3000);
    for (const s of spectators) {
      await eventually(`a spectator of ${s.board} sees the new name`, () => s.entries.find((e) => e.user_id === USER)?.username === 'after', 3000);
      expect(s.gaps).toEqual([]);
      s.close();
    }

    for (const c of ws) {
      const replies = await Promise.all(boards.map((board) => c.request('rank', { board, user_id: USER })));
      replies.forEach((r, i) => expect(r.username, boards[i]).toBe('after'));
    }
    expect(await waitForIndex(redis, sql, stores.redisPrefix)).toEqual([]);
  } finally {
    await sql.end({ timeout: 5 });
  }
}, 120_000);
