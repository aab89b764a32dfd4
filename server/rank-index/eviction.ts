/**
 * What the rank index asks of Redis's memory policy, checked once at start-up on every master:
 * `noeviction`. An evicting policy (with `maxmemory` set) may drop a board's sorted set under its
 * surviving epoch (detected: reads fall back to PostgreSQL and the board is rebuilt, see TRUSTED
 * in scripts.ts), the names hash (likewise), but also the instances' heartbeats (live instances
 * reaped, their boards rebuilt), rebuild locks and rate-limit buckets: service degrades, and a
 * rebuild under memory pressure can be evicted in turn. `REDIS_EVICTION_CHECK` says whether such
 * a policy is a warning or a refusal to start. A node that will not say (CONFIG refused, as on
 * some managed services) is a warning either way.
 */
import type { Logger } from '../log.ts';
import { isCluster, type RedisClient } from '../store/redis.ts';

export type EvictionCheck = 'warn' | 'refuse';

export interface NodeMemoryPolicy {
  node: string;
  /** Undefined when the node refused to say. */
  policy?: string;
  maxmemory?: number;
  error?: string;
}

/** CONFIG GET maxmemory and maxmemory-policy on every master (the one server when not a cluster). */
export async function memoryPolicies(redis: RedisClient): Promise<NodeMemoryPolicy[]> {
  const nodes = isCluster(redis) ? redis.nodes('master') : [redis];
  return Promise.all(
    nodes.map(async (node) => {
      const name = `${node.options.host ?? '?'}:${node.options.port ?? '?'}`;
      try {
        const flat = (await node.call('CONFIG', 'GET', 'maxmemory', 'maxmemory-policy')) as string[];
        const values = new Map<string, string>();
        for (let i = 0; i + 1 < flat.length; i += 2) values.set(flat[i]!, flat[i + 1]!);
        const policy = values.get('maxmemory-policy');
        if (policy === undefined) return { node: name, error: 'CONFIG GET answered without maxmemory-policy' };
        return { node: name, policy, maxmemory: Number(values.get('maxmemory') ?? 0) };
      } catch (err) {
        return { node: name, error: (err as Error).message };
      }
    }),
  );
}

export interface EvictionVerdict {
  /** Nodes whose policy may evict keys. */
  evicting: NodeMemoryPolicy[];
  /** Nodes that would not tell. */
  unknown: NodeMemoryPolicy[];
  /** Start-up must stop (only with `refuse`, only for a policy known to evict). */
  refuse: boolean;
}

export function evictionVerdict(policies: readonly NodeMemoryPolicy[], mode: EvictionCheck): EvictionVerdict {
  const evicting = policies.filter((p) => p.policy !== undefined && p.policy !== 'noeviction');
  const unknown = policies.filter((p) => p.policy === undefined);
  return { evicting, unknown, refuse: mode === 'refuse' && evicting.length > 0 };
}

/** Logs what the check found; returns the reason to refuse start-up, if it must. */
export async function checkEviction(redis: RedisClient, mode: EvictionCheck, log: Logger): Promise<string | undefined> {
  const v = evictionVerdict(await memoryPolicies(redis), mode);
  if (v.unknown.length > 0) {
    log.warn(
      { nodes: v.unknown },
      'cannot read maxmemory-policy from Redis (CONFIG refused?): make sure it is noeviction, or the rank index may be evicted (it is then rebuilt, with reads served from PostgreSQL meanwhile)',
    );
  }
  if (v.evicting.length === 0) return undefined;
  const what = v.evicting.map((p) => `${p.node} has maxmemory-policy ${p.policy} (maxmemory ${p.maxmemory})`).join('; ');
  if (v.refuse) return `Redis may evict the rank index: ${what}; set maxmemory-policy noeviction, or REDIS_EVICTION_CHECK=warn to start anyway`;
  log.error(
    { nodes: v.evicting },
    `REDIS MAY EVICT THE RANK INDEX: ${what}. Set maxmemory-policy noeviction. Evicted boards are detected and rebuilt (reads from PostgreSQL meanwhile), but instance heartbeats, rebuild locks and rate limits can be lost too`,
  );
  return undefined;
}
