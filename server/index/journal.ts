/**
 * Which committed updates an instance has not yet applied to the rank index, kept in Redis so that
 * another instance can finish the job if this one dies between a commit and its index update.
 *
 * Before a submit commits, the instance records it under its own pending hash; after the index
 * update it forgets it. Every instance keeps a heartbeat key. The maintainer of any live instance
 * reaps instances whose heartbeat stopped: the users of their pending entries tell which boards
 * may be stale, and those boards are invalidated and rebuilt from PostgreSQL.
 *
 * The record is written before the PostgreSQL call on the same connection as the later index
 * update, so Redis sees them in that order even though the record is not awaited.
 */
import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../store/redis.ts';
import type { Logger } from '../log.ts';
import { instanceAliveKey, instancePendingKey, instancesKey } from './keys.ts';

const HEARTBEAT_TTL_MS = 10_000;

export class IndexJournal {
  readonly instanceId = randomBytes(6).toString('hex');
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastWarn = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  private get registry() {
    return instancesKey(this.prefix);
  }
  private alive(id: string) {
    return instanceAliveKey(this.prefix, id);
  }
  private pending(id: string) {
    return instancePendingKey(this.prefix, id);
  }

  start(): void {
    const beat = () => {
      if (this.redis.status !== 'ready') return;
      this.redis
        .multi()
        .sadd(this.registry, this.instanceId)
        .set(this.alive(this.instanceId), '1', 'PX', HEARTBEAT_TTL_MS)
        .exec()
        .catch((err: unknown) => this.warn(err, 'heartbeat failed'));
    };
    beat();
    this.timer = setInterval(beat, HEARTBEAT_TTL_MS / 4);
    this.timer.unref();
  }

  /** A clean stop leaves nothing to reap. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.redis.status !== 'ready') return;
    await this.redis
      .multi()
      .del(this.alive(this.instanceId), this.pending(this.instanceId))
      .srem(this.registry, this.instanceId)
      .exec()
      .catch((err: unknown) => this.warn(err, 'deregistering failed'));
  }

  /** Records submits (of these users) about to commit; returns the token that `end` takes. */
  begin(userIds: readonly number[]): string {
    const token = String(++this.seq);
    if (this.redis.status === 'ready') {
      this.redis.hset(this.pending(this.instanceId), token, userIds.join(',')).catch((err: unknown) => this.warn(err, 'journal write failed'));
    }
    return token;
  }

  end(token: string): void {
    if (this.redis.status !== 'ready') return;
    this.redis.hdel(this.pending(this.instanceId), token).catch((err: unknown) => this.warn(err, 'journal delete failed'));
  }

  /**
   * Forgets instances whose heartbeat stopped and returns the users their unfinished updates
   * touched. Several instances may reap the same one: the boards are just rebuilt twice.
   */
  async reapDead(): Promise<number[]> {
    const ids = (await this.redis.smembers(this.registry)).filter((id) => id !== this.instanceId);
    if (ids.length === 0) return [];
    const p = this.redis.pipeline();
    for (const id of ids) p.exists(this.alive(id));
    const alive = (await p.exec()) ?? [];
    const users = new Set<number>();
    for (let i = 0; i < ids.length; i++) {
      const [err, exists] = alive[i]!;
      if (err) throw err;
      if (exists === 1) continue;
      const id = ids[i]!;
      for (const list of await this.redis.hvals(this.pending(id))) for (const u of list.split(',')) users.add(Number(u));
      await this.redis.multi().del(this.pending(id)).srem(this.registry, id).exec();
      this.log.warn({ instance: id, users: users.size }, 'reaped a dead instance; its unfinished index updates will be rebuilt');
    }
    return [...users];
  }

  private warn(err: unknown, what: string): void {
    if (Date.now() - this.lastWarn < 5000) return;
    this.lastWarn = Date.now();
    this.log.warn({ err: (err as Error).message }, `index journal: ${what}`);
  }
}
