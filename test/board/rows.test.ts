/** The board's row state: movement marks, ties and flashes folded from real LiveView updates. */
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../protocol/index.ts';
import { LiveView } from '../../client/sdk/live-view.ts';
import { MOVE_TTL_MS, expireMovements, mergeRows, movementBadge, sharedRanks, type RowState } from '../../client/board/src/rows.ts';

const e = (rank: number, user_id: number, total_score: number, games_played = 1): Entry => ({
  rank,
  user_id,
  username: `p${user_id}`,
  total_score,
  games_played,
});

/** A view with rows for `entries` as the first snapshot shows them. */
function start(entries: Entry[]): { view: LiveView; rows: RowState[] } {
  const view = new LiveView();
  const rows = mergeRows([], view.reset({ epoch: 'e', seq: 0, entries }), 0);
  return { view, rows };
}

describe('mergeRows', () => {
  it('marks nothing on the first snapshot of a board', () => {
    const { rows } = start([e(1, 1, 300), e(2, 2, 200)]);
    expect(rows.map((r) => r.movement)).toEqual([undefined, undefined]);
    expect(rows.map((r) => r.flash)).toEqual([0, 0]);
  });

  it('marks a climber, the rows it passed, and a newcomer, with amounts', () => {
    const { view, rows } = start([e(1, 1, 300), e(2, 2, 200), e(3, 3, 100)]);
    // 3 jumps to the top; 4 enters at 3rd; 2 leaves the top 3.
    const u = view.apply({ epoch: 'e', seq: 1, entries: [e(1, 3, 500), e(2, 1, 300), e(3, 4, 250)], removed: [2] });
    if (u === 'resync') throw new Error('unexpected resync');
    const next = mergeRows(rows, u, 1000);
    expect(next.map((r) => r.entry.user_id)).toEqual([3, 1, 4]);
    expect(next[0]!.movement).toEqual({ kind: 'up', by: 2, scoreDelta: 400, at: 1000 });
    expect(next[1]!.movement).toEqual({ kind: 'down', by: 1, scoreDelta: 0, at: 1000 });
    expect(next[2]!.movement).toEqual({ kind: 'new', by: 0, scoreDelta: 0, at: 1000 });
    expect(next.map((r) => r.flash)).toEqual([1, 1, 1]);
  });

  it('keeps a mark on unchanged rows until it expires, and flashes only changed rows', () => {
    const { view, rows } = start([e(1, 1, 300), e(2, 2, 200)]);
    const u1 = view.apply({ epoch: 'e', seq: 1, entries: [e(1, 2, 400), e(2, 1, 300)], removed: [] });
    const r1 = mergeRows(rows, u1 as Exclude<typeof u1, 'resync'>, 1000);
    // Only 1 scores again: 2 keeps its climb mark; 1 gets a score-only change.
    const u2 = view.apply({ epoch: 'e', seq: 2, entries: [e(2, 1, 350, 2)], removed: [] });
    const r2 = mergeRows(r1, u2 as Exclude<typeof u2, 'resync'>, 2000);
    expect(r2[0]!.movement).toEqual({ kind: 'up', by: 1, scoreDelta: 200, at: 1000 });
    expect(r2[0]!.flash).toBe(1);
    expect(r2[1]!.movement).toEqual({ kind: 'same', by: 0, scoreDelta: 50, at: 2000 });
    expect(r2[1]!.flash).toBe(2);
    expect(expireMovements(r2, 1000 + MOVE_TTL_MS).map((r) => r.movement?.kind)).toEqual([undefined, 'same']);
    expect(expireMovements(r2, 1500)).toBe(r2);
  });

  it('after a reconnect, marks what changed while away relative to what was shown', () => {
    const { view, rows } = start([e(1, 1, 300), e(2, 2, 200)]);
    view.invalidate();
    const u = view.reset({ epoch: 'e2', seq: 0, entries: [e(1, 2, 900), e(2, 1, 300), e(3, 7, 10)] });
    const next = mergeRows(rows, u, 5000);
    expect(next.map((r) => r.movement?.kind)).toEqual(['up', 'down', 'new']);
  });

  it('quiet (a new limit) marks no newcomers but keeps earlier marks', () => {
    const { view, rows } = start([e(1, 1, 300)]);
    const u1 = view.apply({ epoch: 'e', seq: 1, entries: [e(1, 1, 310, 2)], removed: [] });
    const r1 = mergeRows(rows, u1 as Exclude<typeof u1, 'resync'>, 100);
    const wider = new LiveView().reset({ epoch: 'e', seq: 3, entries: [e(1, 1, 310, 2), e(2, 5, 20)] });
    const r2 = mergeRows(r1, wider, 200, true);
    expect(r2.map((r) => r.movement?.kind)).toEqual(['same', undefined]);
  });

  it('marks tied rows (competition ranking 1, 2, 2, 4)', () => {
    const { rows } = start([e(1, 1, 300), e(2, 2, 200), e(2, 3, 200), e(4, 4, 100)]);
    expect(rows.map((r) => r.tied)).toEqual([false, true, true, false]);
    expect([...sharedRanks(rows.map((r) => r.entry))]).toEqual([2]);
  });
});

describe('movementBadge', () => {
  it('says how far and which way, and names newcomers', () => {
    expect(movementBadge({ kind: 'up', by: 3, scoreDelta: 10, at: 0 })).toEqual({ tone: 'up', text: '▲ 3', label: 'up 3' });
    expect(movementBadge({ kind: 'down', by: 1, scoreDelta: 0, at: 0 })).toMatchObject({ tone: 'down', text: '▼ 1' });
    expect(movementBadge({ kind: 'new', by: 0, scoreDelta: 0, at: 0 })).toMatchObject({ tone: 'new', text: 'NEW' });
    expect(movementBadge({ kind: 'same', by: 0, scoreDelta: 5, at: 0 })).toMatchObject({ tone: 'same', text: '' });
    expect(movementBadge(undefined)).toBeUndefined();
  });
});
