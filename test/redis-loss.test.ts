/**
 * Losing Redis: two server processes on a private redis-server that the tests flush, stop and
 * restart, pause and freeze while submits commit. PostgreSQL stays the truth: replies and reads
 * match the reference model throughout, and afterwards the rank index converges on PostgreSQL and
 * serves reads again.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../client/sdk/connection.ts';
import type { Sql } from '../server/store/db.ts';
import { Fleet, UNLIMITED, indexReads, metric } from './support/fleet.ts';
import { http } from './support/http.ts';
import { boardsWithoutEpoch, indexDiff, openSql, waitForIndex } from './support/index-state.ts';
import { Model } from './support/model.ts';
import { PrivateRedis, stopAllRedis } from './support/redis-server.ts';
import { eventually, storeEnv, token, type ChildServer } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';
import { TcpProxy } from './support/tcp-proxy.ts';

const USERS = Array.from({ length: 12 }, (_, i) => i + 1);
const COMMAND_TIMEOUT_MS = 250;
const fleet = new Fleet();
const model = new Model();
let redisServer: PrivateRedis;
/** Instance 0 reaches Redis through it, so a test can cut that instance alone off Redis. */
let proxy: TcpProxy;
let stores: FreshStores;
let sql: Sql;
let admin: Redis;
let servers: ChildServer[];
/** One socket per instance. */
let conns: Connection[];
let sent = 0;

beforeAll(async () => {
  redisServer = await PrivateRedis.start();
  stores = await freshStores(redisServer.url);
  proxy = await TcpProxy.start(redisServer.port);
  const env = storeEnv(stores, { ...UNLIMITED, INDEX_CHECK_INTERVAL_MS: '200', REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) });
  servers = [await fleet.spawn({ ...env, REDIS_URL: proxy.url }), await fleet.spawn(env)];
  conns = [...(await fleet.connect(servers[0]!, 1, token('server'))), ...(await fleet.connect(servers[1]!, 1, token('server')))];
  sql = openSql(stores.databaseUrl);
  admin = new Redis(redisServer.url);
  admin.on('error', () => undefined); // it reconnects by itself after the tests restart Redis
  await submitChecked(60, ['ranked', 'casual']);
  expect(await waitForIndex(admin, sql, stores.redisPrefix)).toEqual([]);
});

afterAll(async () => {
  await fleet.cleanup();
  await sql?.end({ timeout: 5 });
  admin?.disconnect();
  await proxy?.close();
  if (redisServer?.alive) await stores?.cleanup();
  else await stores?.cleanup().catch(() => undefined); // the database is dropped first; Redis keys die with the private instance
  await stopAllRedis();
});

function nextRequest(modes: readonly string[]) {
  const n = sent++;
  return {
    user_id: USERS[Math.floor(Math.random() * USERS.length)]!,
    score: 10 * Math.floor(Math.random() * 20), // few distinct values: many ties
    game_mode: modes[n % modes.length]!,
    submission_id: `s-${n}`,
  };
}

/** Submits one at a time over alternating instances; every reply, rank included, must match the model. */
async function submitChecked(count: number, modes: readonly string[], via = conns): Promise<void> {
  for (let i = 0; i < count; i++) {
    const req = nextRequest(modes);
    const reply = await via[i % via.length]!.request('submit', req);
    const expected = model.submit(req);
    expect(reply, `submit ${JSON.stringify(req)}`).toEqual(expected.kind === 'ok' ? expected.reply : expected);
  }
}

/** Submits for distinct users at once, over both instances; totals and games must match the model. */
async function submitRound(modes: readonly string[]): Promise<void> {
  const users = [...USERS].sort(() => Math.random() - 0.5).slice(0, 6);
  const reqs = users.map((user_id) => ({ ...nextRequest(modes), user_id }));
  const replies = await Promise.all(reqs.map((req, i) => conns[i % conns.length]!.request('submit', req)));
  reqs.forEach((req, i) => {
    const expected = model.submit(req);
    if (expected.kind !== 'ok') throw new Error('the model refused a submit');
    const { rank: _rank, ...totals } = expected.reply; // ranks of concurrent submits depend on their order
    expect(replies[i], `submit ${JSON.stringify(req)}`).toMatchObject(totals);
  });
}

/** Every read on both instances, for every board and user, must match the model. */
async function readsMatch(label: string, boards = [...model.boardIds(), 'mode:never_played']): Promise<void> {
  for (const [i, c] of conns.entries()) {
    for (const board of boards) {
      const at = `${label}: instance ${i}, ${board}`;
      expect(await c.request('top', { board, limit: 100 }), `${at} top`).toEqual({ board, entries: model.top(board, 100) });
      for (const user_id of USERS) {
        const got = await c.request('rank', { board, user_id }).catch((e: { code: string }) => ({ code: e.code }));
        expect(got, `${at} rank of ${user_id}`).toEqual(model.rank(board, user_id) ?? { code: 'not_found' });
      }
      for (const user_id of USERS.slice(0, 3)) {
        const expected = model.around(board, user_id, 2);
        const got = await c.request('around', { board, user_id, radius: 2 }).catch((e: { code: string }) => ({ code: e.code }));
        expect(got, `${at} around ${user_id}`).toEqual(expected ? { board, entries: expected } : { code: 'not_found' });
      }
    }
  }
}

/** The index converged on PostgreSQL, and both instances serve every existing board from it again. */
async function converged(label: string): Promise<void> {
  expect(await waitForIndex(admin, sql, stores.redisPrefix), `${label}: index vs PostgreSQL`).toEqual([]);
  // A board invalidated after its data had already converged is rebuilt a moment later: its epoch
  // must come back (bounded), not necessarily be there at the first look.
  await eventually(`${label}: every board has an epoch`, async () => (await boardsWithoutEpoch(admin, sql, stores.redisPrefix)).length === 0);
  expect(await waitForIndex(admin, sql, stores.redisPrefix), `${label}: index vs PostgreSQL after the epochs returned`).toEqual([]);
  await eventually(`${label}: reads served by the index again`, async () => {
    const before = await Promise.all(servers.map((s) => indexReads(s.port)));
    await readsMatch(label, model.boardIds());
    const after = await Promise.all(servers.map((s) => indexReads(s.port)));
    return after.every((a, i) => a.postgres === before[i]!.postgres && a.redis > before[i]!.redis);
  });
}

const indexWriteFailures = async () =>
  (await Promise.all(servers.map((s) => metric(s.port, 'leaderboard_index_write_failures_total')))).reduce((a, b) => a + b, 0);

async function health(s: ChildServer) {
  const res = await http(s.port, 'GET', '/health');
  return { status: res.status, body: res.body as unknown };
}

describe('Redis flushed mid-run', () => {
  it('keeps answering correctly, keeps committing, and rebuilds the index', async () => {
    await admin.flushall();
    const before = await Promise.all(servers.map((s) => indexReads(s.port)));
    await readsMatch('right after FLUSHALL');
    const after = await Promise.all(servers.map((s) => indexReads(s.port)));
    after.forEach((a, i) => expect(a.postgres, 'reads of the flushed index fell back to PostgreSQL').toBeGreaterThan(before[i]!.postgres));
    await submitChecked(40, ['ranked', 'casual', 'after_flush']);
    await readsMatch('after submits on the flushed index');
    await converged('after FLUSHALL');
  });
});

describe('Redis stopped mid-run', () => {
  it('commits and answers from PostgreSQL while it is down, reports it, and rebuilds once it is back', async () => {
    await redisServer.stop();
    const down = { status: 503, body: { status: 'unhealthy', database: 'connected', redis: 'disconnected' } };
    await eventually('both instances report Redis down', async () => {
      const h = await Promise.all(servers.map(health));
      return h.every((x) => JSON.stringify(x) === JSON.stringify(down));
    });
    await submitChecked(40, ['ranked', 'casual', 'while_down']);
    await readsMatch('while Redis is down');
    for (const s of servers) expect(await health(s)).toEqual(down);

    await redisServer.restart();
    const up = { status: 200, body: { status: 'healthy', database: 'connected', redis: 'connected' } };
    await eventually('both instances report Redis back', async () => {
      const h = await Promise.all(servers.map(health));
      return h.every((x) => JSON.stringify(x) === JSON.stringify(up));
    });
    await converged('after the restart');
    await submitChecked(20, ['ranked', 'while_down']);
    await converged('after submits on the rebuilt index');
  });
});

describe('Redis unreachable while writes commit, with its data kept', () => {
  const outages: [string, (ms: number) => Promise<void>][] = [
    [
      'CLIENT PAUSE',
      async (ms) => {
        await admin.call('CLIENT', 'PAUSE', String(ms), 'ALL');
      },
    ],
    [
      'SIGSTOP',
      async (ms) => {
        redisServer.freeze();
        setTimeout(() => redisServer.thaw(), ms).unref();
      },
    ],
  ];

  it.each(outages)('after %s longer than the command timeout, the affected boards converge and no instance serves stale totals', async (name, outage) => {
    await converged(`before ${name}`);
    const failuresBefore = await indexWriteFailures();
    const ms = 8 * COMMAND_TIMEOUT_MS;
    const until = Date.now() + ms;
    await outage(ms);
    let rounds = 0;
    while (Date.now() < until) {
      await submitRound(['ranked', 'casual', `during_${name === 'SIGSTOP' ? 'stop' : 'pause'}`]);
      rounds++;
    }
    expect(rounds).toBeGreaterThan(0);
    expect(await indexWriteFailures(), 'index updates timed out during the outage').toBeGreaterThan(failuresBefore);
    await submitChecked(10, ['ranked', 'casual']);
    await converged(`after ${name}`);
    await readsMatch(`after ${name}`);
  });
});

describe('one instance cut off Redis while it commits', () => {
  it('once it reaches Redis again the boards it wrote converge, and the other instance stops serving stale totals', async () => {
    await converged('before the partition');
    proxy.cut();
    await eventually('instance 0 reports Redis down', async () => (await health(servers[0]!)).status === 503);
    await submitChecked(20, ['ranked', 'casual', 'partitioned'], [conns[0]!]);
    // Instance 1 still reaches Redis, whose index misses those commits: the stale state this is about.
    expect((await indexDiff(admin, sql, stores.redisPrefix)).length).toBeGreaterThan(0);
    expect((await health(servers[1]!)).status).toBe(200);
    proxy.heal();
    await converged('after the partition healed');
    await readsMatch('after the partition healed');
  });
});
