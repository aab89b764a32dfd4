/**
 * The Redis rank index: version-checked updates from PostgreSQL commits and the reads that serve
 * `top`, `around`, `rank`, `ranks` and `page`. A read answers UNTRUSTED when the board's index is
 * not to be trusted (flushed, evicted, lost, or being replaced); the caller then falls back to
 * PostgreSQL. Names come from the one names hash (keys.ts): in the read script itself on a single
 * Redis, with one HMGET after it on a cluster.
 *
 * It owns the index's connection: the maintainer, rebuilds and reconcile go through its methods
 * and its `bulk` (bulk.ts), never to Redis themselves.
 */
import { isCluster, type RedisClient } from '../store/redis.ts';
import { compareListing, parseBoard, periodEnd, type Entry, type PageCursor } from '../../protocol/index.ts';
import { assignRanks, type Row } from '../ranking.ts';
import { IndexBulk } from './bulk.ts';
import { defineIndexScripts, type IndexClient, type RanksReply, type ReadKeys, type RowsReply } from './commands.ts';
import { NAMES_FILLED, boardKeys, fromMember, namesKeys, parseNameValue, toMember, type NamesKeys } from './keys.ts';
import { randomBytes } from 'node:crypto';

export const UNTRUSTED = Symbol('untrusted');
export type Untrusted = typeof UNTRUSTED;

/** One committed change of one user on one board, with the absolute values PostgreSQL returned. */
export interface IndexUpdate {
  board: string;
  userId: number;
  /** The board's total after the commit. */
  total: number;
  /** The board's games_played after the commit. */
  games: number;
  /** This commit created the board. */
  newBoard: boolean;
  /** The caller wants the rank of this total (a count in the index, so asked only where used). */
  ranked?: boolean;
}

/** A user's name as of a commit: one per committed submit, whatever the boards the user is on. */
export interface NameUpdate {
  userId: number;
  /** The user's global games_played after the commit (orders a user's names). */
  version: number;
  name: string;
}

/** `rank` is given for an update that asked for it (`ranked`). */
export type ApplyOutcome = { applied: false } | { applied: true; rank: number | undefined; epoch: string };

export interface RankAnswer {
  entry: Entry;
  totalPlayers: number;
}

type Names = (string | null)[];

const LOG_TTL_MS = 120_000;

/** How long a window board's index outlives its period: late commits of the period still land. */
export const WINDOW_INDEX_GRACE_MS = 10 * 60_000;

/** When a window board's index keys expire (ms since the epoch); undefined for all-time boards. */
export function indexExpiry(board: string): number | undefined {
  const b = parseBoard(board);
  if (!b?.window || !b.period) return undefined;
  return periodEnd(b.window, b.period) + WINDOW_INDEX_GRACE_MS;
}

/** A fresh generation of a board's index (its epoch key's value). */
export function newGeneration(): string {
  return randomBytes(6).toString('base64url');
}

/** Most members in one coalesced rank read (Lua's unpack stays far below its limit). */
const RANK_BATCH_MAX = 512;

interface RankWaiter {
  userId: number;
  resolve: (answer: RankAnswer | undefined | Untrusted) => void;
  reject: (err: unknown) => void;
}

export class RankIndex {
  private readonly redis: IndexClient;
  /** The names hash is read inside the read scripts (a single Redis), else after them (a cluster). */
  private readonly namesInScript: boolean;
  private readonly namesKeys: NamesKeys;
  /** A rebuild's and reconcile's traffic, on this connection. */
  readonly bulk: IndexBulk;
  /** `rank` requests of this event-loop turn, by board, read together on the next (see rank()). */
  private readonly rankWaiting = new Map<string, RankWaiter[]>();
  private rankFlush: NodeJS.Immediate | undefined;

  constructor(
    redis: RedisClient,
    private readonly prefix: string,
    /** Times one Redis call this index makes on its own (a coalesced read); the function returned ends it. */
    private readonly timeCall?: (call: string) => () => void,
  ) {
    this.namesInScript = !isCluster(redis);
    this.redis = defineIndexScripts(redis, this.namesInScript ? 4 : 3);
    this.namesKeys = namesKeys(prefix);
    this.bulk = new IndexBulk(this.redis, prefix);
  }

  /** The names of the board's keys (for tests and tools that look at Redis itself). */
  keys(board: string) {
    return boardKeys(this.prefix, board);
  }

  /** True while the connection is up; when it is not, callers skip straight to PostgreSQL. */
  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  /** Calls `fn` whenever the connection is (back) up. */
  onReady(fn: () => void): void {
    this.redis.on('ready', fn);
  }

  /** The keys a read script takes: the board's, and the names hash where it can read it. */
  private readKeys(board: string): ReadKeys {
    const k = this.keys(board);
    return this.namesInScript ? [k.epoch, k.z, k.h, this.namesKeys.names] : [k.epoch, k.z, k.h];
  }

  /** The names of `members`: as the script read them, or (on a cluster) with one HMGET. */
  private async namesOf(members: readonly string[], read: Names | null): Promise<Names> {
    if (this.namesInScript) return read ?? [];
    if (members.length === 0) return [];
    return (await this.redis.hmget(this.namesKeys.names, ...members)).map((v) => (v === null ? null : parseNameValue(v).name));
  }

  /** Whether the board's index is trusted: its epoch is there, and so are its sets unless it is empty. */
  async trusted(board: string): Promise<boolean> {
    const k = this.keys(board);
    return (await this.redis.lbTrusted(k.epoch, k.z, k.h)) === 1;
  }

  /** The board's number of players, or UNTRUSTED when its index is not trusted. */
  async size(board: string): Promise<number | Untrusted> {
    if (!(await this.trusted(board))) return UNTRUSTED;
    return this.redis.zcard(this.keys(board).z);
  }

  /** Stops every instance trusting the board's index (they read it from PostgreSQL until it is rebuilt). */
  async invalidate(board: string): Promise<void> {
    const k = this.keys(board);
    await this.redis.lbInvalidate(k.epoch, k.channel);
  }

  /** Whether a rebuild of `global` has filled the names hash since it was created (see NAMES_FILLED). */
  async namesFilled(): Promise<boolean> {
    return (await this.redis.hexists(this.namesKeys.names, NAMES_FILLED)) === 1;
  }

  /**
   * Applies updates, one script call per board (updates of a board keep their order), and the
   * names of the commits in one more call on the names hash whatever the boards; one outcome per
   * update in the order given, and the users whose name changed.
   */
  async apply(updates: readonly IndexUpdate[], names: readonly NameUpdate[] = []): Promise<{ outcomes: ApplyOutcome[]; renamed: number[] }> {
    // Names go first: a board never shows a member whose name is not there yet (that reads as
    // damage). One connection keeps the order on a single Redis; a cluster's nodes do not.
    let setNames: Promise<string[]> = Promise.resolve([]);
    if (names.length > 0) {
      const args: (string | number)[] = [];
      for (const n of names) args.push(toMember(n.userId), n.version, n.name);
      const k = this.namesKeys;
      setNames = this.redis.lbSetNames(k.names, k.channel, k.log, k.rebuilding, ...args);
      if (!this.namesInScript) await setNames;
    }
    const byBoard = new Map<string, number[]>();
    updates.forEach((u, i) => {
      const list = byBoard.get(u.board);
      if (list) list.push(i);
      else byBoard.set(u.board, [i]);
    });
    // One script call per board, issued together: auto-pipelined into one write per node (a
    // cluster holds boards in different slots, so they cannot share one pipeline).
    const boards = [...byBoard.entries()];
    const replies = boards.map(([board, idx]) => {
      const k = this.keys(board);
      const isNew = idx.some((i) => updates[i]!.newBoard);
      const ranked = idx.some((i) => updates[i]!.ranked === true);
      const args: (string | number)[] = [];
      for (const i of idx) {
        const u = updates[i]!;
        args.push(toMember(u.userId), String(-u.total), u.games);
      }
      return this.redis.lbApply(k.epoch, k.z, k.h, k.rebuilding, k.log, k.channel, isNew ? newGeneration() : '', isNew ? '1' : '0', LOG_TTL_MS, indexExpiry(board) ?? '', ranked ? '1' : '0', ...args);
    });
    const [results, renamed] = await Promise.all([Promise.all(replies), setNames]);
    const outcomes: ApplyOutcome[] = new Array(updates.length);
    boards.forEach(([, idx], b) => {
      const r = results[b]!;
      idx.forEach((i, k) => (outcomes[i] = r[0] === 1 ? { applied: true, rank: r[2 + k] as number | undefined, epoch: r[1] } : { applied: false }));
    });
    return { outcomes, renamed: renamed.map(fromMember) };
  }

  /** The top `limit` rows, with the index generation they were read from. */
  async top(board: string, limit: number): Promise<{ entries: Entry[]; epoch: string } | Untrusted> {
    const reply = await this.redis.lbRange(...this.readKeys(board), 0, limit - 1);
    if (reply === null) return UNTRUSTED;
    const entries = await this.toEntries(reply);
    return entries === UNTRUSTED ? UNTRUSTED : { entries, epoch: reply[0] };
  }

  /** Entries around the user, `undefined` when the user is not on the board. */
  async around(board: string, userId: number, radius: number): Promise<Entry[] | undefined | Untrusted> {
    const reply = await this.redis.lbAround(...this.readKeys(board), toMember(userId), radius);
    if (reply === null) return UNTRUSTED;
    if (reply.length === 1) return undefined;
    return this.toEntries(reply as RowsReply);
  }

  /**
   * One user's rank. The rank requests of one event-loop turn on a board share one script call
   * (READ_RANKS): under load that is one round trip and one reply to parse for many requests, and
   * alone it goes out on the next turn, as a single call would.
   */
  rank(board: string, userId: number): Promise<RankAnswer | undefined | Untrusted> {
    return new Promise((resolve, reject) => {
      let waiting = this.rankWaiting.get(board);
      if (!waiting) {
        this.rankWaiting.set(board, (waiting = []));
        if (!this.rankFlush) this.rankFlush = setImmediate(() => this.flushRanks());
      }
      waiting.push({ userId, resolve, reject });
      if (waiting.length >= RANK_BATCH_MAX) {
        this.rankWaiting.delete(board);
        void this.readRanks(board, waiting);
      }
    });
  }

  private flushRanks(): void {
    this.rankFlush = undefined;
    const all = [...this.rankWaiting];
    this.rankWaiting.clear();
    for (const [board, waiting] of all) void this.readRanks(board, waiting);
  }

  private async readRanks(board: string, waiting: RankWaiter[]): Promise<void> {
    const end = this.timeCall?.('rank');
    try {
      const members = waiting.map((w) => toMember(w.userId));
      const reply = await this.redis.lbRanks(...this.readKeys(board), ...members).finally(end);
      if (reply === null) {
        for (const w of waiting) w.resolve(UNTRUSTED);
        return;
      }
      const totalPlayers = reply[5];
      const entries = await this.entriesOf(reply, members, waiting.map((w) => w.userId));
      waiting.forEach((w, i) => {
        const entry = entries[i];
        w.resolve(entry === undefined || entry === UNTRUSTED ? entry : { entry, totalPlayers });
      });
    } catch (err) {
      for (const w of waiting) w.reject(err);
    }
  }

  /** The entries of those of `userIds` on the board, in listing order (one script call). */
  async ranks(board: string, userIds: readonly number[]): Promise<Entry[] | Untrusted> {
    const members = userIds.map(toMember);
    const reply = await this.redis.lbRanks(...this.readKeys(board), ...members);
    if (reply === null) return UNTRUSTED;
    const entries = await this.entriesOf(reply, members, userIds);
    if (entries.includes(UNTRUSTED)) return UNTRUSTED;
    return entries.filter((e): e is Entry => e !== undefined && e !== UNTRUSTED).sort(compareListing);
  }

  /**
   * A READ_RANKS reply as one answer per member asked: its entry, undefined when it is not on the
   * board, or UNTRUSTED for a score without its row or name (the board is damaged).
   */
  private async entriesOf(reply: RanksReply, members: readonly string[], userIds: readonly number[]): Promise<(Entry | undefined | Untrusted)[]> {
    const [, totals, ranks, games, read] = reply;
    // One name per member asked (on a cluster, read after the script for all of them).
    const names = await this.namesOf(members, read);
    const out: (Entry | undefined | Untrusted)[] = new Array(userIds.length);
    for (let i = 0; i < userIds.length; i++) {
      const total = totals[i];
      const g = games[i];
      const name = names[i];
      if (total == null) out[i] = undefined;
      else if (g == null || name == null) out[i] = UNTRUSTED; // a score without its row or name: the board is damaged
      else out[i] = { rank: ranks[i]!, user_id: userIds[i]!, username: name, total_score: total, games_played: g };
    }
    return out;
  }

  /** Up to `count` rows after `after` in listing order (from the top without it), ranked (one script call). */
  async page(board: string, after: PageCursor | undefined, count: number): Promise<Entry[] | Untrusted> {
    const [negScore, member] = after ? [String(0 - after.total_score), toMember(after.user_id)] : ['', ''];
    const reply = await this.redis.lbPage(...this.readKeys(board), negScore, member, count);
    if (reply === null) return UNTRUSTED;
    return this.toEntries(reply);
  }

  private async toEntries(reply: RowsReply): Promise<Entry[] | Untrusted> {
    const [, firstRank, start, flat, games, read] = reply;
    const members: string[] = new Array(flat.length / 2);
    for (let i = 0; i < members.length; i++) members[i] = flat[2 * i]!;
    const names = await this.namesOf(members, read);
    const rows: Row[] = new Array(members.length);
    for (let i = 0; i < rows.length; i++) {
      const g = games[i];
      const name = names[i];
      if (g == null || name == null) return UNTRUSTED; // a score without its row: treat the board as damaged
      rows[i] = { user_id: fromMember(members[i]!), username: name, total_score: 0 - Number(flat[2 * i + 1]), games_played: Number(g) };
    }
    return assignRanks(rows, firstRank, start);
  }
}
