/**
 * Abuse limits, each with a small configured value so it is reached quickly: the client gets
 * `rate_limited` (HTTP 429 with Retry-After) or `bad_request` for a forged score, never a silent
 * drop, and a refused submit commits nothing.
 */
import { connect as tcpConnect } from 'node:net';
import postgres from 'postgres';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../server/app.ts';
import type { Connection } from '../client/sdk/connection.ts';
import { http } from './support/http.ts';
import { connectWs, eventually, startTestApp, token } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

let stores: FreshStores;
const apps: RunningApp[] = [];
const conns: Connection[] = [];

async function app(extra: Record<string, string>): Promise<RunningApp> {
  const a = await startTestApp(stores, extra);
  apps.push(a);
  return a;
}
async function ws(a: RunningApp, tok?: string): Promise<Connection> {
  const c = await connectWs(a.port, tok);
  conns.push(c);
  return c;
}
const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code: string }) => e.code);

/** The HTTP status of a WebSocket upgrade attempt (101 when it opened). */
function upgradeStatus(port: number, tok?: string, headers: Record<string, string> = {}): Promise<{ status: number; retryAfter?: string; socket?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const s = new WebSocket(`ws://127.0.0.1:${port}/ws${tok ? `?token=${tok}` : ''}`, { headers });
    s.on('open', () => resolve({ status: 101, socket: s }));
    s.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined }));
    s.on('error', (e) => reject(e));
  });
}

beforeAll(async () => {
  stores = await freshStores();
});
afterAll(async () => {
  for (const c of conns) c.close();
  for (const a of apps) await a.close();
  await stores?.cleanup();
});

describe('per-user submit rate, shared by all instances', () => {
  it('allows the burst, then answers rate_limited with retry_after_ms on either instance and commits nothing', async () => {
    const env = { SUBMIT_RATE_PER_USER: '0.5', SUBMIT_BURST_PER_USER: '3' };
    const [a, b] = [await app(env), await app(env)];
    // Player tokens: trusted server tokens skip the bucket by default (test/submit-limits.test.ts).
    const [wa, wb] = [await ws(a, token('player', '500')), await ws(b, token('player', '500'))];
    const s = (w: Connection, score: number) => w.request('submit', { user_id: 500, score, game_mode: 'ranked' });
    await s(wa, 1);
    await s(wb, 1);
    await s(wa, 1);
    const err = await s(wb, 1000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'rate_limited' });
    expect((err as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    const h = await http(a.port, 'POST', '/api/leaderboard/submit', { body: { user_id: 500, score: 1000, game_mode: 'ranked' }, token: token('player', '500') });
    expect(h.status).toBe(429);
    expect(Number(h.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await wa.request('rank', { user_id: 500 })).total_score).toBe(3);
    // Other users are not affected.
    const other = await ws(a, token('player', '501'));
    expect((await other.request('submit', { user_id: 501, score: 9, game_mode: 'ranked' })).total_score).toBe(9);
  });
});

describe('score sanity per game mode', () => {
  it('refuses a score over the per-submit or per-minute cap with bad_request, and logs nothing into the board', async () => {
    const a = await app({ SUBMIT_RATE_PER_USER: '0', SCORE_LIMITS: JSON.stringify({ ranked: { max_per_submit: 1000, max_per_minute: 1500 } }) });
    const w = await ws(a, token('server'));
    const over = await w.request('submit', { user_id: 600, score: 1001, game_mode: 'ranked' }).catch((e: unknown) => e);
    expect(over).toMatchObject({ code: 'bad_request' });
    expect((over as Error).message).toContain('maximum of 1000 per submission');
    await w.request('submit', { user_id: 600, score: 800, game_mode: 'ranked' });
    const minute = await w.request('submit', { user_id: 600, score: 800, game_mode: 'ranked' }).catch((e: unknown) => e);
    expect(minute).toMatchObject({ code: 'bad_request' });
    expect((minute as Error).message).toContain('per minute');
    expect((await w.request('submit', { user_id: 600, score: 5000, game_mode: 'casual' })).total_score).toBe(5800);
    const sql = postgres(stores.databaseUrl, { max: 1 });
    try {
      const rows = await sql`SELECT score, game_mode FROM game_sessions WHERE user_id = 600 ORDER BY id`;
      expect(rows.map((r) => [Number(r.score), r.game_mode])).toEqual([
        [800, 'ranked'],
        [5000, 'casual'],
      ]);
    } finally {
      await sql.end();
    }
  });
});

describe('per-socket request rate', () => {
  it('limits player and anonymous sockets, not server sockets, and closes an abuser with 1008', async () => {
    const a = await app({ WS_RATE_PER_SOCKET: '1', WS_BURST_PER_SOCKET: '5', WS_ABUSE_CLOSE_AFTER: '20' });
    const anon = await ws(a);
    const burst = await Promise.all(Array.from({ length: 8 }, () => code(anon.request('ping', {}))));
    expect(burst.filter((c) => c === 'ok')).toHaveLength(5);
    expect(burst.filter((c) => c === 'rate_limited')).toHaveLength(3);
    const server = await ws(a, token('server'));
    const fast = await Promise.all(Array.from({ length: 50 }, () => code(server.request('ping', {}))));
    expect(fast.every((c) => c === 'ok')).toBe(true);

    const raw = new WebSocket(`ws://127.0.0.1:${a.port}/ws`);
    await new Promise((r) => raw.once('open', r));
    const closed = new Promise<number>((r) => raw.once('close', (c) => r(c)));
    const ping = Buffer.from([0x81, 0xa2, 0x6f, 0x70, 0xa4, 0x70, 0x69, 0x6e, 0x67]); // {op: 'ping'}
    for (let i = 0; i < 40; i++) raw.send(ping);
    expect(await closed).toBe(1008);
  });

  it('caps subscriptions per socket with rate_limited', async () => {
    const a = await app({ WS_MAX_SUBSCRIPTIONS: '2' });
    const c = await ws(a);
    await c.request('subscribe', { board: 'global' });
    await c.request('subscribe', { board: 'mode:ranked' });
    await c.request('subscribe', { board: 'mode:ranked', limit: 5 }); // replacing is not a new one
    expect(await code(c.request('subscribe', { board: 'mode:casual' }))).toBe('rate_limited');
  });
});

describe('connection limits', () => {
  it('refuses sockets past the per-address count with 429, except for server tokens', async () => {
    const a = await app({ MAX_CONNECTIONS_PER_IP: '2', UPGRADE_RATE_PER_IP: '0' });
    const open = [await upgradeStatus(a.port), await upgradeStatus(a.port)];
    expect(open.map((o) => o.status)).toEqual([101, 101]);
    expect((await upgradeStatus(a.port)).status).toBe(429);
    const trusted = await upgradeStatus(a.port, token('server'));
    expect(trusted.status).toBe(101);
    for (const o of [...open, trusted]) o.socket?.close();
    await eventually('slots freed', async () => {
      const r = await upgradeStatus(a.port);
      r.socket?.close();
      return r.status === 101;
    });
  });

  it('limits the upgrade rate per address with Retry-After, and per-address counts follow X-Forwarded-For only when trusted', async () => {
    const a = await app({ UPGRADE_RATE_PER_IP: '0.2', UPGRADE_BURST_PER_IP: '2', TRUST_PROXY: 'true' });
    const xff = (ip: string) => ({ 'x-forwarded-for': `6.6.6.6, ${ip}` });
    const r = [await upgradeStatus(a.port, undefined, xff('10.0.0.1')), await upgradeStatus(a.port, undefined, xff('10.0.0.1'))];
    const third = await upgradeStatus(a.port, undefined, xff('10.0.0.1'));
    expect(third.status).toBe(429);
    expect(Number(third.retryAfter)).toBeGreaterThan(0);
    const other = await upgradeStatus(a.port, undefined, xff('10.0.0.2'));
    expect(other.status).toBe(101);
    for (const o of [...r, other]) o.socket?.close();
  });

  it('refuses sockets past the instance limit with 503', async () => {
    const a = await app({ MAX_SOCKETS: '1' });
    const first = await upgradeStatus(a.port, token('server'));
    expect((await upgradeStatus(a.port, token('server'))).status).toBe(503);
    first.socket?.close();
  });
});

describe('HTTP limits', () => {
  it('answers 429, before verifying, an address whose upgrades keep failing authentication; valid tokens elsewhere unaffected', async () => {
    const a = await app({ UPGRADE_RATE_PER_IP: '0.5', UPGRADE_BURST_PER_IP: '3', TRUST_PROXY: 'true' });
    const xff = (ip: string) => ({ 'x-forwarded-for': ip });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await upgradeStatus(a.port, 'not.a.token', xff('10.0.0.9'))).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429]);
    // Another address with a valid token still opens.
    const ok = await upgradeStatus(a.port, token('player', '5'), xff('10.0.0.10'));
    expect(ok.status).toBe(101);
    ok.socket?.close();
  });

  it('limits requests per address with 429 and Retry-After', async () => {
    const a = await app({ HTTP_RATE_PER_IP: '0.5', HTTP_BURST_PER_IP: '3' });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await http(a.port, 'GET', '/api/leaderboard/top'));
    expect(statuses.map((s) => s.status)).toEqual([200, 200, 200, 429]);
    expect(statuses[3]!.body).toMatchObject({ error: { code: 'rate_limited' } });
    expect(Number(statuses[3]!.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('cuts off a body that trickles in too slowly', async () => {
    const a = await app({ HTTP_BODY_TIMEOUT_MS: '300' });
    const sock = tcpConnect(a.port, '127.0.0.1');
    let reply = '';
    sock.on('data', (d) => (reply += d.toString()));
    const ended = new Promise((r) => sock.once('close', r));
    sock.write(`POST /api/leaderboard/submit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user_id":`);
    await ended;
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect(reply).toContain('not received within 300 ms');
  });

  it('sends CORS headers only to configured origins, and answers preflights', async () => {
    const a = await app({ CORS_ORIGINS: 'https://game.example' });
    const ok = await fetch(`http://127.0.0.1:${a.port}/api/leaderboard/top`, { headers: { origin: 'https://game.example' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://game.example');
    const other = await fetch(`http://127.0.0.1:${a.port}/api/leaderboard/top`, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await fetch(`http://127.0.0.1:${a.port}/api/leaderboard/submit`, {
      method: 'OPTIONS',
      headers: { origin: 'https://game.example', 'access-control-request-method': 'POST' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(pre.headers.get('access-control-allow-headers')).toContain('authorization');
  });
});
