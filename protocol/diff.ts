/**
 * Top-N diffs: how the server computes them and how every client applies them. Applying
 * `diffTop(prev, next)` to `prev` gives exactly `next`.
 */
import type { Entry } from './types.ts';
import { compareListing } from './ranking.ts';

export interface TopDiff {
  entries: Entry[];
  removed: number[];
}

function sameEntry(a: Entry, b: Entry): boolean {
  return (
    a.rank === b.rank && a.total_score === b.total_score && a.games_played === b.games_played && a.username === b.username
  );
}

/** The rows of `next` that are new or changed, and the user ids of `prev` that left. */
export function diffTop(prev: readonly Entry[], next: readonly Entry[]): TopDiff {
  const before = new Map<number, Entry>();
  for (const e of prev) before.set(e.user_id, e);
  const entries: Entry[] = [];
  for (const e of next) {
    const old = before.get(e.user_id);
    if (!old || !sameEntry(old, e)) entries.push(e);
    before.delete(e.user_id);
  }
  return { entries, removed: [...before.keys()] };
}

export function isEmptyDiff(d: TopDiff): boolean {
  return d.entries.length === 0 && d.removed.length === 0;
}

/** Drop `removed`, upsert `entries` by user_id, order by rank then user_id. */
export function applyDiff(view: readonly Entry[], diff: TopDiff): Entry[] {
  const rows = new Map<number, Entry>();
  for (const e of view) rows.set(e.user_id, e);
  for (const id of diff.removed) rows.delete(id);
  for (const e of diff.entries) rows.set(e.user_id, e);
  return [...rows.values()].sort(compareListing);
}
