/**
 * The HTTP edge attacked from outside, against a real server process: malformed escapes in every
 * path and query parameter, random requests over raw TCP (methods, paths, escapes, headers,
 * bodies), pipelined requests, a flood of /health and rate limits on every route. The process
 * must stay up through all of it, never answer 500, never log a handler failure, and keep
 * answering correctly afterwards.
 */
import { connect, type Socket } from 'node:net';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBoard } from '../../server/cli/build-board.ts';
import { BOARD_DIST } from '../../server/static.ts';
import { http } from '../support/http.ts';
import { spawnServer, storeEnv, token, type ChildServer } from '../support/servers.ts';
import { freshStores, type FreshStores } from '../support/stores.ts';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const MAX_REQUESTS = 3000;
const MAX_MS = 15_000;

let stores: FreshStores;
let server: ChildServer;
let limited: ChildServer;

beforeAll(async () => {
  [stores] = await Promise.all([freshStores(), buildBoard({ quiet: true })]);
  const env = storeEnv(stores, { INDEX_CHECK_INTERVAL_MS: '3600000' });
  [server, limited] = await Promise.all([
    spawnServer(env),
    spawnServer({ ...env, HTTP_RATE_PER_IP: '5', HTTP_BURST_PER_IP: '5' }),
  ]);
  const submit = await http(server.port, 'POST', '/api/leaderboard/submit', {
    token: token('server'),
    body: { user_id: 7, score: 10, game_mode: 'calm', submission_id: 'seed-1' },
  });
  expect(submit.status).toBe(200);
}, 60_000);

afterAll(async () => {
  for (const s of [server, limited]) s?.process.kill('SIGTERM');
  await Promise.all([server?.exited, limited?.exited]);
  await stores?.cleanup();
});

function alive(s: ChildServer): boolean {
  return s.process.exitCode === null && s.process.signalCode === null;
}

/** Log lines of handler failures (level 50 = error, 60 = fatal) the server wrote. */
function errorLines(s: ChildServer): string[] {
  return s
    .output()
    .split('\n')
    .filter((l) => /"level":(50|60)/.test(l));
}

interface RawReply {
  statuses: number[];
  closed: boolean;
  bytes: number;
}

/** Sends raw bytes on a fresh connection and collects the status codes of what comes back. */
function raw(port: number, data: string | Buffer, waitMs = 300): Promise<RawReply> {
  return new Promise((resolve) => {
    const s: Socket = connect(port, '127.0.0.1');
    let text = '';
    let bytes = 0;
    let closed = false;
    s.on('data', (d: Buffer) => {
      bytes += d.length;
      // Headers only: bodies may hold anything, but a status line starts a line with HTTP/1.1.
      text += d.toString('latin1');
    });
    s.on('error', () => undefined); // a reset is one of the outcomes being collected
    s.on('close', () => (closed = true));
    s.on('connect', () => s.write(data));
    setTimeout(() => {
      s.destroy();
      const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
      resolve({ statuses, closed, bytes });
    }, waitMs);
  });
}

describe('malformed escapes', () => {
  it.each([
    '/api/leaderboard/rank/%E0',
    '/api/leaderboard/around/%E0',
    '/api/users/%ZZ/history',
    '/api/leaderboard/rank/%',
    '/api/leaderboard/top?board=%E0',
    '/api/leaderboard/top?%ZZ=1',
    '/api/leaderboard/ranks?user_ids=1,%C0%AF',
    '/api/leaderboard/page?after_total=%FF',
  ])('%s is bad_request and the server stays up', async (path) => {
    const r = await http(server.port, 'GET', path);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('bad_request');
    expect(alive(server)).toBe(true);
  });

  it('well-formed escapes still decode', async () => {
    const r = await http(server.port, 'GET', '/api/leaderboard/rank/%37?board=mode%3Acalm');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ user_id: 7, board: 'mode:calm', total_score: 10 });
  });
});

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'TRACE', 'CONNECT', 'FOO', 'get', ''];
const PATHS = [
  '/api/leaderboard/rank/',
  '/api/leaderboard/around/',
  '/api/users/',
  '/api/leaderboard/top',
  '/api/leaderboard/submit',
  '/api/leaderboard/page',
  '/api/leaderboard/ranks',
  '/health',
  '/metrics',
  '/openapi.json',
  '/',
  '/assets/',
  '/ws',
  '/index.html',
];
const piece = fc.oneof(
  fc.constantFrom('%', '%E0', '%ZZ', '%00', '%C0%AF', '%F0%9F%98', '%2F', '..', '//', '?', '&', '=', '+', '#', ';', '%25', '\u00e9', '\\'),
  fc.stringMatching(/^[A-Za-z0-9_:,.-]{0,12}$/),
  fc.integer({ min: -5, max: 99999 }).map(String),
);
const QUERY_NAMES = ['board', 'limit', 'radius', 'user_ids', 'after_total', 'after_user_id', 'offset', 'token'];
const query = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_NAMES), piece), piece), { maxLength: 5 }).map((q) => q.map(([k, v]) => `${k}=${v}`).join('&'));
// Mostly paths that reach a route (one segment where a route takes a parameter), some anything.
const path = fc.oneof(
  fc.tuple(fc.constantFrom(...PATHS), fc.array(piece, { maxLength: 2 }), fc.option(query)).map(([p, seg, q]) => p + seg.join('').replaceAll('/', '') + (q === null ? '' : '?' + q)),
  fc.tuple(fc.constantFrom(...PATHS), fc.array(piece, { maxLength: 6 }), fc.option(query)).map(([p, tail, q]) => p + tail.join('') + (q === null ? '' : '?' + q)),
);
const header = fc.oneof(
  fc.constant('authorization: Bearer not.a.token'),
  fc.constant(`authorization: Bearer ${token('server')}`),
  fc.constant('authorization: Basic Zm9vOmJhcg=='),
  fc.constant('content-type: application/json'),
  fc.constant('origin: http://evil.example'),
  fc.constant('x-forwarded-for: 1.2.3.4, ::1, %E0'),
  fc.constant('if-none-match: "x"'),
  fc.constant('accept-encoding: gzip'),
  fc.constant('transfer-encoding: chunked'),
  fc.tuple(fc.stringMatching(/^[a-z-]{1,12}$/), fc.string({ maxLength: 40 })).map(([k, v]) => `${k}: ${v.replace(/[\r\n]/g, '')}`),
);
const body = fc.oneof(
  fc.constant(''),
  fc.constant('{"user_id": 1, "score": 5, "game_mode": "calm", "submission_id": "x"}'),
  fc.constant('{"user_id": "%E0"}'),
  fc.constant('[1,2,3]'),
  fc.constant('{'),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 200 }),
);
const method = fc.oneof({ arbitrary: fc.constant('GET'), weight: 8 }, { arbitrary: fc.constant('POST'), weight: 2 }, { arbitrary: fc.constantFrom(...METHODS), weight: 2 });
const request = fc.tuple(method, path, fc.array(header, { maxLength: 4 }), body).map(([m, p, hs, b]) => {
  const lines = [`${m} ${p} HTTP/1.1`, 'host: 127.0.0.1', ...hs];
  if (b !== '' && !hs.some((h) => h.startsWith('transfer-encoding'))) lines.push(`content-length: ${Buffer.byteLength(b)}`);
  return lines.join('\r\n') + '\r\n\r\n' + b;
});

describe('random requests over raw TCP', () => {
  it('never end the process, never answer 500, never log a handler failure', async () => {
    const requests = fc.sample(request, { numRuns: MAX_REQUESTS, seed: SEED });
    const started = Date.now();
    const seen = new Map<number, number>();
    let sent = 0;
    // 16 connections at a time, each one request (some of them with garbage after it).
    for (let i = 0; i < requests.length && Date.now() - started < MAX_MS; i += 16) {
      const batch = requests.slice(i, i + 16);
      const replies = await Promise.all(batch.map((r) => raw(server.port, r, 150)));
      sent += batch.length;
      for (const r of replies) for (const s of r.statuses) seen.set(s, (seen.get(s) ?? 0) + 1);
      expect(alive(server), `server died after request batch ${i} (seed ${SEED})`).toBe(true);
    }
    console.info(`http fuzz: ${sent} requests (seed ${SEED}), statuses ${JSON.stringify(Object.fromEntries(seen))}`);
    expect(sent).toBeGreaterThan(500);
    expect(seen.get(500) ?? 0).toBe(0);
    expect(errorLines(server)).toEqual([]);
    // Still serving, and correctly.
    const h = await http(server.port, 'GET', '/health');
    expect(h.status).toBe(200);
    const r = await http(server.port, 'GET', '/api/leaderboard/rank/7');
    expect(r.body).toMatchObject({ user_id: 7, total_score: 10, rank: 1 });
  }, 60_000);
});

function largestAsset(): { url: string; size: number } {
  const dir = join(BOARD_DIST, 'assets');
  const files = readdirSync(dir).map((f) => ({ url: `/assets/${f}`, size: statSync(join(dir, f)).size }));
  files.sort((a, b) => b.size - a.size);
  return files[0]!;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

describe('pipelining', () => {
  it('4 connections x 1,000 pipelined GETs of the largest asset, read slowly, hold the server to a bounded buffer', async () => {
    const asset = largestAsset();
    expect(asset.size).toBeGreaterThan(50_000);
    const before = rssMb(server.process.pid!);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(server.process.pid!))), 50);
    const burst = `GET ${asset.url} HTTP/1.1\r\nhost: x\r\n\r\n`.repeat(1000);
    const conns = Array.from({ length: 4 }, () => {
      const s = connect(server.port, '127.0.0.1', () => s.write(burst));
      s.on('error', () => undefined);
      s.pause(); // a reader that does not keep up
      return s;
    });
    await new Promise((r) => setTimeout(r, 1500));
    for (const s of conns) s.resume();
    await new Promise((r) => setTimeout(r, 1000));
    clearInterval(sampler);
    for (const s of conns) s.destroy();
    console.info(`pipelined static: rss ${before.toFixed(0)} MB before, ${peak.toFixed(0)} MB at peak`);
    // Before the fix the server copied every response into the connection's buffer: +700 MB.
    expect(peak - before).toBeLessThan(100);
    expect(alive(server)).toBe(true);
  }, 30_000);

  it('pipelined requests to routes answered at once come back complete and in order', async () => {
    const paths = ['/', '/openapi.json', '/nope', '/', '/openapi.json', '/nope'];
    const r = await raw(server.port, paths.map((p) => `GET ${p} HTTP/1.1\r\nhost: x\r\n\r\n`).join(''), 500);
    expect(r.statuses).toEqual([200, 200, 404, 200, 200, 404]);
  });

  it('a request pipelined behind one that waits on a store closes the connection, and nothing else', async () => {
    // uWS refuses a request that arrives while the previous response is pending (see
    // server/http-exchange.ts). The shipped nginx never pipelines to its upstreams.
    const r = await raw(server.port, 'GET /api/leaderboard/top HTTP/1.1\r\nhost: x\r\n\r\n'.repeat(3), 500);
    console.info(`pipelined behind a store call: ${r.statuses.length} answered, closed: ${r.closed}`);
    // Either uWS closed it, or (when the reads split the requests) every one was answered.
    expect(r.closed || r.statuses.length === 3).toBe(true);
    expect(r.statuses.every((s) => s === 200)).toBe(true);
    const after = await http(server.port, 'GET', '/api/leaderboard/top');
    expect(after.status).toBe(200);
    expect(alive(server)).toBe(true);
  });
});

describe('/health', () => {
  it('is probed at most once a second however often it is asked', async () => {
    const pg = postgres(stores.databaseUrl, { max: 1, onnotice: () => undefined });
    try {
      const commits = async () => {
        const [row] = await pg<{ n: string }[]>`SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()`;
        return Number(row!.n);
      };
      await pg`SELECT pg_stat_clear_snapshot()`;
      const before = await commits();
      const started = Date.now();
      let asked = 0;
      while (Date.now() - started < 1000) {
        const replies = await Promise.all(Array.from({ length: 20 }, () => http(server.port, 'GET', '/health')));
        for (const r of replies) expect(r.status).toBe(200);
        asked += replies.length;
      }
      await new Promise((r) => setTimeout(r, 1200)); // statistics reach pg_stat_database within a second
      await pg`SELECT pg_stat_clear_snapshot()`;
      const used = (await commits()) - before;
      console.info(`/health: ${asked} requests in 1 s made ${used} transactions in the server's database`);
      expect(asked).toBeGreaterThan(100);
      // One probe per second, plus this test's own statements.
      expect(used).toBeLessThanOrEqual(8);
    } finally {
      await pg.end();
    }
  });
});

describe('rate limits', () => {
  it.each(['/', '/health', '/metrics', '/openapi.json', '/assets/nope.js', '/no/such/route', '/api/leaderboard/top'])(
    '%s is rate-limited per address',
    async (route) => {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await http(limited.port, 'GET', route)).status);
      expect(statuses).toContain(429);
      await new Promise((r) => setTimeout(r, 1100)); // the bucket refills at 5/s for the next route
    },
    20_000,
  );
});
