/**
 * The JWT rules end to end: which tokens open a socket (in the query or in Sec-WebSocket-Protocol),
 * who may submit for whom over both transports, audience and issuer, RS256/ES256 from a JWKS file,
 * and that a refused submit commits nothing.
 */
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBPROTOCOL, httpError, tokenSubprotocols } from '../protocol/index.ts';
import type { RunningApp } from '../server/app.ts';
import { signToken } from '../server/auth/jwt.ts';
import { Connection, type WebSocketCtor } from '../client/sdk/connection.ts';
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
/** A validly signed token whose payload is exactly `json` (to send what JSON.stringify cannot). */
function validRaw(json: string): string {
  const input = `${seg({ alg: 'HS256', typ: 'JWT' })}.${Buffer.from(json).toString('base64url')}`;
  return `${input}.${hmac('sha256', TEST_SECRET, input)}`;
}

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
  // Issue 12, item 6: each of these was accepted.
  ['with nbf an hour ahead', () => valid({ sub: 'x', role: 'server', nbf: nowS() + 3600 })],
  ['with iat a year ahead', () => valid({ sub: 'ops', role: 'admin', iat: nowS() + 365 * 86_400 })],
  ['with a foreign aud (no JWT_AUDIENCE here)', () => valid({ sub: 'x', role: 'server', aud: 'chat-service' })],
  ['with an unknown crit header', () => hs256({ alg: 'HS256', typ: 'JWT', crit: ['x-custom'] }, { sub: 'x', role: 'server', 'x-custom': 1 })],
  ['with duplicate role keys (the last one admin)', () => validRaw(`{"sub":"10","role":"player","exp":${nowS() + 600},"role":"admin"}`)],
  ['player without exp (never expires)', () => valid({ sub: '10', role: 'player' })],
  ['player living 8 days (over JWT_MAX_PLAYER_TTL_S)', () => valid({ sub: '10', role: 'player', iat: nowS(), exp: nowS() + 8 * 86_400 })],
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

type Upgrade = { status: number; body: unknown } | { open: true; protocol: string; headers: Record<string, string | string[] | undefined> };

/** Attempts an upgrade at `path` offering `protocols`; shows the refusal's status or the accepting response's headers. */
function upgradeRaw(port: number, path: string, protocols?: string[]): Promise<Upgrade> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocols);
    let headers: Record<string, string | string[] | undefined> = {};
    ws.once('upgrade', (res) => (headers = res.headers));
    ws.once('open', () => {
      ws.close();
      resolve({ open: true, protocol: ws.protocol, headers });
    });
    ws.once('unexpected-response', (req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
      });
    });
    ws.on('error', reject);
  });
}

describe('WebSocket upgrade', () => {
  it.each(BAD_TOKENS)('a token %s is refused with HTTP 401', async (_label, make) => {
    const r = await upgrade(make());
    expect(r).not.toBe('open');
    expect(r).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
  });

  it.each(BAD_TOKENS)('a token %s in Sec-WebSocket-Protocol is refused with HTTP 401', async (_label, make) => {
    expect(await upgradeRaw(app.port, '/ws', tokenSubprotocols(make()))).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
  });

  it.each<[string, () => string, RegExp]>([
    ['duplicate role keys', () => validRaw(`{"sub":"10","role":"player","exp":${nowS() + 600},"role":"admin"}`), /duplicate key "role"/],
    ['nbf ahead', () => valid({ sub: 'x', role: 'server', nbf: nowS() + 3600 }), /not valid yet/],
    ['iat ahead', () => valid({ sub: 'x', role: 'server', iat: nowS() + 3600 }), /issued in the future/],
    ['crit', () => hs256({ alg: 'HS256', crit: ['exp'] }, { sub: 'x', role: 'server' }), /crit/],
    ['player without exp', () => valid({ sub: '10', role: 'player' }), /must have exp/],
    ['player too long', () => valid({ sub: '10', role: 'player', iat: nowS(), exp: nowS() + 2 * 86_400 }), /JWT_MAX_PLAYER_TTL_S/],
  ])('the refusal says why (%s), over the socket and over HTTP', async (_label, make, why) => {
    const tok = make();
    const ws = await upgradeRaw(app.port, '/ws', tokenSubprotocols(tok));
    expect(ws).toMatchObject({ status: 401, body: { error: { code: 'unauthorized', message: expect.stringMatching(why) } } });
    const h = await http(app.port, 'POST', '/api/leaderboard/submit', { body: { user_id: 30, score: 1, game_mode: 'ranked' }, token: tok });
    expect(h).toMatchObject({ status: 401, body: { error: { code: 'unauthorized', message: expect.stringMatching(why) } } });
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

describe('token in Sec-WebSocket-Protocol', () => {
  it('opens the socket and the answer names leaderboard.v1, never the token', async () => {
    const tok = token('server', 'gs-proto');
    for (const offered of [tokenSubprotocols(tok), [...tokenSubprotocols(tok)].reverse()]) {
      const r = await upgradeRaw(app.port, '/ws', offered);
      expect(r).toMatchObject({ open: true, protocol: SUBPROTOCOL });
      if ('open' in r) {
        expect(r.headers['sec-websocket-protocol']).toBe(SUBPROTOCOL);
        expect(JSON.stringify(r.headers)).not.toContain(tok.split('.')[2]);
      }
    }
  });

  it('an anonymous socket may offer leaderboard.v1 alone, or nothing', async () => {
    expect(await upgradeRaw(app.port, '/ws', [SUBPROTOCOL])).toMatchObject({ open: true, protocol: SUBPROTOCOL });
    expect(await upgradeRaw(app.port, '/ws')).toMatchObject({ open: true, protocol: '' });
  });

  it.each<[string, () => [string, string[]], RegExp]>([
    ['a bearer subprotocol without leaderboard.v1', () => ['/ws', [`bearer.${token('server')}`]], /must be offered with leaderboard\.v1/],
    ['the token in the query and in the header', () => [`/ws?token=${token('server')}`, tokenSubprotocols(token('server'))], /both in the query/],
    ['two bearer subprotocols', () => ['/ws', [...tokenSubprotocols(token('server')), `bearer.${token('admin')}`]], /more than one bearer/],
    ['an empty bearer', () => ['/ws', [SUBPROTOCOL, 'bearer.']], /malformed token/],
  ])('refuses %s with 401', async (_label, make, why) => {
    const [path, protocols] = make();
    expect(await upgradeRaw(app.port, path, protocols)).toMatchObject({ status: 401, body: { error: { code: 'unauthorized', message: expect.stringMatching(why) } } });
  });

  it('the SDK sends it that way by default and submits; the query form still works', async () => {
    const viaProtocol = await connect(token('player', '14'));
    expect(await viaProtocol.request('submit', { user_id: 14, score: 9, game_mode: 'ranked' })).toMatchObject({ user_id: 14, total_score: 9 });
    const viaQuery = await Connection.open(`ws://127.0.0.1:${app.port}/ws`, { token: token('player', '14'), tokenIn: 'query', WebSocket: WebSocket as unknown as WebSocketCtor });
    open.push(viaQuery);
    expect(await viaQuery.request('submit', { user_id: 14, score: 1, game_mode: 'ranked' })).toMatchObject({ user_id: 14, total_score: 10 });
    await expect(viaQuery.request('submit', { user_id: 15, score: 1, game_mode: 'ranked' })).rejects.toMatchObject({ code: 'forbidden' });
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
      expect(users.map((u) => u.id)).toEqual(['1', '10', '12', '13', '14', '31', '33']);
      const sessions = await sql`SELECT user_id::text AS id, score::int FROM game_sessions ORDER BY game_sessions.id`;
      expect(sessions.map((s) => ({ ...s }))).toEqual([
        { id: '1', score: 100 },
        { id: '10', score: 50 },
        { id: '12', score: 30 },
        { id: '13', score: 20 },
        { id: '14', score: 9 },
        { id: '14', score: 1 },
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

describe('JWT_AUDIENCE and JWT_ISSUER', () => {
  it('tokens must name the audience and come from the issuer, over both transports', async () => {
    const strict = await startTestApp(stores, { JWT_AUDIENCE: 'leaderboard', JWT_ISSUER: 'https://id.example' });
    try {
      const base = { sub: 'gs', role: 'server' };
      const good = [
        valid({ ...base, aud: 'leaderboard', iss: 'https://id.example' }),
        valid({ ...base, aud: ['chat', 'leaderboard'], iss: 'https://id.example' }),
      ];
      const bad: [string, RegExp][] = [
        [valid({ ...base, aud: 'chat', iss: 'https://id.example' }), /audience/],
        [valid({ ...base, iss: 'https://id.example' }), /audience/],
        [valid({ ...base, aud: 'leaderboard', iss: 'https://evil.example' }), /issuer/],
        [valid({ ...base, aud: 'leaderboard' }), /issuer/],
      ];
      for (const tok of good) {
        expect(await upgradeRaw(strict.port, '/ws', tokenSubprotocols(tok))).toMatchObject({ open: true });
        expect((await http(strict.port, 'POST', '/api/leaderboard/submit', { body: { user_id: 2, score: 1, game_mode: 'ranked' }, token: tok })).status).toBe(200);
      }
      for (const [tok, why] of bad) {
        expect(await upgradeRaw(strict.port, '/ws', tokenSubprotocols(tok))).toMatchObject({ status: 401, body: { error: { message: expect.stringMatching(why) } } });
        const h = await http(strict.port, 'POST', '/api/leaderboard/submit', { body: { user_id: 2, score: 1, game_mode: 'ranked' }, token: tok });
        expect(h).toMatchObject({ status: 401, body: { error: { code: 'unauthorized', message: expect.stringMatching(why) } } });
      }
    } finally {
      await strict.close();
    }
  });
});

describe('RS256 and ES256 from JWT_JWKS_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lb-jwks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const es256 = (claims: object) => {
    const input = `${seg({ alg: 'ES256', typ: 'JWT', kid: 'studio-ec' })}.${seg(claims)}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };
  const rs256 = (claims: object) => {
    const input = `${seg({ alg: 'RS256', typ: 'JWT', kid: 'studio-rsa' })}.${seg(claims)}`;
    return `${input}.${sign('sha256', Buffer.from(input), rsa.privateKey).toString('base64url')}`;
  };

  it('verifies tokens of an identity service by kid, beside HS256 ones', async () => {
    const file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify({
      keys: [
        { ...ec.publicKey.export({ format: 'jwk' }), kid: 'studio-ec', use: 'sig' },
        { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'studio-rsa', alg: 'RS256' },
      ],
    }));
    const a = await startTestApp(stores, { JWT_JWKS_FILE: file });
    try {
      const c = await connectWs(a.port, es256({ sub: '40', role: 'player', iat: nowS(), exp: nowS() + 600 }));
      open.push(c);
      expect(await c.request('submit', { user_id: 40, score: 3, game_mode: 'ranked' })).toMatchObject({ user_id: 40, total_score: 3 });
      await expect(c.request('submit', { user_id: 41, score: 3, game_mode: 'ranked' })).rejects.toMatchObject({ code: 'forbidden' });
      const h = await http(a.port, 'POST', '/api/leaderboard/submit', { body: { user_id: 41, score: 4, game_mode: 'ranked' }, token: rs256({ sub: 'matchmaker', role: 'server' }) });
      expect(h).toMatchObject({ status: 200, body: { user_id: 41, total_score: 4 } });
      expect((await http(a.port, 'POST', '/api/leaderboard/submit', { body: { user_id: 41, score: 1, game_mode: 'ranked' }, token: token('server') })).status).toBe(200);
      // A signature by a key the file does not hold, under its kid, is refused on both transports.
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const input = `${seg({ alg: 'ES256', kid: 'studio-ec' })}.${seg({ sub: 'x', role: 'admin' })}`;
      const forged = `${input}.${sign('sha256', Buffer.from(input), { key: other.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
      expect(await upgradeRaw(a.port, '/ws', tokenSubprotocols(forged))).toMatchObject({ status: 401 });
      expect((await http(a.port, 'POST', '/api/leaderboard/submit', { body: { user_id: 42, score: 1, game_mode: 'ranked' }, token: forged })).status).toBe(401);
    } finally {
      await a.close();
    }
  });

  it('a JWKS file that cannot be used stops the start with a clear error', async () => {
    const file = join(dir, 'private.json');
    writeFileSync(file, JSON.stringify({ keys: [{ ...ec.privateKey.export({ format: 'jwk' }), kid: 'oops' }] }));
    await expect(startTestApp(stores, { JWT_JWKS_FILE: file })).rejects.toThrow(/JWT_JWKS_FILE: .*private key material/);
    await expect(startTestApp(stores, { JWT_JWKS_FILE: join(dir, 'missing.json') })).rejects.toThrow(/JWT_JWKS_FILE: .*ENOENT/);
  });
});
