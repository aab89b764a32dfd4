/**
 * The JWT rules end to end: which tokens open a socket, who may submit for whom over both
 * transports, and that a refused submit commits nothing.
 */
import { createHmac } from 'node:crypto';
import postgres from 'postgres';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpError } from '../protocol/index.ts';
import type { RunningApp } from '../server/app.ts';
import { signToken } from '../server/auth/jwt.ts';
import type { Connection } from '../client/sdk/connection.ts';
import { http } from './support/http.ts';
import { TEST_SECRET, connectWs, startTestApp, token } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

let stores: FreshStores;
let app: RunningApp;
const open: Connection[] = [];

beforeAll(async () => {
  stores = await freshStores();
  app = await startTestApp(stores);
  const seed = await connectWs(app.port, token('server'));
  open.push(seed);
  await seed.request('submit', { user_id: 1, score: 100, game_mode: 'ranked' });
});

afterAll(async () => {
  for (const c of open) c.close();
  await app?.close();
  await stores?.cleanup();
});

async function connect(tok?: string): Promise<Connection> {
  const c = await connectWs(app.port, tok);
  open.push(c);
  return c;
}

const nowS = () => Math.floor(Date.now() / 1000);
const seg = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const hmac = (alg: 'sha256' | 'sha512', secret: string, input: string) => createHmac(alg, secret).update(input).digest('base64url');

/** A token with any header and claims, signed by `sign` over `header.payload`. */
function craft(header: object, claims: object, sign: (input: string) => string): string {
  const input = `${seg(header)}.${seg(claims)}`;
  return `${input}.${sign(input)}`;
}
const hs256 = (header: object, claims: object) => craft(header, claims, (i) => hmac('sha256', TEST_SECRET, i));
const valid = (claims: object) => hs256({ alg: 'HS256', typ: 'JWT' }, claims);

function tampered(): string {
  const [h, , s] = token('player', '5').split('.');
  return `${h}.${seg({ sub: '6', role: 'player' })}.${s}`;
}

function notJson(): string {
  const input = `${seg({ alg: 'HS256' })}.${Buffer.from('nope').toString('base64url')}`;
  return `${input}.${hmac('sha256', TEST_SECRET, input)}`;
}

const BAD_TOKENS: [string, () => string][] = [
  ['signed with another secret', () => signToken({ sub: 'x', role: 'server' }, 'another-secret-0123456789')],
  ['payload swapped under a valid signature', tampered],
  ['alg none with empty signature', () => craft({ alg: 'none', typ: 'JWT' }, { sub: 'x', role: 'admin' }, () => '')],
  ['alg none with an HS256 signature', () => hs256({ alg: 'none' }, { sub: 'x', role: 'admin' })],
  ['alg "hs256" (wrong case)', () => hs256({ alg: 'hs256' }, { sub: 'x', role: 'admin' })],
  ['no alg', () => hs256({ typ: 'JWT' }, { sub: 'x', role: 'admin' })],
  ['HS512 header and signature', () => craft({ alg: 'HS512' }, { sub: 'x', role: 'server' }, (i) => hmac('sha512', TEST_SECRET, i))],
  ['RS256 header with an HMAC signature', () => hs256({ alg: 'RS256' }, { sub: 'x', role: 'server' })],
  ['expired', () => valid({ sub: 'x', role: 'server', exp: nowS() - 60 })],
  ['exp as a string', () => valid({ sub: 'x', role: 'server', exp: String(nowS() + 3600) })],
  ['garbage', () => 'garbage'],
  ['three garbage segments', () => 'a.b.c'],
  ['two segments', () => token('server').split('.').slice(0, 2).join('.')],
  ['four segments', () => `${token('server')}.x`],
  ['with a valid signature over a payload that is not JSON', notJson],
  ['player sub not a number', () => token('player', 'abc')],
  ['player sub 0', () => token('player', '0')],
  ['player sub with leading zero', () => token('player', '07')],
  ['player sub negative', () => token('player', '-5')],
  ['unknown role', () => valid({ sub: 'x', role: 'superuser' })],
  ['no role', () => valid({ sub: 'x' })],
  ['no sub', () => valid({ role: 'server' })],
  ['numeric sub', () => valid({ sub: 5, role: 'player' })],
];

/** Attempts an upgrade with the raw `ws` client so that the refusal's HTTP status is visible. */
function upgrade(tok: string): Promise<{ status: number; body: unknown } | 'open'> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${app.port}/ws?token=${encodeURIComponent(tok)}`);
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        req.destroy();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // leave the raw text: the assertion below shows it
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    ws.on('error', reject); // once settled, later errors of the destroyed request change nothing
  });
}

describe('WebSocket upgrade', () => {
  it.each(BAD_TOKENS)('a token %s is refused with HTTP 401', async (_label, make) => {
    const r = await upgrade(make());
    expect(r).not.toBe('open');
    expect(r).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
  });

  it.each([
    ['server', () => token('server')],
    ['admin', () => token('admin')],
    ['player', () => token('player', '10')],
    ['player with a future exp', () => valid({ sub: '10', role: 'player', exp: nowS() + 3600 })],
  ])('a valid %s token opens the socket', async (_label, make) => {
    expect(await upgrade(make())).toBe('open');
  });
});

describe('WebSocket submit rules', () => {
  it('without a token, reads work and submit is unauthorized', async () => {
    const anon = await connect();
    expect(await anon.request('top', {})).toMatchObject({ board: 'global', entries: [{ user_id: 1, total_score: 100 }] });
    expect(await anon.request('rank', { user_id: 1 })).toMatchObject({ rank: 1, total_players: 1 });
    await expect(anon.request('submit', { user_id: 20, score: 5, game_mode: 'ranked' })).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(anon.request('rank', { user_id: 20 })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('a player submits for its own user_id only', async () => {
    const player = await connect(token('player', '10'));
    expect(await player.request('submit', { user_id: 10, score: 50, game_mode: 'ranked' })).toMatchObject({
      user_id: 10,
      total_score: 50,
      games_played: 1,
      duplicate: false,
    });
    await expect(player.request('submit', { user_id: 11, score: 5, game_mode: 'ranked' })).rejects.toMatchObject({ code: 'forbidden' });
    // A player may not touch another user's totals even through an existing user.
    await expect(player.request('submit', { user_id: 1, score: 5, game_mode: 'ranked' })).rejects.toMatchObject({ code: 'forbidden' });
    expect(await player.request('rank', { user_id: 1 })).toMatchObject({ total_score: 100, games_played: 1 });
    await expect(player.request('rank', { user_id: 11 })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('server and admin tokens submit for anyone', async () => {
    const server = await connect(token('server', 'game-host-7'));
    const admin = await connect(token('admin', 'ops'));
    expect(await server.request('submit', { user_id: 12, score: 30, game_mode: 'ranked' })).toMatchObject({ user_id: 12, total_score: 30 });
    expect(await admin.request('submit', { user_id: 13, score: 20, game_mode: 'casual' })).toMatchObject({ user_id: 13, total_score: 20 });
  });
});

describe('HTTP submit rules', () => {
  const body = (user_id: number) => JSON.stringify({ user_id, score: 7, game_mode: 'ranked' });
  async function post(user_id: number, authorization?: string): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (authorization !== undefined) headers.authorization = authorization;
    const res = await fetch(`http://127.0.0.1:${app.port}/api/leaderboard/submit`, { method: 'POST', headers, body: body(user_id) });
    return { status: res.status, body: await res.json() };
  }
  function expectError(res: { status: number; body: unknown }, status: number, code: string): void {
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(httpError.safeParse(res.body).success, JSON.stringify(res.body)).toBe(true);
    expect(res.body).toMatchObject({ error: { code } });
  }

  it('no Authorization header is 401 unauthorized', async () => {
    expectError(await post(30), 401, 'unauthorized');
  });

  it.each([
    ['Basic', 'Basic dXNlcjpwYXNz'],
    ['Bearer alone', 'Bearer'],
    ['Bearer with two words', `Bearer ${token('server')} extra`],
    ['the token without a scheme', token('server')],
    ['Token scheme', `Token ${token('server')}`],
  ])('a malformed header (%s) is 401', async (_label, header) => {
    expectError(await post(30, header), 401, 'unauthorized');
  });

  it.each(BAD_TOKENS)('a token %s is 401', async (_label, make) => {
    expectError(await post(30, `Bearer ${make()}`), 401, 'unauthorized');
  });

  it('a player is 403 for another user and 200 for itself', async () => {
    const player = token('player', '31');
    expectError(await post(32, `Bearer ${player}`), 403, 'forbidden');
    const ok = await post(31, `Bearer ${player}`);
    expect(ok).toMatchObject({ status: 200, body: { success: true, user_id: 31, total_score: 7, duplicate: false } });
  });

  it('an admin submits for anyone; reads need no token', async () => {
    const ok = await post(33, `Bearer ${token('admin')}`);
    expect(ok).toMatchObject({ status: 200, body: { success: true, user_id: 33 } });
    const top = await http(app.port, 'GET', '/api/leaderboard/top?limit=100');
    expect(top.status).toBe(200);
  });
});

describe('nothing refused was committed', () => {
  it('only the allowed submits are in the database', async () => {
    const sql = postgres(stores.databaseUrl, { max: 1, onnotice: () => undefined });
    try {
      const users = await sql`SELECT user_id::text AS id FROM users ORDER BY user_id`;
      expect(users.map((u) => u.id)).toEqual(['1', '10', '12', '13', '31', '33']);
      const sessions = await sql`SELECT user_id::text AS id, score::int FROM game_sessions ORDER BY game_sessions.id`;
      expect(sessions.map((s) => ({ ...s }))).toEqual([
        { id: '1', score: 100 },
        { id: '10', score: 50 },
        { id: '12', score: 30 },
        { id: '13', score: 20 },
        { id: '31', score: 7 },
        { id: '33', score: 7 },
      ]);
      const totals = await sql`SELECT total_score::int, games_played FROM leaderboard WHERE board = 'global' AND user_id = 1`;
      expect(totals.map((t) => ({ ...t }))).toEqual([{ total_score: 100, games_played: 1 }]);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});

describe('secret rotation (JWT_PREVIOUS_SECRETS)', () => {
  const OLD = 'the-old-secret-being-rotated-out';
  it('accepts tokens signed with a previous secret only while it is listed', async () => {
    const rotating = await startTestApp(stores, { JWT_PREVIOUS_SECRETS: OLD });
    const rotated = await startTestApp(stores);
    try {
      const oldToken = signToken({ sub: 'gs', role: 'server' }, OLD);
      const c = await connectWs(rotating.port, oldToken);
      open.push(c);
      expect((await c.request('submit', { user_id: 2, score: 5, game_mode: 'ranked' })).total_score).toBe(5);
      const h = await http(rotating.port, 'POST', '/api/leaderboard/submit', { body: { user_id: 2, score: 5, game_mode: 'ranked' }, token: oldToken });
      expect(h.status).toBe(200);
      // New tokens (current secret) keep working during the rotation.
      expect((await http(rotating.port, 'POST', '/api/leaderboard/submit', { body: { user_id: 2, score: 1, game_mode: 'ranked' }, token: token('server') })).status).toBe(200);
      // Once the old secret is dropped from the list, its tokens are refused.
      expect((await http(rotated.port, 'POST', '/api/leaderboard/submit', { body: { user_id: 2, score: 5, game_mode: 'ranked' }, token: oldToken })).status).toBe(401);
    } finally {
      await rotating.close();
      await rotated.close();
    }
  });
});
