/**
 * The Redis ceiling: redis-benchmark running the sorted-set and hash commands of the rank index and
 * our own Lua scripts (EVALSHA), on keys under a prefix of its own that is filled first (so reads
 * find members) and deleted afterwards, even when a run fails.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { APPLY_UPDATES, READ_RANGE, READ_RANKS } from '../../server/rank-index/scripts.ts';
import { assertLoopback } from './loopback.ts';
import { parseRedisBenchmarkCsv } from './redis-csv.ts';
import { runTool, tail } from './run-tool.ts';

export const REDIS_BENCHMARK = '/usr/bin/redis-benchmark';

export interface RedisBaselineOptions {
  host: string;
  port: number;
  requests: number;
  clients: number;
  pipeline?: number;
  /** Members of the prefilled sorted set and range of `__rand_int__` (default 100,000). */
  keyspace?: number;
  /** Bound on each redis-benchmark invocation (default 60 s). */
  timeoutS?: number;
}

/** redis-benchmark pads `__rand_int__` to 12 digits: members are written the same way. */
const member = (i: number) => String(i).padStart(12, '0');
const R = '__rand_int__';

function commands(p: string, sha: { apply: string; rank: string; range: string }): Array<[string, string[]]> {
  const z = `${p}z`;
  const h = `${p}h`;
  const epoch = `${p}epoch`;
  const indexKeys = [epoch, z, h];
  // What a single Redis's reads take: the board's keys and the names hash.
  const readKeys = [...indexKeys, `${p}names`];
  return [
    ['ZADD', ['ZADD', z, R, R]],
    ['ZRANGE 0 9 WITHSCORES', ['ZRANGE', z, '0', '9', 'WITHSCORES']],
    ['ZCOUNT', ['ZCOUNT', z, '-inf', `(-${R}`]],
    ['ZSCORE', ['ZSCORE', z, R]],
    ['ZRANK', ['ZRANK', z, R]],
    ['HGET', ['HGET', h, R]],
    ['HMGET 10', ['HMGET', h, ...Array.from({ length: 10 }, () => R)]],
    // The submit path's script: version-checked upsert, SPUBLISH of the change, rank of the total
    // (ARGV: fresh epoch, is-new, log ttl, expire-at, ranks wanted, then the update: member,
    // negscore, games), as the global board's update of a submit is sent.
    ['EVALSHA apply_update', ['EVALSHA', sha.apply, '6', ...indexKeys, `${p}rebuilding`, `${p}log`, `${p}ch`, '', '0', '60000', '', '1', R, `-${R}`, R]],
    // What a lone `rank` request costs (rank requests of one moment share one call).
    ['EVALSHA read_ranks 1', ['EVALSHA', sha.rank, '4', ...readKeys, R]],
    ['EVALSHA read_range 0 9', ['EVALSHA', sha.range, '4', ...readKeys, '0', '9']],
  ];
}

async function fill(redis: Redis, p: string, keyspace: number): Promise<void> {
  await redis.set(`${p}epoch`, '1');
  for (let start = 0; start < keyspace; start += 1000) {
    const pipe = redis.pipeline();
    const end = Math.min(keyspace, start + 1000);
    const zargs: Array<string | number> = [];
    const hargs: string[] = [];
    const nargs: string[] = [];
    for (let i = start; i < end; i++) {
      zargs.push(-Math.floor(Math.random() * keyspace), member(i));
      hargs.push(member(i), '0');
      nargs.push(member(i), `0:player${i}`);
    }
    pipe.zadd(`${p}z`, ...zargs);
    pipe.hset(`${p}h`, ...hargs);
    pipe.hset(`${p}names`, ...nargs);
    await pipe.exec();
  }
}

async function deletePrefix(redis: Redis, p: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${p}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

export async function runRedisBaselines(opts: RedisBaselineOptions): Promise<Record<string, number>> {
  assertLoopback(opts.host, 'redis-benchmark baseline');
  const keyspace = Math.max(100, Math.floor(opts.keyspace ?? 100_000));
  const timeoutMs = (opts.timeoutS ?? 60) * 1000;
  const prefix = `bench:rb:${randomBytes(4).toString('hex')}:`;
  const redis = new Redis({ host: opts.host, port: opts.port, lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5000 });
  redis.on('error', () => undefined); // surfaced by the failing command instead
  await redis.connect();
  try {
    await fill(redis, prefix, keyspace);
    const sha = {
      apply: (await redis.script('LOAD', APPLY_UPDATES)) as string,
      rank: (await redis.script('LOAD', READ_RANKS)) as string,
      range: (await redis.script('LOAD', READ_RANGE)) as string,
    };
    const base = ['-h', opts.host, '-p', String(opts.port), '-n', String(Math.max(1, Math.floor(opts.requests))),
      '-c', String(Math.max(1, Math.floor(opts.clients))), '-P', String(Math.max(1, Math.floor(opts.pipeline ?? 1))),
      '-r', String(keyspace), '--csv'];
    const out: Record<string, number> = {};
    for (const [name, cmd] of commands(prefix, sha)) {
      const res = await runTool(REDIS_BENCHMARK, [...base, ...cmd], { timeoutMs });
      const text = `${res.stdout}\n${res.stderr}`;
      if (res.timedOut) throw new Error(`redis-benchmark ${name} did not finish within ${timeoutMs / 1000} s\n${tail(text)}`);
      if (res.code !== 0) throw new Error(`redis-benchmark ${name} exited with ${res.code ?? res.signal}\n${tail(text)}`);
      // redis-benchmark 7 stops on the first error reply; older ones print it and go on.
      if (/Error from server/.test(text)) throw new Error(`redis-benchmark ${name} got error replies\n${tail(text)}`);
      const row = parseRedisBenchmarkCsv(res.stdout)[0];
      if (!row || !(row.rps > 0)) throw new Error(`redis-benchmark ${name}: no result in its output\n${tail(text)}`);
      out[name] = row.rps;
    }
    return out;
  } finally {
    try {
      await deletePrefix(redis, prefix);
    } finally {
      redis.disconnect();
    }
  }
}
