/**
 * "This board may be behind PostgreSQL" lives where the commit is (index_pending, sql/001), so
 * neither a Redis outage nor the end of an instance can make another instance serve a stale total
 * forever. The two fault sequences that used to do exactly that:
 *   1. A reaches Redis through a link that is cut; a submit through A is acknowledged while A's
 *      Redis is away; A is killed with SIGKILL. B, on a healthy Redis, must come to serve the total.
 *   2. PostgreSQL's answers to A are held; a submit through A gets `unavailable` but did commit;
 *      A is stopped with SIGTERM (exit 0). B must come to serve the committed total.
 * Also: records are cleared once applied, and a rebuild clears what its snapshot included.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../client/sdk/connection.ts';
import type { Sql } from '../server/store/db.ts';
import { Fleet } from './support/fleet.ts';
import { openSql } from './support/index-state.ts';
import { eventually, storeEnv, token, type ChildServer } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';
import { TcpProxy } from './support/tcp-proxy.ts';

const fleet = new Fleet();
const UNLIMITED = { SUBMIT_RATE_PER_USER: '0', WS_RATE_PER_SOCKET: '0' };
let stores: FreshStores;
let sql: Sql;
let redis: Redis;
let b: ChildServer;
let reader: Connection;

beforeAll(async () => {
  stores = await freshStores();
  b = await fleet.spawn(storeEnv(stores, { ...UNLIMITED, INDEX_CHECK_INTERVAL_MS: '200' }));
  sql = openSql(stores.databaseUrl);
  redis = new Redis(stores.redisUrl);
  reader = (await fleet.connect(b, 1, token('server')))[0]!;
}, 60_000);

afterAll(async () => {
  await fleet.cleanup();
  await sql?.end({ timeout: 5 });
  redis?.disconnect();
  await stores?.cleanup();
});

async function totalOnB(user_id: number): Promise<number> {
  const r = (await reader.request('rank', { user_id })) as { total_score: number };
  return r.total_score;
}

describe('pending records', () => {
  it('are cleared once the index has the batch', async () => {
    await reader.request('submit', { user_id: 1, score: 5, game_mode: 'p', submission_id: 'clear-1' });
    await eventually('no pending record left', async () => (await sql`SELECT 1 FROM index_pending`).length === 0, 5000);
  });

  it('sequence 1: acknowledged while Redis was cut off, then SIGKILL: the other instance serves the total', async () => {
    const user_id = 11;
    await reader.request('submit', { user_id, score: 100, game_mode: 'p', submission_id: 's1-a' });
    expect(await totalOnB(user_id)).toBe(100);
    const redisUrl = new URL(stores.redisUrl);
    const proxy = await TcpProxy.start(Number(redisUrl.port || 6379));
    try {
      const a = await fleet.spawn(storeEnv(stores, { ...UNLIMITED, REDIS_URL: proxy.url, REDIS_COMMAND_TIMEOUT_MS: '200' }));
      const [writer] = await fleet.connect(a, 1, token('server'));
      proxy.cut();
      const reply = (await writer!.request('submit', { user_id, score: 1000, game_mode: 'p', submission_id: 's1-b' })) as { total_score: number };
      expect(reply.total_score).toBe(1100);
      expect((await sql`SELECT boards FROM index_pending`).length).toBeGreaterThan(0);
      fleet.signal(a, 'SIGKILL');
      await a.exited;
      // A's heartbeat stopped at the cut and lives at most 10 s: then B rebuilds what A left.
      await eventually('B serves the acknowledged total', async () => (await totalOnB(user_id)) === 1100, 25_000);
      await eventually('the record is cleared by the rebuild', async () => (await sql`SELECT 1 FROM index_pending`).length === 0, 10_000);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('sequence 2: unavailable but committed, then SIGTERM: the other instance serves the committed total', async () => {
    const user_id = 22;
    await reader.request('submit', { user_id, score: 100, game_mode: 'p', submission_id: 's2-a' });
    expect(await totalOnB(user_id)).toBe(100);
    const pgUrl = new URL(stores.databaseUrl);
    const proxy = await TcpProxy.start(Number(pgUrl.port || 5432));
    try {
      const proxied = new URL(stores.databaseUrl);
      proxied.port = String(proxy.port);
      // One connection, its submit statement already prepared: once replies are held, the next
      // submit still reaches PostgreSQL whole and commits, and only its answer is lost.
      const a = await fleet.spawn(
        storeEnv(stores, { ...UNLIMITED, DATABASE_URL: proxied.toString(), PG_POOL_SIZE: '1', PG_QUERY_TIMEOUT_MS: '3000', SHUTDOWN_TIMEOUT_MS: '2000' }),
      );
      const [writer] = await fleet.connect(a, 1, token('server'));
      await writer!.request('submit', { user_id: 23, score: 1, game_mode: 'p', submission_id: 's2-warm' });
      // Its record's delete (a statement of its own on the one connection) must be done too, or
      // the submit would queue behind that statement's held answer and never reach PostgreSQL.
      await eventually('the warm-up record is cleared', async () => (await sql`SELECT 1 FROM index_pending`).length === 0, 5000);
      proxy.stallReplies();
      const refused = await writer!.request('submit', { user_id, score: 5000, game_mode: 'p', submission_id: 's2-b' }).then(
        () => 'ok',
        (err: { code?: string }) => err.code ?? String(err),
      );
      expect(refused).toBe('unavailable');
      await eventually('the submit committed', async () => (await sql`SELECT 1 FROM game_sessions WHERE submission_id = 's2-b'`).length === 1, 5000);
      fleet.signal(a, 'SIGTERM');
      expect(await a.exited).toBe(0);
      await eventually('B serves the committed total', async () => (await totalOnB(user_id)) === 5100, 25_000);
      const retry = (await reader.request('submit', { user_id, score: 5000, game_mode: 'p', submission_id: 's2-b' })) as { duplicate: boolean; total_score: number };
      expect(retry).toMatchObject({ duplicate: true, total_score: 5100 });
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('a record of an instance gone with nothing to say is acted on by the next check', async () => {
    // Records naming only boards the index no longer serves (a past period) are dropped.
    await sql`INSERT INTO index_pending (instance, token, boards) VALUES ('gone', 1, ARRAY['global:daily:2020-01-01'])`;
    await eventually('the record of a past period is dropped', async () => (await sql`SELECT 1 FROM index_pending WHERE instance = 'gone'`).length === 0, 5000);
  });
});
