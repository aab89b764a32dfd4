/**
 * This instance's heartbeat in Redis: a key that lives HEARTBEAT_TTL_MS and is renewed four times
 * as often. Its absence means the instance is gone (dead, stopped, or cut off from Redis): another
 * instance then takes over its rebuild locks (rebuild.ts) and rebuilds the boards of the index
 * updates it left pending in PostgreSQL (store/pending.ts, maintainer.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';
import type { RedisClient } from '../store/redis.ts';
import { instanceAliveKey } from './keys.ts';

export const HEARTBEAT_TTL_MS = 10_000;

export class InstanceHeartbeat {
  readonly instanceId = randomBytes(6).toString('hex');
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  /** Resolves once the first beat is in Redis (or failed: the next ones retry). */
  async start(): Promise<void> {
    const beat = async () => {
      if (this.redis.status !== 'ready') return;
      await this.redis
        .set(instanceAliveKey(this.prefix, this.instanceId), '1', 'PX', HEARTBEAT_TTL_MS)
        .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'heartbeat failed'));
    };
    this.timer = setInterval(() => void beat(), HEARTBEAT_TTL_MS / 4);
    this.timer.unref();
    await beat();
  }

  /** A clean stop says at once that this instance is gone. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.redis.status !== 'ready') return;
    await this.redis.del(instanceAliveKey(this.prefix, this.instanceId)).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'heartbeat removal failed'));
  }

  /** Which of `instances` have a heartbeat (this one always has). */
  async alive(instances: readonly string[]): Promise<Set<string>> {
    const others = [...new Set(instances)].filter((id) => id !== this.instanceId);
    const out = new Set<string>([this.instanceId]);
    if (others.length === 0) return out;
    // One EXISTS per key: on a Redis Cluster they share the {instances} slot, but stay single-key commands.
    const found = await Promise.all(others.map((id) => this.redis.exists(instanceAliveKey(this.prefix, id))));
    others.forEach((id, i) => {
      if (found[i] === 1) out.add(id);
    });
    return out;
  }
}
