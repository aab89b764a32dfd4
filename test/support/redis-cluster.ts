/**
 * A private 3-master Redis Cluster on loopback ports for tests: three `redis-server
 * --cluster-enabled yes` processes (nothing on disk but their node files in a temp dir), joined by
 * `redis-cli --cluster create`, and stopped by their pids afterwards. The machine's shared Redis is
 * never touched.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { PrivateRedis } from './redis-server.ts';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A port whose cluster bus port (port + 10000) is free too. */
async function clusterPort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await canListen(port)) && (await canListen(port + 10_000))) return port;
  }
  throw new Error('no free port pair for a cluster node');
}

export class RedisCluster {
  private constructor(
    readonly nodes: PrivateRedis[],
    private readonly dir: string,
  ) {}

  static async start(masters = 3): Promise<RedisCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'lb-cluster-'));
    const nodes: PrivateRedis[] = [];
    try {
      for (let i = 0; i < masters; i++) {
        nodes.push(
          await PrivateRedis.start(
            (port) => ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '3000'],
            clusterPort,
          ),
        );
      }
      await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
        timeout: 30_000,
      });
      const cluster = new RedisCluster(nodes, dir);
      await cluster.untilReady();
      return cluster;
    } catch (err) {
      for (const n of nodes) await n.stop();
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** `host:port,...` as REDIS_CLUSTER_NODES takes it. */
  get seeds(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  client(): Cluster {
    return new Cluster(this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
  }

  /** Every node reports the cluster ok, with all 16384 slots assigned. */
  private async untilReady(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const infos = await Promise.all(
        this.nodes.map(async (n) => {
          const c = new Redis({ host: '127.0.0.1', port: n.port, lazyConnect: true, maxRetriesPerRequest: 1 });
          try {
            await c.connect();
            return await c.cluster('INFO');
          } finally {
            c.disconnect();
          }
        }),
      );
      if (infos.every((i) => i.includes('cluster_state:ok') && i.includes('cluster_slots_assigned:16384'))) return;
      if (Date.now() > deadline) throw new Error(`cluster not ready: ${infos.join(' | ')}`);
      await sleep(100);
    }
  }

  /** Deletes every key under `prefix` on every master. */
  async deleteKeys(prefix: string): Promise<void> {
    for (const n of this.nodes) {
      const c = new Redis({ host: '127.0.0.1', port: n.port, maxRetriesPerRequest: 1 });
      try {
        const keys = await c.keys(`${prefix}:*`);
        for (const k of keys) await c.del(k); // one by one: keys of several slots
      } finally {
        c.disconnect();
      }
    }
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) await n.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
