/**
 * Starts Socket.IO peer instances as child processes on free loopback ports, with a fresh database
 * (`lb_peer_<random>`) and a Redis prefix of their own, and stops them (by pid) and removes both
 * afterwards. A failed start stops whatever it had started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { assertLoopback } from '../../baselines/loopback.ts';

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));

export interface PeerFleetOptions {
  instances: number;
  /** Any database URL on the PostgreSQL server to use: the fleet makes its own database beside it. */
  databaseUrl: string;
  redisUrl: string;
  startTimeoutMs?: number;
}

export interface PeerFleet {
  ports: number[];
  pids: number[];
  databaseUrl: string;
  redisPrefix: string;
  /** CPU seconds (user + system) each instance has used so far: sample before and after a run. */
  cpuSeconds(): number[];
  stop(): Promise<void>;
}

/** Linux only: utime + stime from /proc/<pid>/stat, in clock ticks of 1/100 s. */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields from after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function waitListening(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`peer ${why}\n${(out + err).trim().split('\n').slice(-8).join('\n')}`));
    };
    const timer = setTimeout(() => fail(`did not listen within ${timeoutMs} ms`), timeoutMs);
    // Kept short: the pipes are read for the child's whole life so it never blocks on a full pipe.
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4096)));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out = (out + d).slice(-4096);
      const m = /^listening (\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code, signal) => fail(`exited with ${code ?? signal} before listening`));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(child.pid, 'SIGTERM');
  const killTimer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  }, 5000);
  await exited;
  clearTimeout(killTimer);
}

async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined); // reported by the failing command
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

export async function startPeerFleet(opts: PeerFleetOptions): Promise<PeerFleet> {
  const pg = new URL(opts.databaseUrl);
  assertLoopback(pg.hostname || 'localhost', 'peer database');
  assertLoopback(new URL(opts.redisUrl).hostname, 'peer redis');
  const id = randomBytes(5).toString('hex');
  const dbName = `lb_peer_${id}`;
  const redisPrefix = `lbpeer_${id}`;
  const adminUrl = new URL(pg.toString());
  adminUrl.pathname = '/postgres';
  const dbUrl = new URL(pg.toString());
  dbUrl.pathname = `/${dbName}`;

  const admin = postgres(adminUrl.toString(), { max: 1, connect_timeout: 10, onnotice: () => undefined });
  const children: ChildProcess[] = [];
  // If the bench process dies first, its peers must not outlive it.
  const killOnExit = () => {
    for (const c of children) if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    await Promise.all(children.map(stopChild));
    try {
      await admin.unsafe(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      await deleteKeys(opts.redisUrl, redisPrefix);
    } finally {
      await admin.end({ timeout: 5 });
    }
  };

  try {
    await admin.unsafe(`CREATE DATABASE "${dbName}"`);
    const env = { ...process.env, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: dbUrl.toString(), REDIS_URL: opts.redisUrl, REDIS_PREFIX: redisPrefix };
    const ports = await Promise.all(
      Array.from({ length: Math.max(1, opts.instances) }, () => {
        const child = spawn(process.execPath, ['--import', 'tsx', SERVER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        children.push(child);
        return waitListening(child, opts.startTimeoutMs ?? 20_000);
      }),
    );
    const pids = children.map((c) => c.pid!);
    return { ports, pids, databaseUrl: dbUrl.toString(), redisPrefix, cpuSeconds: () => pids.map(processCpuSeconds), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
