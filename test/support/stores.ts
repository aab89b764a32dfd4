/**
 * Fresh, isolated stores for one test file: its own PostgreSQL database and its own Redis key
 * prefix on the machine's services, removed afterwards.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { seed, type SeedOptions } from '../../bench/seed.ts';
import { ensureDatabase, type Sql } from '../../server/store/db.ts';
import { migrate } from '../../server/store/migrate.ts';

export const PG_BASE = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface FreshStores {
  databaseUrl: string;
  databaseName: string;
  redisUrl: string;
  redisPrefix: string;
  cleanup(): Promise<void>;
}

export async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined); // a stopped test Redis has nothing to clean
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export async function freshStores(redisUrl = REDIS_URL): Promise<FreshStores> {
  const id = randomBytes(5).toString('hex');
  const databaseName = `lb_test_${id}`;
  const redisPrefix = `lbt_${id}`;
  return {
    databaseUrl: `${PG_BASE}/${databaseName}`,
    databaseName,
    redisUrl,
    redisPrefix,
    async cleanup() {
      const admin = postgres(`${PG_BASE}/postgres`, { max: 1, onnotice: () => undefined });
      try {
        await admin.unsafe(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
      } finally {
        await admin.end({ timeout: 5 });
      }
      await deleteKeys(redisUrl, redisPrefix);
    },
  };
}

/** Creates the stores' database, applies the migrations and seeds it as `npm run bench:seed` does. */
export async function seededDatabase(stores: FreshStores, opts: SeedOptions): Promise<void> {
  await ensureDatabase(stores.databaseUrl, 5);
  const sql = postgres(stores.databaseUrl, { max: 1, onnotice: () => undefined }) as unknown as Sql;
  try {
    await migrate(sql);
    await seed(sql, opts);
  } finally {
    await sql.end();
  }
}
