/**
 * The PostgreSQL connection: options parsed once, bigint columns as JS numbers (every total fits in
 * 2^53), and creation of the database itself when it is missing.
 */
import postgres from 'postgres';
import type { Logger } from '../log.ts';

export type Sql = postgres.Sql<{ bigint: number }>;
/** A transaction of `Sql` (the callback argument of `sql.begin`). */
export type Tx = postgres.TransactionSql<{ bigint: number }>;

export interface DbOptions {
  url: string;
  poolSize: number;
  connectTimeoutS: number;
  logger?: Logger;
}

const bigintAsNumber = {
  to: 20,
  from: [20],
  serialize: (x: number) => String(x),
  parse: (x: string) => Number(x),
};

export function connect(opts: DbOptions): Sql {
  return postgres(opts.url, {
    max: opts.poolSize,
    connect_timeout: opts.connectTimeoutS,
    idle_timeout: 60,
    // Reconnect quickly once the database is back (the default waits up to several seconds
    // between attempts after a few failures): 50 ms doubling, at most 0.5 s.
    backoff: (attempt: number) => Math.min(0.05 * 2 ** attempt, 0.5),
    types: { bigint: bigintAsNumber },
    onnotice: (notice) => opts.logger?.debug({ notice: notice.message }, 'postgres notice'),
    connection: { application_name: 'leaderboard' },
  }) as unknown as Sql;
}

/** Creates the database named in `url` if it does not exist (connecting to `postgres` to do so). */
export async function ensureDatabase(url: string, connectTimeoutS: number): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) return false;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const sql = postgres(admin.toString(), { max: 1, connect_timeout: connectTimeoutS, onnotice: () => undefined });
  try {
    const rows = await sql`SELECT 1 FROM pg_database WHERE datname = ${name}`;
    if (rows.length > 0) return false;
    try {
      await sql.unsafe(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      return true;
    } catch (err) {
      // Another instance created it between our check and our CREATE: that is success. A CREATE
      // racing another one fails on pg_database's unique index (23505) rather than with 42P04.
      const code = (err as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false;
      throw err;
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** How far PostgreSQL's clock is ahead of this host's, in ms (submit deadlines compare the two). */
export async function clockSkewMs(sql: Sql): Promise<number> {
  const before = Date.now();
  const [row] = await sql<{ ms: number }[]>`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms`;
  const after = Date.now();
  return Math.round(row!.ms - (before + after) / 2);
}

/** A query that got no answer within the deadline: the database is unreachable or stalled. */
export class QueryTimeout extends Error {
  readonly code = 'QUERY_TIMEOUT';
}

/**
 * Rejects with QueryTimeout if `p` has not settled within `ms`. The query itself may still run
 * (and a submit may still commit): callers treat the outcome as unknown, like a lost connection.
 */
export function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new QueryTimeout(`no answer from PostgreSQL within ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** PostgreSQL refused a submit whose deadline had passed: it did not commit (sql/functions/3_submit_batch.sql). */
export function isDeadlinePassed(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'LB001';
}

/** Connection-level failures: the database cannot be reached, as opposed to a query's own error. */
const CONNECTION_ERRORS = new Set([
  'QUERY_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);

export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CONNECTION_ERRORS.has(code);
}
