/**
 * One live top-N view on the client: takes snapshots and diffs, says when it must resync (a gap or
 * another epoch), and reports which rows moved. Pure: no socket, no timers.
 */
import { applyDiff, type DiffFrame, type Entry } from '../../protocol/wire.ts';

export interface RowChange {
  user_id: number;
  /** new: entered the view; up/down: its rank changed; same: only score, games or name changed. */
  kind: 'new' | 'up' | 'down' | 'same';
  /** Rank before (absent for `new`). */
  from?: number;
  to: number;
  /** Score gained since the previous view (absent for `new`). */
  scoreDelta?: number;
}

export interface ViewUpdate {
  entries: Entry[];
  changes: RowChange[];
  removed: number[];
  /** A snapshot replaced the view (subscribe, resync, new epoch). */
  reset: boolean;
}

export interface SnapshotLike {
  epoch: string | number;
  seq: number;
  entries: Entry[];
}

export function describeChanges(before: readonly Entry[], after: readonly Entry[]): { changes: RowChange[]; removed: number[] } {
  const prev = new Map(before.map((e) => [e.user_id, e]));
  const changes: RowChange[] = [];
  for (const e of after) {
    const p = prev.get(e.user_id);
    prev.delete(e.user_id);
    if (!p) {
      changes.push({ user_id: e.user_id, kind: 'new', to: e.rank });
      continue;
    }
    const same = p.rank === e.rank && p.total_score === e.total_score && p.games_played === e.games_played && p.username === e.username;
    if (same) continue;
    const kind = e.rank < p.rank ? 'up' : e.rank > p.rank ? 'down' : 'same';
    changes.push({ user_id: e.user_id, kind, from: p.rank, to: e.rank, scoreDelta: e.total_score - p.total_score });
  }
  return { changes, removed: [...prev.keys()] };
}

export class LiveView {
  epoch: string | number | undefined;
  seq = -1;
  entries: Entry[] = [];

  get synced(): boolean {
    return this.epoch !== undefined;
  }

  /** Replaces the view with a snapshot (the subscribe reply or a pushed `snapshot`). */
  reset(s: SnapshotLike): ViewUpdate {
    const { changes, removed } = describeChanges(this.entries, s.entries);
    this.epoch = s.epoch;
    this.seq = s.seq;
    this.entries = s.entries;
    return { entries: this.entries, changes, removed, reset: true };
  }

  /** Applies a diff, or returns 'resync' when it does not continue this view (gap, repeat or another epoch). */
  apply(d: Pick<DiffFrame, 'epoch' | 'seq' | 'entries' | 'removed'>): ViewUpdate | 'resync' {
    if (!this.synced || d.epoch !== this.epoch || d.seq !== this.seq + 1) return 'resync';
    const next = applyDiff(this.entries, d);
    const { changes, removed } = describeChanges(this.entries, next);
    this.seq = d.seq;
    this.entries = next;
    return { entries: next, changes, removed, reset: false };
  }

  /** Forgets the view's continuity; the next snapshot restarts it. */
  invalidate(): void {
    this.epoch = undefined;
    this.seq = -1;
  }
}
