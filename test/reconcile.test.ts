/** The reconciliation oracle: it sees every kind of drift, and repairing leaves none. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningApp } from '../server/app.ts';
import { compareBoard, hasDrift, reconcile } from '../server/index/reconcile.ts';
import { toMember } from '../server/index/keys.ts';
import { connectWs, startTestApp, token } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

let stores: FreshStores;
let app: RunningApp;

/** What the index holds, printed when an assertion is about to fail, to diagnose the drift. */
async function dump(board: string): Promise<string> {
  const z = (await app.redis.call('ZRANGE', app.index.keys(board).z, '0', '-1', 'WITHSCORES')) as string[];
  const keys = await app.redis.keys(`${stores.redisPrefix}:*`);
  return `zset ${z.join(',')}; keys ${keys.join(' ')}`;
}

beforeAll(async () => {
  stores = await freshStores();
  // No periodic index check: it would repair the drift this test plants before reconcile sees it.
  app = await startTestApp(stores, { INDEX_CHECK_INTERVAL_MS: '3600000' });
  const ws = await connectWs(app.port, token('server'));
  for (let u = 1; u <= 30; u++) await ws.request('submit', { user_id: u, score: u * 10, game_mode: u % 2 ? 'odd' : 'even' });
  ws.close();
});
afterAll(async () => {
  await app?.close();
  await stores?.cleanup();
});

it('finds a clean index clean', async () => {
  for (const board of ['global', 'mode:odd', 'mode:even']) {
    const d = await compareBoard(app.index, app.sql, board);
    expect(hasDrift(d), `${JSON.stringify(d)} ${hasDrift(d) ? await dump(board) : ''}`).toBe(false);
    expect(d.rows).toBe(board === 'global' ? 30 : 15);
  }
});

it('reports each kind of drift and repairs all of it', async () => {
  const k = app.index.keys('global');
  const r = app.redis;
  await r.zrem(k.z, toMember(1)); // missing
  await r.zadd(k.z, -999, toMember(2)); // wrong total
  await r.hset(k.h, toMember(3), '77:1:player3'); // wrong games
  await r.hset(k.h, toMember(4), '1:1:mallory'); // wrong name
  await r.zadd(k.z, -5, toMember(999)); // extra
  await r.del(app.index.keys('mode:odd').epoch); // untrusted
  const d = await compareBoard(app.index, app.sql, 'global');
  if (d.extra !== 1) expect.fail(`${JSON.stringify(d)} ${await dump('global')}`);
  expect(d).toMatchObject({ missing: 1, wrongTotal: 1, wrongGames: 1, wrongName: 1, extra: 1, untrusted: false });
  expect(d.examples.sort((a, b) => a - b)).toEqual([1, 2, 3, 4]);

  const { before, after } = await reconcile(app.index, app.sql, true);
  expect(before.filter(hasDrift).map((b) => b.board).sort()).toEqual(['global', 'mode:odd']);
  expect(after.filter(hasDrift)).toEqual([]);
  for (const board of ['global', 'mode:odd', 'mode:even']) expect(hasDrift(await compareBoard(app.index, app.sql, board))).toBe(false);
});
