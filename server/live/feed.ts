/**
 * The live state of one board on this instance, without I/O: the current top rows (the view),
 * and one group per subscribed limit with the rows it last sent, its epoch and seq. Every socket of
 * a group receives the same frames, so each diff is computed and encoded once per group.
 */
import { diffTop, encodeOnce, isEmptyDiff, type DiffFrame, type Entry, type SnapshotFrame } from '../../protocol/index.ts';
import type { ChangeNotice } from '../index/keys.ts';
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

export class Feed {
  view: Entry[] = [];
  private members = new Set<number>();
  indexEpoch: string | undefined;
  /** Something may have changed the view: re-read it on the next tick. */
  dirty = true;
  /** When the oldest change not yet published reached this instance (performance.now(); 0: none). */
  dirtySince = 0;
  /** Continuity was lost (e.g. missed notices): the next refresh starts every group anew. */
  restartPending = false;
  refreshing = false;
  /** The view came from the rank index (not a PostgreSQL fallback). */
  fromIndex = false;
  /** When a `top` read last asked for this board (Date.now()); keeps a feed without spectators. */
  lastReadAt = 0;
  /** The view's first N rows by N, each encoded once for all the `top` replies that carry it. */
  private tops = new Map<number, Entry[]>();
  readonly groups = new Map<number, Group>();
  /** The board whose rows the feed shows: `board` itself, or the period a current-period id means now. */
  source: string;

  constructor(
    readonly board: string,
    private readonly newEpoch: () => string,
    source = board,
  ) {
    this.source = source;
  }

  /** Follows another board from now on (a period rolled over); its index generation is not ours. */
  switchSource(source: string): void {
    this.source = source;
    this.indexEpoch = undefined;
  }

  /** Takes a fresh view; true when the index was rebuilt since the last one (a new generation). */
  setView(entries: Entry[], indexEpoch: string | undefined): boolean {
    this.view = entries;
    this.tops = new Map();
    this.fromIndex = indexEpoch !== undefined;
    this.members = new Set(entries.map((e) => e.user_id));
    const rebuilt = indexEpoch !== undefined && this.indexEpoch !== undefined && indexEpoch !== this.indexEpoch;
    if (indexEpoch !== undefined) this.indexEpoch = indexEpoch;
    return rebuilt;
  }

  /** The first `limit` rows of the view, the same array (and encoding) until the view changes. */
  top(limit: number): Entry[] {
    let rows = this.tops.get(limit);
    if (!rows) this.tops.set(limit, (rows = encodeOnce(this.view.slice(0, limit))));
    return rows;
  }

  /** False only when the change provably cannot touch the top VIEW_SIZE rows. */
  affectedBy(n: ChangeNotice): boolean {
    if (n.generation) return true;
    if (this.view.length < VIEW_SIZE || this.members.has(n.userId)) return true;
    const last = this.view[this.view.length - 1]!;
    return n.total > last.total_score || (n.total === last.total_score && n.userId < last.user_id);
  }

  /** Whether the user is in the view: a rename of anyone else cannot change it. */
  shows(userId: number): boolean {
    return this.members.has(userId);
  }

  group(limit: number): Group {
    let g = this.groups.get(limit);
    if (!g) {
      g = {
        board: this.board,
        limit,
        topic: `live|${limit}|${this.board}`,
        epoch: this.newEpoch(),
        seq: 0,
        sent: this.view.slice(0, limit),
        sockets: new Set(),
        ...(this.source === this.board ? {} : { period: this.source }),
      };
      this.groups.set(limit, g);
    }
    return g;
  }

  /** The diff that moves the group from what it sent to the current view, if anything changed. */
  advance(g: Group): DiffFrame | undefined {
    const next = this.view.slice(0, g.limit);
    const d = diffTop(g.sent, next);
    if (isEmptyDiff(d)) return undefined;
    g.seq += 1;
    g.sent = next;
    return { op: 'diff', board: g.board, epoch: g.epoch, seq: g.seq, entries: d.entries, removed: d.removed };
  }

  /** Starts the group over: a new epoch and a snapshot of the current view. */
  restart(g: Group): SnapshotFrame {
    g.epoch = this.newEpoch();
    g.seq = 0;
    g.sent = this.view.slice(0, g.limit);
    return snapshotOf(g);
  }
}

export function snapshotOf(g: Group): SnapshotFrame {
  return { op: 'snapshot', board: g.board, epoch: g.epoch, seq: g.seq, entries: g.sent, ...(g.period ? { period: g.period } : {}) };
}
