/**
 * Servers under bench: real `server/main.ts` processes on fresh stores (a database and a Redis
 * prefix of their own), listening on port 0, stopped and cleaned up afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { Redis } from 'ioredis';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PG_BASE = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const BENCH_SECRET = 'bench-secret-0123456789abcdef-0123456789';

export interface BenchStores {
  databaseUrl: string;
  databaseName: string;
  redisUrl: string;
  redisPrefix: string;
  drop(): Promise<void>;
}

export function freshBenchStores(): BenchStores {
  const id = randomBytes(4).toString('hex');
  const databaseName = `lb_bench_${id}`;
  const redisPrefix = `lbb_${id}`;
  return {
    databaseUrl: `${PG_BASE}/${databaseName}`,
    databaseName,
    redisUrl: REDIS_URL,
    redisPrefix,
    async drop() {
      const admin = postgres(`${PG_BASE}/postgres`, { max: 1, onnotice: () => undefined });
      try {
        await admin.unsafe(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
      } finally {
        await admin.end({ timeout: 5 });
      }
      await deleteRedisKeys(redisPrefix);
    },
  };
}

/** Deletes every Redis key under `prefix` (an instance started afterwards finds an empty index). */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export interface BenchServer {
  port: number;
  pid: number;
  process: ChildProcess;
  /** What the server has written so far (its JSON log lines; the first MB of stdout). */
  log(): string;
  /** Resident memory of the server process, in bytes. */
  rss(): number;
  stop(): Promise<void>;
}

export async function startBenchServer(
  stores: BenchStores,
  env: Record<string, string> = {},
  /** `ready`: once start-up recovery of the rank index is done; `listening`: as soon as it listens. */
  until: 'ready' | 'listening' = 'ready',
): Promise<BenchServer> {
  // BENCH_CPU_PROF=<dir>: each bench server writes a V8 CPU profile there when it stops.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: stores.databaseUrl,
      REDIS_URL: stores.redisUrl,
      REDIS_PREFIX: stores.redisPrefix,
      JWT_SECRET: BENCH_SECRET,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      // A bench is one client hammering: the abuse limits would measure themselves.
      SUBMIT_RATE_PER_USER: '0',
      WS_RATE_PER_SOCKET: '0',
      UPGRADE_RATE_PER_IP: '0',
      HTTP_RATE_PER_IP: '0',
      MAX_CONNECTIONS_PER_IP: '1000000',
      // Settings that change what a submit writes may be set for the whole bench run.
      ...Object.fromEntries(['BOARD_WINDOWS', 'BOARDS_CONFIG', 'GROUP_COMMIT_MAX', 'GROUP_COMMIT_CONCURRENCY', 'TOP_CACHE', 'DIFF_TICK_MS'].flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : []))),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    if (out.length < 1_000_000) out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bench server did not start:\n${out}`));
    }, 30_000);
    const poll = setInterval(() => {
      const m = /"port":(\d+),"msg":"listening"/.exec(out);
      // Start-up recovery done (boards rebuilt only where needed), or failed and left to the check.
      if (m && (until === 'listening' || /rank index ready|start-up rebuild of the rank index failed/.test(out))) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    }, 20);
    child.once('exit', (code) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`bench server exited (${code}):\n${out}`));
    });
  });
  return {
    port,
    pid: child.pid!,
    process: child,
    log: () => out,
    rss() {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return Number(m?.[1] ?? 0) * 1024;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}
