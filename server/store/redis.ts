/**
 * The Redis connections: one standalone server (REDIS_URL) or a Redis Cluster
 * (REDIS_CLUSTER_NODES). Everything above this module works on either: the keys of one board
 * share a hash tag (index/keys.ts), so each script touches one slot; commands on several boards
 * are sent one by one (auto-pipelined per node), never as one cross-slot pipeline; live changes
 * travel on sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7), which works on both.
 */
import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

export interface RedisTarget {
  url: string;
  /** Seed nodes of a Redis Cluster; when set, `url` is not used. */
  clusterNodes: readonly { host: string; port: number }[] | undefined;
}

export function isCluster(redis: RedisClient): redis is Cluster {
  return (redis as Cluster).isCluster === true;
}

/** The command connection (or cluster client) with the given per-node options. */
export function createRedis(target: RedisTarget, options: RedisOptions): RedisClient {
  if (!target.clusterNodes) return new Redis(target.url, options);
  const { lazyConnect, enableOfflineQueue, enableAutoPipelining, ...perNode } = options;
  return new Cluster(target.clusterNodes as ClusterNode[], {
    lazyConnect,
    enableOfflineQueue,
    enableAutoPipelining,
    scaleReads: 'master', // reads must see the writes just made (no replica lag in ranks)
    clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
    redisOptions: perNode,
  });
}

/** A connection for sharded subscriptions (a subscribed connection can do nothing else). */
export function createSubscriber(target: RedisTarget, redis: RedisClient, connectionName: string): RedisClient {
  if (!isCluster(redis)) return redis.duplicate({ enableOfflineQueue: true, lazyConnect: false, connectionName });
  return new Cluster(target.clusterNodes as ClusterNode[], {
    shardedSubscribers: true,
    enableOfflineQueue: true,
    clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
    redisOptions: { connectionName },
  });
}

/** Describes the target for logs and errors (no credentials). */
export function describeTarget(target: RedisTarget, redact: (url: string) => string): string {
  return target.clusterNodes ? `cluster ${target.clusterNodes.map((n) => `${n.host}:${n.port}`).join(',')}` : redact(target.url);
}

/** A Lua script to define as a command: how many of its arguments are keys, and its text. */
export interface ScriptDefinition {
  numberOfKeys: number;
  lua: string;
}

/**
 * Defines one command per script of `S` on `redis`, and answers `redis` typed with them (the
 * names of `definitions` must be those of `S`: a script cannot be typed and not defined).
 */
export function defineScripts<S extends object>(redis: RedisClient, definitions: { readonly [K in keyof S & string]: ScriptDefinition }): RedisClient & S {
  for (const name of Object.keys(definitions) as (keyof S & string)[]) redis.defineCommand(name, definitions[name]);
  // What defineCommand added, which ioredis cannot type.
  return redis as RedisClient & S;
}
