/**
 * Admission of submits against the real stores: which game modes may be used (GAME_MODES, and
 * MAX_BOARDS across instances), the `*` and `global` score rules, retries and refused submits
 * versus the budgets, trusted tokens versus the per-user bucket, and the policy while Redis is
 * unreachable. Each limit is set small so it is reached quickly; a refused submit commits nothing.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../server/app.ts';
import type { Connection } from '../client/sdk/connection.ts';
import { loadConfig } from '../server/config.ts';
import { http } from './support/http.ts';
import { connectWs, startTestApp, storeEnv, token } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';
import { TcpProxy } from './support/tcp-proxy.ts';

let stores: FreshStores;
const extraStores: FreshStores[] = [];
const apps: RunningApp[] = [];
const conns: Connection[] = [];

async function app(extra: Record<string, string>, on: FreshStores = stores): Promise<RunningApp> {
  const a = await startTestApp(on, extra);
  apps.push(a);
  return a;
}
async function ws(a: RunningApp, tok: string): Promise<Connection> {
  const c = await connectWs(a.port, tok);
  conns.push(c);
  return c;
}
async function ownStores(): Promise<FreshStores> {
  const s = await freshStores();
  extraStores.push(s);
  return s;
}
const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code: string }) => e.code);
const failure = (p: Promise<unknown>) => p.then(() => ({ code: 'ok', message: '' }), (e: { code: string; message: string }) => ({ code: e.code, message: e.message }));

async function query<T extends object>(on: FreshStores, run: (sql: postgres.Sql) => Promise<T[]>): Promise<T[]> {
  const sql = postgres(on.databaseUrl, { max: 1, onnotice: () => undefined });
  try {
    return await run(sql);
  } finally {
    await sql.end();
  }
}
const modeBoards = (on: FreshStores) =>
  query(on, (sql) => sql<{ board: string }[]>`SELECT board FROM boards WHERE board LIKE 'mode:%' AND board !~ ':(daily|weekly|monthly):' ORDER BY board`).then((r) =>
    r.map((x) => x.board),
  );
const sessionsOf = (on: FreshStores, userId: number) =>
  query(on, (sql) => sql<{ score: number; game_mode: string }[]>`SELECT score::int, game_mode FROM game_sessions WHERE user_id = ${userId} ORDER BY id`).then((r) =>
    r.map((x) => [x.score, x.game_mode]),
  );

beforeAll(async () => {
  stores = await freshStores();
});
afterAll(async () => {
  for (const c of conns) c.close();
  for (const a of apps) await a.close();
  await stores?.cleanup();
  for (const s of extraStores) await s.cleanup();
});

describe('GAME_MODES', () => {
  it('refuses a submit of an unlisted mode with bad_request naming the allowed ones, commits nothing, and reads answer as before', async () => {
    const a = await app({ GAME_MODES: 'ranked,casual' });
    const w = await ws(a, token('server'));
    const refused = await failure(w.request('submit', { user_id: 100, score: 10, game_mode: 'ranked2' }));
    expect(refused.code).toBe('bad_request');
    expect(refused.message).toContain('"ranked2"');
    expect(refused.message).toContain('ranked, casual');
    const h = await http(a.port, 'POST', '/api/leaderboard/submit', { body: { user_id: 100, score: 10, game_mode: 'arena' }, token: token('server') });
    expect(h.status).toBe(400);
    expect((await w.request('submit', { user_id: 100, score: 7, game_mode: 'casual' })).total_score).toBe(7);
    expect(await sessionsOf(stores, 100)).toEqual([[7, 'casual']]);
    expect(await modeBoards(stores)).not.toContain('mode:ranked2');
    expect((await w.request('top', { board: 'mode:ranked2' })).entries).toEqual([]);
  });

  it('is checked against SCORE_LIMITS at start-up', () => {
    const env = (extra: Record<string, string>) => () => loadConfig(storeEnv(stores, extra));
    expect(env({ GAME_MODES: 'ranked', SCORE_LIMITS: '{"rankd": {"max_per_submit": 1}}' })).toThrow(/SCORE_LIMITS.*rankd/);
    expect(env({ GAME_MODES: 'ranked,Bad Mode' })).toThrow(/GAME_MODES/);
    expect(env({ GAME_MODES: 'ranked', SCORE_LIMITS: '{"ranked": {"max_per_submit": 1}, "*": {"max_per_submit": 2}, "global": {"max_per_minute": 3}}' })).not.toThrow();
    expect(env({ SCORE_LIMITS: '{"ranked:x": {"max_per_submit": 1}}' })).toThrow(/SCORE_LIMITS/);
  });
});

describe('MAX_BOARDS without GAME_MODES', () => {
  it('admits new modes up to the bound exactly on one instance, refuses the next with nothing changed, and keeps existing modes working', async () => {
    const own = await ownStores();
    const a = await app({ MAX_BOARDS: '3' }, own);
    const w = await ws(a, token('server'));
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => failure(w.request('submit', { user_id: 200 + i, score: 5, game_mode: `new-${i}` }))),
    );
    expect(results.filter((r) => r.code === 'ok')).toHaveLength(3);
    const refused = results.filter((r) => r.code !== 'ok');
    expect(refused).toHaveLength(7);
    for (const r of refused) {
      expect(r.code).toBe('bad_request');
      expect(r.message).toContain('MAX_BOARDS');
    }
    const boards = await modeBoards(own);
    expect(boards).toHaveLength(3);
    results.forEach((r, i) => {
      expect(boards.includes(`mode:new-${i}`)).toBe(r.code === 'ok');
    });
    const refusedUsers = results.flatMap((r, i) => (r.code === 'ok' ? [] : [200 + i]));
    for (const u of refusedUsers) expect(await sessionsOf(own, u)).toEqual([]);

    // Existing modes keep working, and a refused user may still use them.
    for (const board of boards) {
      expect(await outcome(w.request('submit', { user_id: refusedUsers[0]!, score: 1, game_mode: board.slice(5) }))).toBe('ok');
    }
    // A mode another instance created past the bound is existing too.
    await query(own, (sql) => sql`INSERT INTO boards (board) VALUES ('mode:elsewhere') RETURNING board`);
    expect(await outcome(w.request('submit', { user_id: 260, score: 1, game_mode: 'elsewhere' }))).toBe('ok');
    expect(await outcome(w.request('submit', { user_id: 260, score: 1, game_mode: 'one-more' }))).toBe('bad_request');
  });

  it('overshoots by at most one board per extra instance when two instances race for the last ones', async () => {
    const own = await ownStores();
    const [a, b] = [await app({ MAX_BOARDS: '4' }, own), await app({ MAX_BOARDS: '4' }, own)];
    const [wa, wb] = [await ws(a, token('server')), await ws(b, token('server'))];
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) => outcome((i % 2 === 0 ? wa : wb).request('submit', { user_id: 300 + i, score: 5, game_mode: `race-${i}` }))),
    );
    const boards = await modeBoards(own);
    expect(boards.length).toBeGreaterThanOrEqual(4);
    expect(boards.length).toBeLessThanOrEqual(4 + 1);
    expect(results.filter((r) => r === 'ok')).toHaveLength(boards.length);
    expect(results.filter((r) => r !== 'ok').every((r) => r === 'bad_request')).toBe(true);
    console.info(`MAX_BOARDS=4, 24 new modes over two instances at once: ${boards.length} boards created`);
  });
});

describe('SCORE_LIMITS "*" and "global" rules', () => {
  it('caps modes SCORE_LIMITS does not list with "*", and every submit with "global"', async () => {
    const rules = { ranked: { max_per_submit: 5000 }, '*': { max_per_submit: 100, max_per_minute: 150 }, global: { max_per_submit: 4000, max_per_minute: 6000 } };
    const a = await app({ SCORE_LIMITS: JSON.stringify(rules) });
    const w = await ws(a, token('server'));
    const s = (user: number, score: number, mode: string) => failure(w.request('submit', { user_id: user, score, game_mode: mode }));
    // An invented mode does not escape the caps.
    const invented = await s(400, 1_000_000_000, 'ranked2');
    expect(invented.code).toBe('bad_request');
    expect(invented.message).toContain('maximum of 100 per submission for game mode "ranked2"');
    // A listed mode's own cap is above the global one: the global one holds.
    const overGlobal = await s(400, 4500, 'ranked');
    expect(overGlobal.code).toBe('bad_request');
    expect(overGlobal.message).toContain('"global" rule');
    // Per minute: "*" counts each unlisted mode on its own, "global" all modes together.
    expect((await s(401, 100, 'arena')).code).toBe('ok');
    expect((await s(401, 100, 'arena')).message).toContain('per minute');
    expect((await s(401, 100, 'brawl')).code).toBe('ok');
    expect((await s(402, 3000, 'ranked')).code).toBe('ok');
    expect((await s(402, 2900, 'ranked')).code).toBe('ok');
    const acrossModes = await s(402, 101, 'ranked');
    expect(acrossModes.code).toBe('bad_request');
    expect(acrossModes.message).toContain('across all game modes');
    expect((await s(402, 100, 'arena')).code).toBe('ok');
    expect((await s(402, 1, 'brawl')).message).toContain('across all game modes');
    expect(await sessionsOf(stores, 400)).toEqual([]);
    expect(await sessionsOf(stores, 401)).toEqual([
      [100, 'arena'],
      [100, 'brawl'],
    ]);
    expect((await w.request('rank', { user_id: 402 })).total_score).toBe(6000);
    expect(await sessionsOf(stores, 402)).toEqual([
      [3000, 'ranked'],
      [2900, 'ranked'],
      [100, 'arena'],
    ]);
  });
});

describe('retries and refused submits versus the budgets', () => {
  it('answers a retry duplicate whatever the per-minute cap, and a refused or duplicate submit uses none of it', async () => {
    const a = await app({ SCORE_LIMITS: JSON.stringify({ ranked: { max_per_minute: 1500 } }) });
    const w = await ws(a, token('server'));
    const s = (score: number, submission_id: string) => w.request('submit', { user_id: 500, score, game_mode: 'ranked', submission_id });
    expect((await s(1000, 'match-9')).total_score).toBe(1000);
    expect(await s(1000, 'match-9')).toMatchObject({ duplicate: true, total_score: 1000, games_played: 1 });
    expect(await s(400, 'match-10')).toMatchObject({ duplicate: false, total_score: 1400 });
    expect((await failure(s(200, 'match-11'))).code).toBe('bad_request');
    expect(await s(100, 'match-12')).toMatchObject({ duplicate: false, total_score: 1500 });
    // The minute is spent: a retry is still a duplicate, over both transports.
    expect(await s(1000, 'match-9')).toMatchObject({ duplicate: true, total_score: 1500, games_played: 3 });
    const h = await http(a.port, 'POST', '/api/leaderboard/submit', { body: { user_id: 500, score: 400, game_mode: 'ranked', submission_id: 'match-10' }, token: token('server') });
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ duplicate: true, total_score: 1500 });
    expect((await failure(s(200, 'match-11'))).code).toBe('bad_request');
    expect(await sessionsOf(stores, 500)).toEqual([
      [1000, 'ranked'],
      [400, 'ranked'],
      [100, 'ranked'],
    ]);
  });

  it('answers a retry duplicate whatever the bucket, and a duplicate or a conflict takes no token', async () => {
    const a = await app({ SUBMIT_RATE_PER_USER: '0.001', SUBMIT_BURST_PER_USER: '2', SCORE_LIMITS: JSON.stringify({ ranked: { max_per_minute: 1000 } }) });
    const w = await ws(a, token('player', '510'));
    const s = (score: number, submission_id: string, username?: string) =>
      w.request('submit', { user_id: 510, score, game_mode: 'ranked', submission_id, ...(username ? { username } : {}) });
    await (await ws(a, token('server'))).request('submit', { user_id: 511, score: 1, game_mode: 'casual', username: 'taken-name' });
    // A conflict is refused after admission: its token and score are given back.
    expect((await failure(s(1000, 'c-1', 'taken-name'))).code).toBe('conflict');
    expect((await s(300, 's-1')).duplicate).toBe(false);
    // Admitted (a token and 300 more this minute), then found a duplicate: both given back.
    expect((await s(300, 's-1')).duplicate).toBe(true);
    expect((await s(400, 's-2')).total_score).toBe(700);
    // The bucket is empty now: retries are still answered, new submits are not.
    const limited = await failure(s(0, 's-3'));
    expect(limited.code).toBe('rate_limited');
    expect(await s(300, 's-1')).toMatchObject({ duplicate: true, total_score: 700 });
    expect(await s(400, 's-2')).toMatchObject({ duplicate: true, total_score: 700 });
    expect((await failure(s(0, 's-3'))).code).toBe('rate_limited');
    expect(await sessionsOf(stores, 510)).toEqual([
      [300, 'ranked'],
      [400, 'ranked'],
    ]);
  });

  it('still limits a concurrent flood over two instances, and its refused submits stay refused on retry', async () => {
    const env = { SUBMIT_RATE_PER_USER: '0.001', SUBMIT_BURST_PER_USER: '3' };
    const [a, b] = [await app(env), await app(env)];
    const [wa, wb] = [await ws(a, token('player', '520')), await ws(b, token('player', '520'))];
    const s = (i: number) => (i % 2 === 0 ? wa : wb).request('submit', { user_id: 520, score: 1, game_mode: 'ranked', submission_id: `f-${i}` });
    const first = await Promise.all(Array.from({ length: 12 }, (_, i) => outcome(s(i))));
    expect(first.filter((r) => r === 'ok')).toHaveLength(3);
    expect(first.filter((r) => r === 'rate_limited')).toHaveLength(9);
    const again = await Promise.all(Array.from({ length: 12 }, (_, i) => s(i).then((r) => (r.duplicate ? 'duplicate' : 'new'), (e: { code: string }) => e.code)));
    again.forEach((r, i) => expect(r).toBe(first[i] === 'ok' ? 'duplicate' : 'rate_limited'));
    expect((await wa.request('rank', { user_id: 520 })).total_score).toBe(3);
  });
});

describe('trusted tokens and the per-user bucket (SUBMIT_RATE_APPLIES_TO)', () => {
  it('does not limit server and admin tokens by default, still limits players, and limits all with SUBMIT_RATE_APPLIES_TO=all', async () => {
    const env = { SUBMIT_RATE_PER_USER: '0.001', SUBMIT_BURST_PER_USER: '1', SCORE_LIMITS: JSON.stringify({ ranked: { max_per_submit: 50 } }) };
    const a = await app(env);
    const [server, admin, player] = [await ws(a, token('server')), await ws(a, token('admin')), await ws(a, token('player', '601'))];
    const events = await Promise.all(Array.from({ length: 5 }, (_, i) => outcome((i % 2 ? admin : server).request('submit', { user_id: 600, score: 1, game_mode: 'ranked' }))));
    expect(events).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    // Score caps still apply to trusted tokens.
    expect(await outcome(server.request('submit', { user_id: 600, score: 51, game_mode: 'ranked' }))).toBe('bad_request');
    expect(await outcome(player.request('submit', { user_id: 601, score: 1, game_mode: 'ranked' }))).toBe('ok');
    expect(await outcome(player.request('submit', { user_id: 601, score: 1, game_mode: 'ranked' }))).toBe('rate_limited');

    const all = await app({ ...env, SUBMIT_RATE_APPLIES_TO: 'all' });
    const strict = await ws(all, token('server'));
    expect(await outcome(strict.request('submit', { user_id: 602, score: 1, game_mode: 'ranked' }))).toBe('ok');
    expect(await outcome(strict.request('submit', { user_id: 602, score: 1, game_mode: 'ranked' }))).toBe('rate_limited');
  });
});

describe('LIMITS_WHEN_REDIS_DOWN', () => {
  const redisPort = () => Number(new URL(stores.redisUrl).port || 6379);
  const count = async (c: { get(): Promise<{ values: { value: number }[] }> }) => (await c.get()).values.reduce((n, v) => n + v.value, 0);

  it('closed: refuses submits needing the shared limits with unavailable while Redis is cut, counts them, and still answers retries', async () => {
    const proxy = await TcpProxy.start(redisPort());
    try {
      const a = await app({ REDIS_URL: proxy.url, LIMITS_WHEN_REDIS_DOWN: 'closed', SUBMIT_RATE_PER_USER: '10', SUBMIT_BURST_PER_USER: '10' });
      const [player, server] = [await ws(a, token('player', '700')), await ws(a, token('server'))];
      expect((await player.request('submit', { user_id: 700, score: 5, game_mode: 'ranked', submission_id: 'r-1' })).total_score).toBe(5);
      proxy.cut();
      const refused = await failure(player.request('submit', { user_id: 700, score: 5, game_mode: 'ranked', submission_id: 'r-2' }));
      expect(refused.code).toBe('unavailable');
      expect(refused.message).toContain('LIMITS_WHEN_REDIS_DOWN=closed');
      expect(await count(a.metrics.limitsRefused)).toBe(1);
      expect(await player.request('submit', { user_id: 700, score: 5, game_mode: 'ranked', submission_id: 'r-1' })).toMatchObject({ duplicate: true, total_score: 5 });
      // A server token needs no shared limit here (no bucket, no per-minute cap): it commits.
      expect(await outcome(server.request('submit', { user_id: 701, score: 5, game_mode: 'ranked' }))).toBe('ok');
      expect(await sessionsOf(stores, 700)).toEqual([[5, 'ranked']]);
      proxy.heal();
      await new Promise((r) => setTimeout(r, 300)); // ioredis reconnects within its retry delay
      let last = '';
      for (let i = 0; i < 40 && last !== 'ok'; i++) {
        last = await outcome(player.request('submit', { user_id: 700, score: 5, game_mode: 'ranked', submission_id: 'r-2' }));
        if (last !== 'ok') await new Promise((r) => setTimeout(r, 100));
      }
      expect(last).toBe('ok');
      expect(await count(a.metrics.limitsUnenforced)).toBe(0);
    } finally {
      proxy.heal();
    }
  });

  it('open (the default): lets them through without the limits while Redis is cut, and counts them', async () => {
    const proxy = await TcpProxy.start(redisPort());
    try {
      const a = await app({ REDIS_URL: proxy.url, SUBMIT_RATE_PER_USER: '0.001', SUBMIT_BURST_PER_USER: '1' });
      const player = await ws(a, token('player', '710'));
      expect(await outcome(player.request('submit', { user_id: 710, score: 1, game_mode: 'ranked' }))).toBe('ok');
      proxy.cut();
      expect(await outcome(player.request('submit', { user_id: 710, score: 1, game_mode: 'ranked' }))).toBe('ok');
      expect(await count(a.metrics.limitsUnenforced)).toBe(1);
      expect(await count(a.metrics.limitsRefused)).toBe(0);
    } finally {
      proxy.heal();
    }
  });
});
