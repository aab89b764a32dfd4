/**
 * The rank index's bulk traffic with Redis: a rebuild's lock, the writes filling its copy and the
 * swap (rebuild.ts), and the reads comparing a board with PostgreSQL (reconcile.ts). RankIndex
 * makes the one instance and hands it the connection it owns; the callers hold the logic, and
 * name boards, never keys.
 */
import { isCluster } from '../store/redis.ts';
import type { IndexRowOf } from '../store/scores.ts';
import { indexPipeline, type IndexClient } from './commands.ts';
import { boardKeyScan, boardKeys, instanceAliveKey, namesKeys, toMember, type NamesKeys } from './keys.ts';

export class IndexBulk {
  private readonly names: NamesKeys;

  constructor(
    private readonly redis: IndexClient,
    private readonly prefix: string,
  ) {
    this.names = namesKeys(prefix);
  }

  /** Says that `owner` lives, for `ttlMs`: a tool has no heartbeat of its own (see heartbeat.ts). */
  async beat(owner: string, ttlMs: number): Promise<void> {
    await this.redis.set(instanceAliveKey(this.prefix, owner), '1', 'PX', ttlMs);
  }

  async instanceAlive(instance: string): Promise<boolean> {
    return (await this.redis.exists(instanceAliveKey(this.prefix, instance))) === 1;
  }

  /** Takes the board's rebuild lock if nobody holds it. */
  async lock(board: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(boardKeys(this.prefix, board).lock, token, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async lockHolder(board: string): Promise<string | null> {
    return this.redis.get(boardKeys(this.prefix, board).lock);
  }

  /** Releases the lock if `token` still holds it. */
  async unlock(board: string, token: string): Promise<void> {
    await this.redis.lbUnlock(boardKeys(this.prefix, board).lock, token);
  }

  /** Marks the board as rebuilding, so that live writers log their updates from now on. */
  async beginCopy(board: string, ttlMs: number): Promise<void> {
    const k = boardKeys(this.prefix, board);
    await this.redis.lbRebuildBegin(k.log, k.rebuilding, ttlMs);
  }

  /**
   * Starts rebuild `token`'s copy of the names hash (a rebuild of `global`, which holds every
   * user): live name writes are logged from now on, until NAMES_SWAP.
   */
  async beginNamesCopy(token: string, ttlMs: number): Promise<void> {
    await this.redis.lbNamesBegin(this.names.log, this.names.rebuilding, token, ttlMs);
  }

  /**
   * Writes rows into the copy of rebuild `token` and extends its lock, mark and copy, and
   * `owner`'s life, by `ttlMs`. Rows that carry names write them into the rebuild's names copy
   * (`namesTo: 'copy'`, plain writes: see beginNamesCopy) or, version-checked, into the names hash
   * itself (`'hash'`). Throws what Redis refused; answers false when the lock, or the names copy,
   * is no longer the rebuild's.
   */
  async writeCopy(
    board: string,
    token: string,
    owner: string,
    rows: readonly IndexRowOf<boolean>[],
    ttlMs: number,
    namesTo: 'copy' | 'hash' = 'hash',
  ): Promise<boolean> {
    const k = boardKeys(this.prefix, board);
    const tz = k.tz(token);
    const th = k.th(token);
    // Whole commands as arrays of strings (`call`), not numbers spread as arguments: ioredis then
    // neither converts each argument nor collects tens of thousands of them into a rest array.
    const zadd: string[] = [tz];
    const hset: string[] = [th];
    const names: string[] = [];
    for (const r of rows) {
      const member = toMember(r.user_id);
      zadd.push(String(-r.total_score), member);
      hset.push(member, String(r.games_played));
      if ('username' in r) {
        if (namesTo === 'copy') names.push(member, `${r.name_version}:${r.username}`);
        else names.push(member, String(r.name_version), r.username);
      }
    }
    // The board's keys in one pipeline (one slot); the names and the heartbeat, in other
    // slots, beside it.
    const p = indexPipeline(this.redis);
    p.call('zadd', zadd);
    p.call('hset', hset);
    p.lbRebuildExtend(k.lock, k.rebuilding, tz, th, token, ttlMs);
    const [results, namesOk] = await Promise.all([
      p.exec(),
      names.length === 0 ? true : namesTo === 'copy' ? this.writeNamesCopy(token, names, ttlMs) : this.writeNames(names).then(() => true),
      this.beat(owner, ttlMs),
    ]);
    for (const [err] of results ?? []) if (err) throw err;
    return results?.[2]?.[1] === 1 && namesOk;
  }

  /**
   * Extends rebuild `token`'s lock, mark and copy (and its names copy's, with `names`) and
   * `owner`'s life by `ttlMs`, writing nothing. Each extends only what is still the rebuild's.
   */
  async extend(board: string, token: string, owner: string, ttlMs: number, names: boolean): Promise<void> {
    const k = boardKeys(this.prefix, board);
    const n = this.names;
    await Promise.all([
      this.redis.lbRebuildExtend(k.lock, k.rebuilding, k.tz(token), k.th(token), token, ttlMs),
      names ? this.redis.lbNamesExtend(n.rebuilding, n.copy(token), n.log, token, ttlMs) : undefined,
      this.beat(owner, ttlMs),
    ]);
  }

  /** Version-checked names (member, version, name triples) into the names hash. */
  private async writeNames(triples: string[]): Promise<void> {
    const n = this.names;
    await this.redis.lbSetNames(n.names, n.channel, n.log, n.rebuilding, ...triples);
  }

  /** Names (member, "version:name" pairs) into rebuild `token`'s names copy; false once it is not the rebuild's. */
  private async writeNamesCopy(token: string, pairs: string[], ttlMs: number): Promise<boolean> {
    const n = this.names;
    const p = indexPipeline(this.redis);
    p.call('hset', [n.copy(token), ...pairs]);
    p.lbNamesExtend(n.rebuilding, n.copy(token), n.log, token, ttlMs);
    const results = await p.exec();
    for (const [err] of results ?? []) if (err) throw err;
    return results?.[1]?.[1] === 1;
  }

  /**
   * Replays the names logged during rebuild `token` onto its names copy, marks the copy filled by
   * generation `epoch` (NAMES_FILLED) and swaps it in. False, swapping nothing, when the copy is no
   * longer the rebuild's (its mark expired, or another rebuild began one).
   */
  async swapNamesCopy(token: string, epoch: string): Promise<boolean> {
    const n = this.names;
    return (await this.redis.lbNamesSwap(n.names, n.copy(token), n.log, n.rebuilding, token, epoch)) === 1;
  }

  /**
   * Replays the log onto the copy of rebuild `token`, swaps it in under `epoch` and announces the
   * new generation; `expireAt` is '' for an all-time board. Answers null, swapping nothing, when
   * the rebuilding mark expired or the lock is not the rebuild's.
   */
  async swapCopy(board: string, token: string, epoch: string, expireAt: string): Promise<string | null> {
    const k = boardKeys(this.prefix, board);
    return this.redis.lbRebuildSwap(k.epoch, k.z, k.h, k.tz(token), k.th(token), k.log, k.rebuilding, k.lock, k.channel, epoch, token, expireAt);
  }

  /** For each of `members`: its score and games on the board, and its name (null where absent). */
  async readRows(board: string, members: readonly string[]): Promise<{ scores: (string | null)[]; games: (string | null)[]; names: (string | null)[] }> {
    const k = boardKeys(this.prefix, board);
    const [scores, games, names] = await Promise.all([this.redis.zmscore(k.z, ...members), this.redis.hmget(k.h, ...members), this.redis.hmget(this.names.names, ...members)]);
    return { scores, games, names };
  }

  /** The members in the board's sorted set (z) and in its hash (h). */
  async sizes(board: string): Promise<{ z: number; h: number }> {
    const k = boardKeys(this.prefix, board);
    const [z, h] = await Promise.all([this.redis.zcard(k.z), this.redis.hlen(k.h)]);
    return { z, h };
  }

  /** Every member of the board's sorted set (z) or hash (h), a page at a time. */
  async scanMembers(board: string, set: 'z' | 'h', onPage: (members: string[]) => Promise<void>): Promise<void> {
    const key = boardKeys(this.prefix, board)[set];
    let cursor = '0';
    do {
      const [next, flat] = set === 'z' ? await this.redis.zscan(key, cursor, 'COUNT', 1000) : await this.redis.hscan(key, cursor, 'COUNT', 1000);
      cursor = next;
      const members: string[] = [];
      for (let i = 0; i < flat.length; i += 2) members.push(flat[i]!);
      if (members.length > 0) await onPage(members);
    } while (cursor !== '0');
  }

  /** The boards that have index keys (epoch, z or h) under the prefix, on every master. */
  async scanBoards(): Promise<Set<string>> {
    const scan = boardKeyScan(this.prefix);
    const found = new Set<string>();
    const nodes = isCluster(this.redis) ? this.redis.nodes('master') : [this.redis];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', scan.glob, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          const board = scan.boardOf(key);
          if (board !== undefined) found.add(board);
        }
      } while (cursor !== '0');
    }
    return found;
  }

  /** Deletes the board's sorted set and hash. */
  async deleteSets(board: string): Promise<void> {
    const k = boardKeys(this.prefix, board);
    await this.redis.del(k.z, k.h);
  }
}
