/**
 * The rows the board draws: each entry of the live top N plus how it last moved, whether its rank
 * is shared, and a counter that replays its flash. Pure, so the motion rules are unit-tested
 * without a browser.
 */
import type { Entry } from '../../../protocol/replies.ts';
import type { RowChange } from '../../sdk/live-view.ts';

/** How long a climb, fall or newcomer mark stays on a row after the change. */
export const MOVE_TTL_MS = 12_000;

export interface Movement {
  kind: RowChange['kind'];
  /** Places climbed or fallen (0 for `new` and `same`). */
  by: number;
  /** Score gained with this change (0 for `new`). */
  scoreDelta: number;
  at: number;
}

export interface RowState {
  entry: Entry;
  /** Another row in view has the same rank. */
  tied: boolean;
  movement: Movement | undefined;
  /** Bumped on every change of this row; the view re-keys its flash on it to replay the animation. */
  flash: number;
}

export interface RowsUpdate {
  entries: readonly Entry[];
  changes: readonly RowChange[];
  /** A snapshot replaced the view (first load, board switch, resync, reconnect). */
  reset: boolean;
}

/** Ranks held by more than one of `entries` (competition ranking: 1, 2, 2, 4). */
export function sharedRanks(entries: readonly Entry[]): Set<number> {
  const seen = new Set<number>();
  const shared = new Set<number>();
  for (const e of entries) {
    if (seen.has(e.rank)) shared.add(e.rank);
    seen.add(e.rank);
  }
  return shared;
}

function movementOf(c: RowChange, now: number): Movement {
  return {
    kind: c.kind,
    by: c.from === undefined ? 0 : Math.abs(c.from - c.to),
    scoreDelta: c.scoreDelta ?? 0,
    at: now,
  };
}

/**
 * Folds one view update into the rows. The first snapshot of a board (nothing shown before) marks
 * nothing: every row would be "new", which says nothing to the viewer. A later snapshot (after a
 * reconnect) does mark what changed while the board was away, relative to what was on screen.
 * `quiet` marks nothing either: the viewer changed the limit, so rows entering are not newcomers.
 */
export function mergeRows(prev: readonly RowState[], update: RowsUpdate, now: number, quiet = false): RowState[] {
  const before = new Map(prev.map((r) => [r.entry.user_id, r]));
  const unmarked = quiet || (update.reset && prev.length === 0);
  const changed = new Map(unmarked ? [] : update.changes.map((c) => [c.user_id, c]));
  const shared = sharedRanks(update.entries);
  return update.entries.map((entry) => {
    const old = before.get(entry.user_id);
    const change = changed.get(entry.user_id);
    const kept = old?.movement && now - old.movement.at < MOVE_TTL_MS ? old.movement : undefined;
    return {
      entry,
      tied: shared.has(entry.rank),
      movement: change ? movementOf(change, now) : kept,
      flash: (old?.flash ?? 0) + (change ? 1 : 0),
    };
  });
}

/** Drops movement marks older than MOVE_TTL_MS; returns `rows` itself when none expired. */
export function expireMovements(rows: RowState[], now: number): RowState[] {
  if (!rows.some((r) => r.movement && now - r.movement.at >= MOVE_TTL_MS)) return rows;
  return rows.map((r) => (r.movement && now - r.movement.at >= MOVE_TTL_MS ? { ...r, movement: undefined } : r));
}

export interface Badge {
  /** up, down, new or same (a score change without a rank change). */
  tone: 'up' | 'down' | 'new' | 'same';
  /** What the badge shows: "▲ 3", "▼ 1", "NEW". Empty for `same`. */
  text: string;
  /** What a screen reader says. */
  label: string;
}

export function movementBadge(m: Movement | undefined): Badge | undefined {
  if (!m) return undefined;
  switch (m.kind) {
    case 'new':
      return { tone: 'new', text: 'NEW', label: 'new in the top' };
    case 'up':
      return { tone: 'up', text: `▲ ${m.by}`, label: `up ${m.by}` };
    case 'down':
      return { tone: 'down', text: `▼ ${m.by}`, label: `down ${m.by}` };
    case 'same':
      return { tone: 'same', text: '', label: 'score changed' };
  }
}
