/**
 * The server child processes and sockets one test file started, so that afterAll stops every one
 * of them by pid even when a test failed halfway.
 */
import type { Connection } from '../../client/sdk/connection.ts';
import { http } from './http.ts';
import { connectWs, spawnServer, type ChildServer } from './servers.ts';

/**
 * Settings for tests that load one user on purpose (a game server submitting for its players):
 * the per-user submit rate limit is off. Unknown to a server without that limit, and then ignored.
 */
export const UNLIMITED: Readonly<Record<string, string>> = Object.freeze({ SUBMIT_RATE_PER_USER: '0' });

export function isRunning(s: ChildServer): boolean {
  return s.process.exitCode === null && s.process.signalCode === null;
}

export class Fleet {
  readonly servers: ChildServer[] = [];
  private readonly conns: Connection[] = [];

  async spawn(env: Record<string, string>): Promise<ChildServer> {
    const s = await spawnServer(env);
    this.servers.push(s);
    return s;
  }

  async connect(server: ChildServer, count: number, tokenValue?: string): Promise<Connection[]> {
    const conns = await Promise.all(Array.from({ length: count }, () => connectWs(server.port, tokenValue)));
    this.conns.push(...conns);
    return conns;
  }

  /** Sends `signal` to the server's pid. */
  signal(server: ChildServer, signal: NodeJS.Signals): void {
    if (isRunning(server)) process.kill(server.process.pid!, signal);
  }

  /** Closes every socket and SIGKILLs every server still running, waiting (bounded) for the exits. */
  async cleanup(): Promise<void> {
    for (const c of this.conns) if (c.open) c.close();
    await Promise.all(
      this.servers.map(async (s) => {
        if (!isRunning(s)) return;
        process.kill(s.process.pid!, 'SIGKILL');
        await Promise.race([s.exited, new Promise((r) => setTimeout(r, 5000))]);
      }),
    );
  }
}

/** The sum of a metric's samples (with labels matching `labels`, if given) from the server's /metrics. */
export async function metric(port: number, name: string, labels = ''): Promise<number> {
  const res = await http<string>(port, 'GET', '/metrics');
  const pattern = new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm');
  let sum = 0;
  for (const m of String(res.body).matchAll(pattern)) if ((m[1] ?? '').includes(labels)) sum += Number(m[2]);
  return sum;
}

/** Reads of the rank index so far, by source: served by `redis`, or by `postgres` when the index could not. */
export async function indexReads(port: number): Promise<{ redis: number; postgres: number }> {
  const [redis, postgres] = await Promise.all([
    metric(port, 'leaderboard_index_reads_total', 'source="redis"'),
    metric(port, 'leaderboard_index_reads_total', 'source="postgres"'),
  ]);
  return { redis, postgres };
}
