/**
 * Group commit under real batching: a thousand submits in flight at once (duplicates, renames, a
 * user several times per batch, new boards), each reply checked against the reference model in
 * per-user order, then every board against the model.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultUsername, nameKey } from '../protocol/index.ts';
import type { RunningApp } from '../server/app.ts';
import type { Connection } from '../client/sdk/connection.ts';
import { Model } from './support/model.ts';
import { connectWs, startTestApp, token } from './support/servers.ts';
import { openSql } from './support/index-state.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

let stores: FreshStores;
let app: RunningApp;
const sockets: Connection[] = [];

beforeAll(async () => {
  stores = await freshStores();
  app = await startTestApp(stores, { GROUP_COMMIT_CONCURRENCY: '1' });
  for (let i = 0; i < 4; i++) sockets.push(await connectWs(app.port, token('server')));
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await app?.close();
  await stores?.cleanup();
});

it('answers every submit of a large concurrent burst exactly as the model does', async () => {
  let seed = 99;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const model = new Model();
  const sent: { req: Parameters<Model['submit']>[0]; reply: Promise<unknown> }[] = [];
  for (let n = 0; n < 1200; n++) {
    const user = 1 + Math.floor(rand() * 60);
    const req: Parameters<Model['submit']>[0] = {
      user_id: user,
      score: Math.floor(rand() * 20) * 5,
      game_mode: ['ranked', 'casual', `m${Math.floor(rand() * 6)}`][Math.floor(rand() * 3)]!,
    };
    if (rand() < 0.3) req.submission_id = `s${Math.floor(rand() * 10)}`;
    if (rand() < 0.1) req.username = `name-${user}-${Math.floor(rand() * 3)}`; // renames that never collide
    // One socket per user keeps each user's submits in send order at the server.
    sent.push({ req, reply: sockets[user % sockets.length]!.request('submit', req) });
  }
  const replies = await Promise.all(sent.map((s) => s.reply));
  sent.forEach((s, i) => {
    const expected = model.submit(s.req);
    expect(expected.kind).toBe('ok');
    const { rank: _rank, ...got } = replies[i] as { rank: number };
    const { rank: _r, ...want } = (expected as { reply: { rank: number } }).reply;
    expect(got, `submit #${i} ${JSON.stringify(s.req)}`).toEqual(want);
  });

  for (const board of model.boardIds()) {
    expect((await sockets[0]!.request('top', { board, limit: 100 })).entries).toEqual(model.top(board, 100));
  }
  const sizes = await app.metrics.groupCommitSize.get();
  const batches = sizes.values.find((v) => v.metricName === 'leaderboard_group_commit_size_count')!.value;
  // 1200 submits in far fewer transactions: the burst really was committed in groups.
  expect(batches).toBeLessThan(600);
});

it('PostgreSQL refuses a submit whose deadline has passed, before it starts or while it waits on a lock, and writes nothing', async () => {
  const sql = openSql(stores.databaseUrl);
  try {
    const call = (deadline: Date, sid: string) =>
      sql`SELECT * FROM lb_submit_batch(${deadline}, '{NULL,NULL,NULL}'::text[], ${[70001]}::bigint[], ${[5]}::bigint[], ${['ranked']}::text[], ${[null]}::text[], ${[sid]}::text[],
        ${[nameKey(defaultUsername(70001))]}::text[])`;
    await expect(call(new Date(Date.now() - 1000), 'late-1')).rejects.toMatchObject({ code: 'LB001' });
    expect(await sql`SELECT 1 FROM users WHERE user_id = 70001`).toHaveLength(0);

    expect((await call(new Date(Date.now() + 60_000), 'in-time'))[0]!.status).toBe('ok');
    // Another transaction holds the user until after the deadline: the submit rolls back.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = sql.begin(async (tx) => {
      await tx`SELECT lb_lock_users(${[70001]}::bigint[])`;
      locked();
      await held;
    });
    await isLocked;
    const waiting = call(new Date(Date.now() + 200), 'late-2').then(
      () => 'committed',
      (err: { code?: string }) => err.code,
    );
    await new Promise((r) => setTimeout(r, 400));
    release();
    await holder;
    expect(await waiting).toBe('LB001');
    expect(await sql`SELECT submission_id FROM game_sessions WHERE user_id = 70001`).toEqual([{ submission_id: 'in-time' }]);
    expect(await sql`SELECT total_score FROM leaderboard WHERE user_id = 70001 AND board = 'global'`).toEqual([{ total_score: 5 }]);
  } finally {
    await sql.end({ timeout: 5 });
  }
});

it('concurrent batches sharing users in opposite orders all commit, one user at a time, without deadlock', async () => {
  // Each user's lock (lb_lock_users) is taken in user_id order whatever the batch's order, so
  // batches listing the same users backwards cannot wait on each other in a cycle.
  const sql = openSql(stores.databaseUrl, 12);
  try {
    const users = [80001, 80002, 80003, 80004, 80005, 80006];
    const batch = (n: number) => {
      const ids = n % 2 === 0 ? users : [...users].reverse();
      return sql<{ status: string }[]>`SELECT status FROM lb_submit_batch(${new Date(Date.now() + 30_000)}, '{NULL,NULL,NULL}'::text[],
        ${ids}::bigint[], ${ids.map(() => 3)}::bigint[], ${ids.map(() => 'ranked')}::text[], ${ids.map(() => null)}::text[],
        ${ids.map((u) => `b${n}-${u}`)}::text[], ${ids.map((u) => nameKey(defaultUsername(u)))}::text[])`;
    };
    const results = await Promise.all(Array.from({ length: 24 }, (_, n) => batch(n)));
    expect(results.flat().map((r) => r.status)).toEqual(Array(24 * users.length).fill('ok'));
    const totals = await sql<{ user_id: number; total_score: number; games_played: number }[]>`
      SELECT user_id::int, total_score::int, games_played FROM leaderboard WHERE board = 'global' AND user_id = ANY (${users}) ORDER BY user_id`;
    expect(totals).toEqual(users.map((u) => ({ user_id: u, total_score: 72, games_played: 24 })));
  } finally {
    await sql.end({ timeout: 5 });
  }
});
