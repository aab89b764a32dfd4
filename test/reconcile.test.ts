/** The reconciliation oracle: it sees every kind of drift, never drift that is not there, and repairing leaves none. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningApp } from '../server/app.ts';
import { compareBoard, hasDrift, reconcile } from '../server/rank-index/reconcile.ts';
import { rebuildBoard } from '../server/rank-index/rebuild.ts';
import { namesKeys, toMember } from '../server/rank-index/keys.ts';
import { connectWs, startTestApp, storeEnv, token } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

let stores: FreshStores;
let app: RunningApp;
const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** What the index holds, printed when an assertion is about to fail, to diagnose the drift. */
async function dump(board: string): Promise<string> {
  const z = (await app.redis.call('ZRANGE', app.index.keys(board).z, '0', '-1', 'WITHSCORES')) as string[];
  const keys = await app.redis.keys(`${stores.redisPrefix}:*`);
  return `zset ${z.join(',')}; keys ${keys.join(' ')}`;
}

/** `npm run reconcile -- --check` against the test's stores: its exit code and report. */
function reconcileCli(): Promise<{ code: number; report: { drifted: string[]; boards: number } }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'server/cli/reconcile.ts', '--check'],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...storeEnv(stores) }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        try {
          resolve({ code, report: JSON.parse(stdout) as { drifted: string[]; boards: number } });
        } catch {
          reject(new Error(`reconcile exited ${code} without a report: ${stdout} ${stderr}`));
        }
      },
    );
  });
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

it('finds no drift in a correct index of thousands of rows, in every one of 20 runs, nor does the CLI', async () => {
  // More rows on `global` than one chunk of the comparison (5,000): the last chunk is compared too.
  const conns = await Promise.all([0, 1].map(() => connectWs(app.port, token('server'))));
  const users = Array.from({ length: 6000 }, (_, i) => 10_001 + i);
  for (let at = 0; at < users.length; at += 600) {
    await Promise.all(
      users.slice(at, at + 600).map((u, i) => conns[i % 2]!.request('submit', { user_id: u, score: (u * 7919) % 100_000, game_mode: u % 2 ? 'big-a' : 'big-b' })),
    );
  }
  for (const c of conns) c.close();
  for (let run = 0; run < 20; run++) {
    const { before } = await reconcile(app.index, app.sql, false);
    const drifted = before.filter(hasDrift);
    expect(drifted, `run ${run}: ${JSON.stringify(drifted)}`).toEqual([]);
    expect(before.find((d) => d.board === 'global')?.rows).toBe(6030);
  }
  for (let run = 0; run < 3; run++) {
    const { code, report } = await reconcileCli();
    expect(report.drifted, `CLI run ${run}`).toEqual([]);
    expect(code).toBe(0);
  }
}, 120_000);

it('reports each kind of drift and repairs all of it', async () => {
  const k = app.index.keys('global');
  const r = app.redis;
  await r.zrem(k.z, toMember(1)); // missing
  await r.zadd(k.z, -999, toMember(2)); // wrong total
  await r.hset(k.h, toMember(3), '77'); // wrong games
  await r.hset(namesKeys(stores.redisPrefix).names, toMember(4), '1:mallory'); // wrong name
  await r.zadd(k.z, -5, toMember(999)); // extra
  await r.del(app.index.keys('mode:odd').epoch); // untrusted
  const d = await compareBoard(app.index, app.sql, 'global');
  if (d.extra !== 1) expect.fail(`${JSON.stringify(d)} ${await dump('global')}`);
  expect(d).toMatchObject({ missing: 1, wrongTotal: 1, wrongGames: 1, wrongName: 1, extra: 1, untrusted: false });
  expect(d.examples.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 999]);

  // The name lives once per user: every board user 4 is on shows the wrong name, until the first
  // repair (of `global`, compared first) writes the names of its users again.
  expect(await compareBoard(app.index, app.sql, 'mode:even')).toMatchObject({ wrongName: 1, examples: [4] });
  const { before, after } = await reconcile(app.index, app.sql, true);
  expect(before.filter(hasDrift).map((b) => b.board).sort()).toEqual(['global', 'mode:odd']);
  expect(after.filter(hasDrift)).toEqual([]);
  for (const board of ['global', 'mode:odd', 'mode:even']) expect(hasDrift(await compareBoard(app.index, app.sql, board))).toBe(false);
});

it('sees drift on a board whose sorted set is gone or empty, and on a board only Redis has', async () => {
  const r = app.redis;
  // PostgreSQL has rows; the sets are gone while the epoch stays (as an eviction leaves it).
  const odd = app.index.keys('mode:odd');
  await r.del(odd.z, odd.h);
  expect(await compareBoard(app.index, app.sql, 'mode:odd')).toMatchObject({ rows: 15, missing: 15, untrusted: true });

  // PostgreSQL knows the board but has no row on it; the index holds members anyway.
  await app.sql`INSERT INTO boards (board) VALUES ('mode:empty')`;
  expect(await rebuildBoard(app.index, app.sql, 'mode:empty')).toMatchObject({ status: 'rebuilt', rows: 0 });
  const clean = await compareBoard(app.index, app.sql, 'mode:empty');
  expect(hasDrift(clean), JSON.stringify(clean)).toBe(false);
  const empty = app.index.keys('mode:empty');
  await r.zadd(empty.z, -5, toMember(7));
  expect(await compareBoard(app.index, app.sql, 'mode:empty')).toMatchObject({ rows: 0, extra: 1, examples: [7] });
  await r.del(empty.z);
  await r.hset(empty.h, toMember(8), '1'); // a hash row without its score
  expect(await compareBoard(app.index, app.sql, 'mode:empty')).toMatchObject({ rows: 0, extra: 1, examples: [8] });

  // A board PostgreSQL does not know at all, with a trusted index of two players.
  const ghost = app.index.keys('mode:ghost');
  await r.set(ghost.epoch, 'planted');
  await r.zadd(ghost.z, -5, toMember(1), -6, toMember(2));
  await r.hset(ghost.h, toMember(1), '1', toMember(2), '1');

  const { before, after } = await reconcile(app.index, app.sql, true);
  const drifted = before.filter(hasDrift);
  expect(drifted.map((d) => d.board).sort()).toEqual(['mode:empty', 'mode:ghost', 'mode:odd']);
  expect(drifted.find((d) => d.board === 'mode:ghost')).toMatchObject({ orphan: true, rows: 0, extra: 2 });
  expect(after.filter(hasDrift)).toEqual([]);
  expect(await r.exists(ghost.epoch, ghost.z, ghost.h)).toBe(0);
  const { before: again } = await reconcile(app.index, app.sql, false);
  expect(again.filter(hasDrift)).toEqual([]);
});
