/**
 * The live state of one board on this instance, without I/O: the current top rows (the view), one
 * group per subscribed limit with the rows it last sent, its epoch and seq, and the view's
 * freshness (changed since read, a read in flight, continuity lost, last asked for by `top`). Every
 * socket of a group receives the same frames, so each diff is computed and encoded once per group.
 */
import { diffTop, encodeOnce, isEmptyDiff, type DiffFrame, type Entry, type SnapshotFrame } from '../../protocol/index.ts';
import type { Sign } from '../board-kinds.ts';
import type { ChangeNotice } from '../rank-index/keys.ts';
import type { Socket } from '../socket.ts';

/** Rows a feed tracks: the largest limit a subscriber may ask for. */
export const VIEW_SIZE = 100;

export interface Group {
  board: string;
  limit: number;
  topic: string;
  epoch: string;
  seq: number;
  sent: Entry[];
  sockets: Set<Socket>;
  /** For a current-period board (`global:daily`): the period it shows now (`global:daily:2026-11-30`). */
  period?: string;
}

/** What a refresh took over from the feed when it began; handed back if the refresh fails. */
export interface RefreshStart {
  /** Continuity was lost before this refresh: it starts every group anew. */
  restart: boolean;
  /** When the oldest change this refresh publishes arrived (performance.now(); 0: none). */
  since: number;
}

export class Feed {
  #view: Entry[] = [];
  #members = new Set<number>();
  #indexEpoch: string | undefined;
  /** The view's first N rows by N, each encoded once for all the `top` replies that carry it. */
  #tops = new Map<number, Entry[]>();
  readonly #groups = new Map<number, Group>();
  #source: string;
  #dirty = true;
  #dirtySince = 0;
  #restartPending = false;
  #refreshing = false;
  #fromIndex = false;
  #lastReadAt = 0;

  /**
   * `sign`: -1 on an `asc` board, whose change notices carry sort keys (minus the totals) while
   * the view holds totals (server/board-kinds.ts).
   */
  constructor(
    readonly board: string,
    private readonly nextGroupEpoch: () => string,
    source = board,
    private readonly sign: Sign = 1,
  ) {
    this.#source = source;
  }

  /** The board whose rows the feed shows: `board` itself, or the period a current-period id means now. */
  get source(): string {
    return this.#source;
  }
  get groups(): ReadonlyMap<number, Group> {
    return this.#groups;
  }
  /** Something may have changed the view: re-read it on the next tick. */
  get dirty(): boolean {
    return this.#dirty;
  }
  /** When the oldest change not yet published reached this instance (performance.now(); 0: none). */
  get dirtySince(): number {
    return this.#dirtySince;
  }
  /** Continuity was lost (e.g. missed notices): the next refresh starts every group anew. */
  get restartPending(): boolean {
    return this.#restartPending;
  }
  /** A read that will replace the view (a refresh or a rollover) is in flight. */
  get refreshing(): boolean {
    return this.#refreshing;
  }
  /** The view came from the rank index (not a PostgreSQL fallback). */
  get fromIndex(): boolean {
    return this.#fromIndex;
  }
  /** When a `top` read last asked for this board (Date.now()); keeps a feed without spectators. */
  get lastReadAt(): number {
    return this.#lastReadAt;
  }

  /** A change may have touched the view: re-read it, and time the diff from the first such change. */
  markChanged(now: number): void {
    this.#dirty = true;
    if (this.#dirtySince === 0) this.#dirtySince = now;
  }

  /** Re-read the view without a known change (the periodic refresh): no latency is timed for it. */
  markStale(): void {
    this.#dirty = true;
  }

  /** Notices may have been missed: the next refresh starts every group over. */
  markRestart(): void {
    this.#restartPending = true;
    this.#dirty = true;
  }

  /**
   * A read of the whole view is starting (a first read, or a rollover's new period): changes noted
   * from now on may be missing from it, so they leave the feed dirty for the next tick. Cleared
   * before the read, as a refresh does, never after it.
   */
  startWholeRead(): void {
    this.#dirty = false;
    this.#dirtySince = 0;
  }

  /**
   * A refresh is starting: changes arriving from now on are the next refresh's, so the flags are
   * cleared here, before the read, and what they said is handed to this refresh.
   */
  beginRefresh(): RefreshStart {
    this.#refreshing = true;
    this.#dirty = false;
    const start = { restart: this.#restartPending, since: this.#dirtySince };
    this.#restartPending = false;
    this.#dirtySince = 0;
    return start;
  }

  /** The refresh failed: its work is due again (timed from its changes unless a newer one is already pending). */
  refreshFailed(start: RefreshStart): void {
    this.#dirty = true;
    this.#restartPending ||= start.restart;
    if (this.#dirtySince === 0) this.#dirtySince = start.since;
  }

  /** A rollover is starting: no refresh may run (or another rollover start) until it ends. */
  beginRollover(): void {
    this.#refreshing = true;
  }

  /** The refresh or rollover ended, however it went. */
  endRefresh(): void {
    this.#refreshing = false;
  }

  /** A `top` read asked for the board (Date.now()). */
  noteRead(now: number): void {
    this.#lastReadAt = now;
  }

  /** The view is the index's current top: read from it, no change since, none pending, no read in flight. */
  isCurrent(): boolean {
    return !this.#dirty && !this.#refreshing && !this.#restartPending && this.#fromIndex;
  }

  /** Follows another board from now on (a period rolled over); its index generation is not ours. */
  switchSource(source: string): void {
    this.#source = source;
    this.#indexEpoch = undefined;
  }

  /** Takes a fresh view; true when the index was rebuilt since the last one (a new generation). */
  setView(entries: Entry[], indexEpoch: string | undefined): boolean {
    this.#view = entries;
    this.#tops = new Map();
    this.#fromIndex = indexEpoch !== undefined;
    this.#members = new Set(entries.map((e) => e.user_id));
    const rebuilt = indexEpoch !== undefined && this.#indexEpoch !== undefined && indexEpoch !== this.#indexEpoch;
    if (indexEpoch !== undefined) this.#indexEpoch = indexEpoch;
    return rebuilt;
  }

  /** The first `limit` rows of the view, the same array (and encoding) until the view changes. */
  top(limit: number): Entry[] {
    let rows = this.#tops.get(limit);
    if (!rows) this.#tops.set(limit, (rows = encodeOnce(this.#view.slice(0, limit))));
    return rows;
  }

  /** False only when the change provably cannot touch the top VIEW_SIZE rows. */
  affectedBy(n: ChangeNotice): boolean {
    if (n.generation) return true;
    if (this.#view.length < VIEW_SIZE || this.#members.has(n.userId)) return true;
    const last = this.#view[this.#view.length - 1]!;
    const lastKey = this.sign === 1 ? last.total_score : 0 - last.total_score;
    return n.total > lastKey || (n.total === lastKey && n.userId < last.user_id);
  }

  /** Whether the user is in the view: a rename of anyone else cannot change it. */
  shows(userId: number): boolean {
    return this.#members.has(userId);
  }

  group(limit: number): Group {
    let g = this.#groups.get(limit);
    if (!g) {
      g = {
        board: this.board,
        limit,
        topic: `live|${limit}|${this.board}`,
        epoch: this.nextGroupEpoch(),
        seq: 0,
        sent: this.#view.slice(0, limit),
        sockets: new Set(),
        ...(this.#source === this.board ? {} : { period: this.#source }),
      };
      this.#groups.set(limit, g);
    }
    return g;
  }

  /** Forgets the group of `limit` (its last socket left). */
  dropGroup(limit: number): void {
    this.#groups.delete(limit);
  }

  /** The diff that moves the group from what it sent to the current view, if anything changed. */
  advance(g: Group): DiffFrame | undefined {
    const next = this.#view.slice(0, g.limit);
    const d = diffTop(g.sent, next);
    if (isEmptyDiff(d)) return undefined;
    g.seq += 1;
    g.sent = next;
    return { op: 'diff', board: g.board, epoch: g.epoch, seq: g.seq, entries: d.entries, removed: d.removed };
  }

  /** Starts the group over: a new epoch and a snapshot of the current view. */
  restart(g: Group): SnapshotFrame {
    g.epoch = this.nextGroupEpoch();
    g.seq = 0;
    g.sent = this.#view.slice(0, g.limit);
    return snapshotOf(g);
  }

  /** Starts the group over on the period the feed now follows (after switchSource). */
  restartInPeriod(g: Group): SnapshotFrame {
    g.period = this.#source;
    return this.restart(g);
  }
}

export function snapshotOf(g: Group): SnapshotFrame {
  return { op: 'snapshot', board: g.board, epoch: g.epoch, seq: g.seq, entries: g.sent, ...(g.period ? { period: g.period } : {}) };
}
