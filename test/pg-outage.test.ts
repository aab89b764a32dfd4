/**
 * PostgreSQL unreachable under load: a server process reaches PostgreSQL through a TCP proxy that
 * the test cuts (connections dropped, new ones refused) or stalls (nothing crosses, nothing closes)
 * while sockets submit and read. Requests get `unavailable` promptly and none hangs; boards whose
 * index is trusted are still read from Redis; nothing is half-applied (what was acknowledged is
 * stored, what was refused is either absent or, if its commit landed anyway, a retry with its
 * submission_id says duplicate); once the proxy heals, service resumes by itself and the index
 * converges on PostgreSQL. Last, one submit stalled past its deadline by a row lock: PostgreSQL must
 * roll it back rather than commit it after its `unavailable` reply.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../client/sdk/connection.ts';
import { LeaderboardError } from '../client/sdk/errors.ts';
import { boardKeys } from '../server/rank-index/keys.ts';
import type { Sql } from '../server/store/db.ts';
import { Fleet, UNLIMITED, isRunning } from './support/fleet.ts';
import { http } from './support/http.ts';
import { boardsWithoutEpoch, openSql, waitForIndex } from './support/index-state.ts';
import { eventually, storeEnv, token, type ChildServer } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';
import { TcpProxy } from './support/tcp-proxy.ts';

const QUERY_TIMEOUT_MS = 1000;
/**
 * The longest a request may take while PostgreSQL is away: a submit may wait for a commit slot
 * (the running batches end at their deadline: one QUERY_TIMEOUT_MS) and then for its own batch
 * (another); a read makes at most two PostgreSQL calls one after the other. Plus 1.5 s of
 * scheduling slack on a shared 2-core machine.
 */
const PROMPT_MS = 2 * QUERY_TIMEOUT_MS + 1500;
const OUTAGE_MS = 4000;
/**
 * Service must be back this soon after the proxy heals: with the pool retrying its connections at
 * least every 0.5 s it took 0.2-0.6 s here, so 3 s is slack enough for a loaded machine.
 */
const RESUME_MS = 3000;
/** How long the first test waits for service to come back at all (longer is a hang). */
const RESUME_LIMIT_MS = 15_000;
const USERS = Array.from({ length: 20 }, (_, i) => i + 1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const fleet = new Fleet();
let stores: FreshStores;
let proxy: TcpProxy;
let server: ChildServer;
let sql: Sql;
let redis: Redis;
let writers: Connection[];
let readers: Connection[];

interface Outcome {
  what: string;
  code: string;
  started: number;
  ms: number;
  req?: { user_id: number; score: number; game_mode: string; submission_id: string };
  reply?: { duplicate: boolean };
}

beforeAll(async () => {
  stores = await freshStores();
  const direct = new URL(stores.databaseUrl);
  proxy = await TcpProxy.start(Number(direct.port || 5432));
  const proxied = new URL(stores.databaseUrl);
  proxied.port = String(proxy.port);
  server = await fleet.spawn(
    storeEnv(stores, { ...UNLIMITED, DATABASE_URL: proxied.toString(), PG_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS), INDEX_CHECK_INTERVAL_MS: '300' }),
  );
  sql = openSql(stores.databaseUrl);
  redis = new Redis(stores.redisUrl);
  writers = await fleet.connect(server, 4, token('server'));
  readers = await fleet.connect(server, 2);
  // Every user on `mode:calm` (never written during an outage: its index stays trusted) and on `mode:busy`.
  for (const user_id of USERS) {
    await writers[0]!.request('submit', { user_id, score: user_id * 10, game_mode: 'calm', submission_id: `seed-calm-${user_id}` });
    await writers[0]!.request('submit', { user_id, score: user_id, game_mode: 'busy', submission_id: `seed-busy-${user_id}` });
  }
  expect(await waitForIndex(redis, sql, stores.redisPrefix)).toEqual([]);
});

afterAll(async () => {
  await fleet.cleanup();
  await proxy?.close();
  await sql?.end({ timeout: 5 });
  redis?.disconnect();
  await stores?.cleanup();
});

/** Runs `fn` and records its outcome: 'ok', or the error code ('timeout' and 'disconnected' are the SDK's). */
async function timed(what: string, fn: () => Promise<unknown>, extra: Partial<Outcome> = {}): Promise<Outcome> {
  const started = Date.now();
  try {
    const reply = (await fn()) as { duplicate: boolean };
    return { what, code: 'ok', started, ms: Date.now() - started, reply, ...extra };
  } catch (err) {
    return { what, code: (err as { code?: string }).code ?? String(err), started, ms: Date.now() - started, ...extra };
  }
}

/** Submits (each with its own submission_id) on every writer and reads on every reader until stopped; bounded in count. */
function startLoad(prefix: string) {
  const outcomes: Outcome[] = [];
  let running = true;
  let n = 0;
  const MAX = 4000;
  const submitter = async (c: Connection) => {
    while (running && n < MAX) {
      const req = { user_id: USERS[n % USERS.length]!, score: 1 + (n % 97), game_mode: 'busy', submission_id: `${prefix}-${n++}` };
      outcomes.push(await timed('submit', () => c.request('submit', req), { req }));
      await sleep(5);
    }
  };
  const reads: [string, (c: Connection, u: number) => Promise<unknown>][] = [
    ['rank mode:calm', (c, u) => c.request('rank', { board: 'mode:calm', user_id: u })],
    ['top mode:calm', (c) => c.request('top', { board: 'mode:calm', limit: 20 })],
    ['around mode:calm', (c, u) => c.request('around', { board: 'mode:calm', user_id: u, radius: 2 })],
    ['top global', (c) => c.request('top', { board: 'global', limit: 5 })],
    ['history', (c, u) => c.request('history', { user_id: u, limit: 5 })],
  ];
  const reader = async (c: Connection) => {
    for (let i = 0; running && n < MAX; i++) {
      const [what, read] = reads[i % reads.length]!;
      outcomes.push(await timed(what, () => read(c, USERS[i % USERS.length]!)));
      await sleep(5);
    }
  };
  const workers = [...writers.map(submitter), ...readers.map(reader)];
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

/** Waits until the server has no PostgreSQL statement running: late commits of the outage have landed. */
async function quiescent(): Promise<void> {
  let idleChecks = 0;
  await eventually(
    'no statement of the server still running',
    async () => {
      const [row] = await sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = ${stores.databaseName} AND state <> 'idle' AND pid <> pg_backend_pid()`;
      idleChecks = row!.n === 0 ? idleChecks + 1 : 0;
      return idleChecks >= 3;
    },
    10_000,
  ).catch(async (err: Error) => {
    const rows = await sql`SELECT pid, state, wait_event, now() - query_start AS age, left(query, 80) AS query FROM pg_stat_activity WHERE datname = ${stores.databaseName}`;
    throw new Error(`${err.message}: ${JSON.stringify(rows)}`);
  });
}

/** Totals that do not equal the sums of the sessions they count (a half-applied submit). */
async function halfApplied(): Promise<unknown[]> {
  return [...(await sql`
    WITH s AS (
      SELECT user_id, 'global' AS board, sum(score)::bigint AS t, count(*)::int AS g FROM game_sessions GROUP BY user_id
      UNION ALL
      SELECT user_id, 'mode:' || game_mode, sum(score)::bigint, count(*)::int FROM game_sessions GROUP BY user_id, game_mode)
    SELECT coalesce(s.user_id, l.user_id) AS user_id, coalesce(s.board, l.board) AS board, s.t, s.g, l.total_score, l.games_played
    FROM s FULL JOIN (SELECT * FROM leaderboard WHERE board !~ ':(daily|weekly|monthly):') l ON l.user_id = s.user_id AND l.board = s.board
    WHERE l.total_score IS DISTINCT FROM s.t OR l.games_played IS DISTINCT FROM s.g`)];
}

/** Sends `send` again while it is answered `unavailable` (which changes nothing), for up to 10 s. */
async function retryWhileUnavailable<T>(send: () => Promise<T>): Promise<T> {
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      return await send();
    } catch (err) {
      if (!(err instanceof LeaderboardError && err.code === 'unavailable') || Date.now() > until) throw err;
      await sleep(100);
    }
  }
}

const health = async () => (await http(server.port, 'GET', '/health').catch(() => ({ status: 0 }))).status;

describe.each([
  ['cut (connections dropped, new ones refused)', 'cut', (p: TcpProxy) => p.cut()],
  ['stalled (nothing crosses, nothing closes)', 'stall', (p: TcpProxy) => p.stall()],
] as const)('PostgreSQL %s under load', (_label, prefix, fault) => {
  /** What the first test measured, for the two after it. */
  let measured: { resumeMs: number; healthMs: number; ghosts: string[] } | undefined;

  it('answers unavailable promptly, keeps trusted boards readable, half-applies nothing, and converges once healed', async () => {
    const load = startLoad(prefix);
    await sleep(1000);
    const faultAt = Date.now();
    fault(proxy);
    await sleep(OUTAGE_MS);
    const healthDuring = await health();
    const healAt = Date.now();
    proxy.heal();

    // How long until service is back by itself (asserted in the next test; a hang fails here).
    let probes = 0;
    const probeLog: string[] = [];
    await eventually('a submit commits again', async () => {
      const o = await timed('probe', () => writers[0]!.request('submit', { user_id: 1, score: 1, game_mode: 'busy', submission_id: `${prefix}-probe-${probes++}` }));
      probeLog.push(`+${o.started - healAt} ms: ${o.code} in ${o.ms} ms`);
      return o.code === 'ok';
    }, RESUME_LIMIT_MS).catch((err: Error) => {
      throw new Error(`${err.message}: ${probeLog.join(', ')}`);
    });
    const resumeMs = Date.now() - healAt;
    await eventually('/health is 200', async () => (await health()) === 200, RESUME_LIMIT_MS);
    const healthMs = Date.now() - healAt;
    await sleep(1000);
    await load.stop();
    const outcomes = load.outcomes;

    const byWhat = new Map<string, Record<string, number>>();
    for (const o of outcomes) {
      const m = byWhat.get(o.what) ?? {};
      m[o.code] = (m[o.code] ?? 0) + 1;
      byWhat.set(o.what, m);
    }
    console.info(
      `PostgreSQL ${prefix}: ${outcomes.length} requests, slowest ${Math.max(...outcomes.map((o) => o.ms))} ms; ${JSON.stringify(Object.fromEntries(byWhat))}; ` +
        `/health during the outage ${healthDuring}; after healing, a submit committed in ${resumeMs} ms (${probeLog.join(', ')}) and /health was 200 in ${healthMs} ms`,
    );

    // Prompt, and only the codes the contract allows; nothing hung or was lost.
    expect(healthDuring).toBe(503);
    expect(outcomes.filter((o) => o.ms > PROMPT_MS).map((o) => `${o.what} ${o.code} ${o.ms} ms`)).toEqual([]);
    expect(outcomes.filter((o) => !['ok', 'unavailable'].includes(o.code)).map((o) => `${o.what} ${o.code}`)).toEqual([]);
    // What was asked after the fault and answered before the heal met the outage and said so.
    const inOutage = (o: Outcome) => o.started >= faultAt && o.started + o.ms < healAt;
    for (const what of ['submit', 'history']) {
      const during = outcomes.filter((o) => o.what === what && inOutage(o));
      expect(during.length, `${what} requests during the outage`).toBeGreaterThan(0);
      expect(during.filter((o) => o.code !== 'unavailable').map((o) => `${o.code} after ${o.started - faultAt} ms`), what).toEqual([]);
    }
    // The trusted index kept serving its boards throughout.
    for (const what of ['rank mode:calm', 'top mode:calm', 'around mode:calm']) {
      const all = outcomes.filter((o) => o.what === what);
      expect(all.filter(inOutage).length, what).toBeGreaterThan(0);
      expect(all.filter((o) => o.code !== 'ok').map((o) => `${o.code} after ${o.started - faultAt} ms`), what).toEqual([]);
    }

    // Nothing half-applied: acknowledged submits are stored as sent; refused ones are absent, or
    // committed late, which a retry with the same submission_id reports as a duplicate.
    await quiescent();
    const rows = await sql<{ submission_id: string; user_id: number; score: number; game_mode: string; at: Date }[]>`
      SELECT submission_id, user_id, score, game_mode, created_at AS at FROM game_sessions WHERE submission_id LIKE ${prefix + '-%'}`;
    const committed = new Map(rows.map(({ submission_id, at: _at, ...r }) => [submission_id, r]));
    const committedAt = new Map(rows.map((r) => [r.submission_id, r.at.getTime()]));
    const submits = outcomes.filter((o) => o.what === 'submit');
    for (const o of submits.filter((s) => s.code === 'ok')) {
      const { submission_id, ...fields } = o.req!;
      expect(committed.get(submission_id), `acknowledged ${submission_id}`).toEqual(fields);
    }
    const refused = submits.filter((o) => o.code === 'unavailable');
    const late = refused.filter((o) => committed.has(o.req!.submission_id));
    // A submit sent after the cut and answered before the heal never had a live connection: it can
    // have been committed only by a statement sent after its `unavailable` reply.
    const ghosts = (prefix === 'cut' ? late.filter((o) => o.started >= faultAt + 200 && o.started + o.ms < healAt) : []).map(
      (o) =>
        `${o.req!.submission_id}: sent ${o.started - faultAt} ms after the cut, unavailable at +${o.started + o.ms - faultAt} ms, ` +
        `committed at +${committedAt.get(o.req!.submission_id)! - faultAt} ms (healed at +${healAt - faultAt} ms)`,
    );
    measured = { resumeMs, healthMs, ghosts };
    for (const o of refused) {
      // A retry may itself meet a connection still recovering from the fault: `unavailable` means
      // "retry later" and changes nothing, so the client retries until it gets an answer.
      const retry = await retryWhileUnavailable(() => writers[1]!.request('submit', o.req!));
      expect(retry.duplicate, `retry of ${o.req!.submission_id} (committed before the retry: ${committed.has(o.req!.submission_id)})`).toBe(
        committed.has(o.req!.submission_id),
      );
    }
    console.info(`PostgreSQL ${prefix}: ${refused.length} submits refused, ${late.length} of them committed anyway (their retries said duplicate)`);
    const [stored] = await sql<{ n: number; distinct: number }[]>`
      SELECT count(*)::int AS n, count(DISTINCT submission_id)::int AS distinct FROM game_sessions
      WHERE submission_id LIKE ${prefix + '-%'} AND submission_id NOT LIKE ${prefix + '-probe-%'}`;
    expect(stored).toEqual({ n: submits.length, distinct: submits.length }); // after the retries, every submit is stored exactly once
    expect(await halfApplied()).toEqual([]);

    // The index converges on PostgreSQL and every board is trusted again.
    expect(await waitForIndex(redis, sql, stores.redisPrefix)).toEqual([]);
    await eventually('every board has an epoch', async () => (await boardsWithoutEpoch(redis, sql, stores.redisPrefix)).length === 0);
    expect(await waitForIndex(redis, sql, stores.redisPrefix)).toEqual([]);
    expect(isRunning(server)).toBe(true);
    expect(server.output()).not.toMatch(/"msg":"request failed"/);
  });

  it(`resumes by itself within ${RESUME_MS} ms of the proxy healing`, () => {
    expect(measured, 'measured by the test above').toBeDefined();
    expect(measured!.resumeMs, 'first committed submit after healing, ms').toBeLessThan(RESUME_MS);
    expect(measured!.healthMs, '/health 200 after healing, ms').toBeLessThan(RESUME_MS);
  });

  it.runIf(prefix === 'cut')('never commits a submit after answering it unavailable when it had not reached PostgreSQL', () => {
    expect(measured, 'measured by the test above').toBeDefined();
    expect(measured!.ghosts).toEqual([]);
  });
});

describe('PostgreSQL stalled for one submit (its user row locked) past the query deadline', () => {
  it('refuses to commit it after its unavailable reply, keeps the index trusted, and its retry commits once', async () => {
    const user_id = 500;
    await writers[0]!.request('submit', { user_id, score: 10, game_mode: 'locked', submission_id: 'lock-0' });
    expect(await waitForIndex(redis, sql, stores.redisPrefix)).toEqual([]);
    const epochBefore = await redis.get(boardKeys(stores.redisPrefix, 'global').epoch);

    // Another session holds the user's lock (lb_lock_users): the server's submit waits on it past its deadline.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = sql.begin(async (tx) => {
      await tx`SELECT lb_lock_users(${[user_id]}::bigint[])`;
      locked();
      await released;
    });
    await isLocked;
    const req = { user_id, score: 5, game_mode: 'locked', submission_id: 'lock-1' };
    try {
      const o = await timed('submit', () => writers[0]!.request('submit', req));
      expect(o.code).toBe('unavailable');
      expect(o.ms).toBeLessThan(PROMPT_MS);
    } finally {
      release();
      await holder;
    }
    await quiescent();
    // The statement got its lock after the deadline: PostgreSQL rolled it back instead of
    // committing behind the client's back, and the server, told so, had nothing to rebuild.
    const total = async () =>
      (await sql<{ total_score: number }[]>`SELECT total_score FROM leaderboard WHERE board = 'global' AND user_id = ${user_id}`)[0]!.total_score;
    expect(await total(), 'nothing committed after the unavailable reply').toBe(10);
    expect(await sql`SELECT 1 FROM game_sessions WHERE submission_id = 'lock-1'`).toHaveLength(0);
    expect(await waitForIndex(redis, sql, stores.redisPrefix)).toEqual([]);
    expect(await redis.get(boardKeys(stores.redisPrefix, 'global').epoch), 'global was not rebuilt').toBe(epochBefore);
    expect(server.output()).toMatch(/refused by PostgreSQL; nothing committed/);

    // The client retries as told: the retry commits, once.
    expect((await writers[1]!.request('submit', req)).duplicate).toBe(false);
    expect((await writers[1]!.request('submit', req)).duplicate).toBe(true);
    expect(await total()).toBe(15);
    expect(await waitForIndex(redis, sql, stores.redisPrefix)).toEqual([]);
    expect((await readers[0]!.request('rank', { user_id })).total_score).toBe(15);
  });
});
