/**
 * Feed, the live state of one board without I/O: views and index generations, the cached `top`
 * rows, which change notices can touch the view, the seq and epoch rules of groups, and the
 * freshness transitions the hub drives (changed, refreshing, restart pending, read).
 */
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../protocol/index.ts';
import { Feed, VIEW_SIZE, snapshotOf } from '../../server/live/feed.ts';

/** `n` rows in listing order: user i+1 (offset by `from`) with total 10_000 minus ten per place. */
function rows(n: number, from = 0): Entry[] {
  return Array.from({ length: n }, (_, i) => ({
    rank: i + 1,
    user_id: from + i + 1,
    username: `u${from + i + 1}`,
    total_score: 10_000 - 10 * i,
    games_played: 1,
  }));
}

function feedOf(board = 'global', source?: string): { feed: Feed; epochs: string[] } {
  const epochs: string[] = [];
  let n = 0;
  const feed = new Feed(
    board,
    () => {
      const e = `e${++n}`;
      epochs.push(e);
      return e;
    },
    source,
  );
  return { feed, epochs };
}

const change = (userId: number, total: number) => ({ userId, total, games: 1 });

describe('Feed views and index generations', () => {
  it('reports a rebuild only when a known index generation is replaced by another', () => {
    const { feed } = feedOf();
    expect(feed.setView(rows(3), 'g1')).toBe(false); // the first generation seen
    expect(feed.setView(rows(3), 'g1')).toBe(false);
    expect(feed.setView(rows(3), 'g2')).toBe(true);
    expect(feed.setView(rows(3), 'g2')).toBe(false);
  });

  it('keeps the known generation across a PostgreSQL fallback view, which is not from the index', () => {
    const { feed } = feedOf();
    feed.setView(rows(3), 'g1');
    expect(feed.fromIndex).toBe(true);
    expect(feed.setView(rows(3), undefined)).toBe(false);
    expect(feed.fromIndex).toBe(false);
    expect(feed.setView(rows(3), 'g1')).toBe(false); // same generation as before the fallback
    expect(feed.setView(rows(3), 'g2')).toBe(true);
  });

  it('forgets the generation when it follows another source board', () => {
    const { feed } = feedOf('global:daily', 'global:daily:2026-11-30');
    feed.setView(rows(3), 'g1');
    feed.switchSource('global:daily:2026-12-01');
    expect(feed.source).toBe('global:daily:2026-12-01');
    expect(feed.setView(rows(3), 'other-board-gen')).toBe(false);
  });
});

describe('Feed.top', () => {
  it('returns the first rows, the same array per limit until the view changes', () => {
    const { feed } = feedOf();
    feed.setView(rows(20), 'g1');
    const five = feed.top(5);
    expect(five).toEqual(rows(5));
    expect(feed.top(5)).toBe(five);
    expect(feed.top(10)).toEqual(rows(10));
    expect(feed.top(10)).not.toBe(five);
    expect(feed.top(50)).toEqual(rows(20)); // no more rows than the view has
    feed.setView(rows(20, 100), 'g1');
    const after = feed.top(5);
    expect(after).not.toBe(five);
    expect(after).toEqual(rows(5, 100));
  });
});

describe('Feed.affectedBy and shows', () => {
  it('counts every change while the view is shorter than VIEW_SIZE (any user may enter it)', () => {
    const { feed } = feedOf();
    feed.setView(rows(VIEW_SIZE - 1), 'g1');
    expect(feed.affectedBy(change(5000, 0))).toBe(true);
  });

  it('on a full view: members always, others only above the last row or tied with it on a lower user id', () => {
    const { feed } = feedOf();
    feed.setView(rows(VIEW_SIZE, 10), 'g1'); // users 11..110; the last row is user 110 with 10_000 - 990
    const last = 10_000 - 10 * (VIEW_SIZE - 1);
    expect(feed.affectedBy(change(50, 0))).toBe(true); // a member, even falling out
    expect(feed.affectedBy(change(5, last - 1))).toBe(false); // below the last row
    expect(feed.affectedBy(change(500, last + 1))).toBe(true); // above it
    expect(feed.affectedBy(change(5, last))).toBe(true); // tied, lower id: ranks ahead of the last row
    expect(feed.affectedBy(change(500, last))).toBe(false); // tied, higher id: ranks behind it
  });

  it('on an asc board, compares the notice\'s sort key (minus the total) with the view\'s totals', () => {
    // The view holds totals rising from 100 (best) to 100 + 10 * 99; notices carry minus the total.
    const view = rows(VIEW_SIZE, 10).map((e, i) => ({ ...e, total_score: 100 + 10 * i }));
    const feed = new Feed('mode:lap', () => 'e1', 'mode:lap', -1);
    feed.setView(view, 'g1');
    const last = 100 + 10 * (VIEW_SIZE - 1);
    expect(feed.affectedBy(change(5, -(last + 1)))).toBe(false); // slower than the last row
    expect(feed.affectedBy(change(500, -(last - 1)))).toBe(true); // faster than it
    expect(feed.affectedBy(change(5, -last))).toBe(true); // tied, lower id: ahead of the last row
    expect(feed.affectedBy(change(500, -last))).toBe(false); // tied, higher id: behind it
  });

  it('counts a generation notice whatever it carries', () => {
    const { feed } = feedOf();
    feed.setView(rows(VIEW_SIZE), 'g1');
    expect(feed.affectedBy({ userId: 0, total: 0, games: 0, generation: true })).toBe(true);
  });

  it('shows exactly the users of the current view', () => {
    const { feed } = feedOf();
    feed.setView(rows(3), 'g1');
    expect(feed.shows(2)).toBe(true);
    expect(feed.shows(4)).toBe(false);
    feed.setView(rows(3, 10), 'g1');
    expect(feed.shows(2)).toBe(false);
    expect(feed.shows(12)).toBe(true);
  });
});

describe('Feed groups', () => {
  it('makes one group per limit, with its own epoch, seq 0 and the rows it starts from', () => {
    const { feed, epochs } = feedOf();
    feed.setView(rows(20), 'g1');
    const g = feed.group(5);
    expect(feed.group(5)).toBe(g);
    expect(g).toMatchObject({ board: 'global', limit: 5, topic: 'live|5|global', epoch: 'e1', seq: 0, sent: rows(5) });
    expect(g.period).toBeUndefined();
    const h = feed.group(10);
    expect(h.epoch).toBe('e2');
    expect(epochs).toEqual(['e1', 'e2']);
    expect([...feed.groups.keys()]).toEqual([5, 10]);
    feed.dropGroup(5);
    expect([...feed.groups.keys()]).toEqual([10]);
    expect(feed.group(5)).not.toBe(g);
  });

  it('labels the groups of a current-period board with the period they show', () => {
    const { feed } = feedOf('global:daily', 'global:daily:2026-11-30');
    const g = feed.group(10);
    expect(g.period).toBe('global:daily:2026-11-30');
    expect(snapshotOf(g).period).toBe('global:daily:2026-11-30');
  });

  it('advances a group by one seq per diff, under the same epoch, and sends nothing when nothing changed', () => {
    const { feed } = feedOf();
    feed.setView(rows(5), 'g1');
    const g = feed.group(3);
    expect(feed.advance(g)).toBeUndefined();
    expect(g.seq).toBe(0);

    const next = rows(5);
    next[1] = { ...next[1]!, games_played: 2 }; // user 2 played again
    feed.setView(next, 'g1');
    expect(feed.advance(g)).toEqual({ op: 'diff', board: 'global', epoch: 'e1', seq: 1, entries: [next[1]], removed: [] });
    expect(g.sent).toEqual(next.slice(0, 3));
    expect(feed.advance(g)).toBeUndefined();

    // User 9 overtakes everyone: user 3 drops out of the top 3, ranks move.
    const moved: Entry[] = [{ rank: 1, user_id: 9, username: 'u9', total_score: 20_000, games_played: 1 }, ...next.slice(0, 4)].map((e, i) => ({
      ...e,
      rank: i + 1,
    }));
    feed.setView(moved, 'g1');
    const d = feed.advance(g)!;
    expect(d).toMatchObject({ op: 'diff', epoch: 'e1', seq: 2, removed: [3] });
    expect(d.entries.map((e) => e.user_id)).toEqual([9, 1, 2]);
    expect(g.seq).toBe(2);
  });

  it('restarts a group under a new epoch with seq 0 and a snapshot of the view', () => {
    const { feed } = feedOf();
    feed.setView(rows(5), 'g1');
    const g = feed.group(3);
    feed.setView(rows(5, 10), 'g1');
    feed.advance(g);
    expect(g.seq).toBe(1);
    feed.setView(rows(5, 20), 'g1');
    const snap = feed.restart(g);
    expect(snap).toEqual({ op: 'snapshot', board: 'global', epoch: 'e2', seq: 0, entries: rows(3, 20) });
    expect(g).toMatchObject({ epoch: 'e2', seq: 0, sent: rows(3, 20) });
    expect(feed.advance(g)).toBeUndefined(); // nothing since the snapshot
  });

  it('restarts a group in the period the feed has moved on to', () => {
    const { feed } = feedOf('global:daily', 'global:daily:2026-11-30');
    feed.setView(rows(3), undefined);
    const g = feed.group(3);
    expect(feed.restart(g).period).toBe('global:daily:2026-11-30'); // a plain restart keeps the period
    feed.switchSource('global:daily:2026-12-01');
    feed.setView(rows(2, 50), 'g1');
    const snap = feed.restartInPeriod(g);
    expect(snap).toMatchObject({ epoch: 'e3', seq: 0, period: 'global:daily:2026-12-01', entries: rows(2, 50) });
    expect(g.period).toBe('global:daily:2026-12-01');
  });
});

describe('Feed freshness transitions', () => {
  it('starts dirty and not current; a first read from the index makes it current', () => {
    const { feed } = feedOf();
    expect(feed.dirty).toBe(true);
    expect(feed.isCurrent()).toBe(false);
    feed.startWholeRead();
    expect(feed.isCurrent()).toBe(false); // nothing read yet
    feed.setView(rows(3), 'g1');
    expect(feed.dirty).toBe(false);
    expect(feed.isCurrent()).toBe(true);
  });

  it('stays dirty when a change arrives while its first read is out (the read may have missed it)', () => {
    const { feed } = feedOf();
    feed.markChanged(50);
    feed.startWholeRead();
    expect(feed.dirtySince).toBe(0); // the change before the read is in it: not timed
    feed.markChanged(120);
    feed.setView(rows(3), 'g1');
    expect(feed.dirty).toBe(true);
    expect(feed.isCurrent()).toBe(false);
    expect(feed.beginRefresh()).toEqual({ restart: false, since: 120 });
  });

  it('is never current on a view that did not come from the index', () => {
    const { feed } = feedOf();
    feed.startWholeRead();
    feed.setView(rows(3), undefined);
    expect(feed.isCurrent()).toBe(false);
  });

  it('times a change from the first one not yet published', () => {
    const { feed } = feedOf();
    feed.startWholeRead();
    feed.setView(rows(3), 'g1');
    feed.markChanged(100);
    feed.markChanged(250);
    expect(feed.dirty).toBe(true);
    expect(feed.dirtySince).toBe(100);
    expect(feed.isCurrent()).toBe(false);
  });

  it('hands the pending work to the refresh that begins, and is not current while it runs', () => {
    const { feed } = feedOf();
    feed.startWholeRead();
    feed.setView(rows(3), 'g1');
    feed.markChanged(100);
    expect(feed.beginRefresh()).toEqual({ restart: false, since: 100 });
    expect(feed.refreshing).toBe(true);
    expect(feed.dirty).toBe(false);
    expect(feed.dirtySince).toBe(0);
    expect(feed.isCurrent()).toBe(false);
    feed.endRefresh();
    expect(feed.refreshing).toBe(false);
    expect(feed.isCurrent()).toBe(true);
  });

  it('times a change arriving during a refresh for the next one', () => {
    const { feed } = feedOf();
    feed.markChanged(100);
    feed.beginRefresh();
    feed.markChanged(300);
    feed.endRefresh();
    expect(feed.dirty).toBe(true);
    expect(feed.beginRefresh()).toEqual({ restart: false, since: 300 });
  });

  it('re-reads on the periodic refresh without timing a change', () => {
    const { feed } = feedOf();
    feed.startWholeRead();
    feed.markStale();
    expect(feed.dirty).toBe(true);
    expect(feed.beginRefresh()).toEqual({ restart: false, since: 0 });
  });

  it('makes the next refresh, and only that one, start the groups over after a restart is asked', () => {
    const { feed } = feedOf();
    feed.startWholeRead();
    feed.setView(rows(3), 'g1');
    feed.markRestart();
    expect(feed.restartPending).toBe(true);
    expect(feed.dirty).toBe(true);
    expect(feed.isCurrent()).toBe(false);
    expect(feed.beginRefresh()).toEqual({ restart: true, since: 0 });
    expect(feed.restartPending).toBe(false);
    feed.endRefresh();
    feed.markStale();
    expect(feed.beginRefresh().restart).toBe(false);
  });

  it('puts a failed refresh back: due again, its restart kept, its time kept unless a newer change is pending', () => {
    const { feed } = feedOf();
    feed.markRestart();
    feed.markChanged(100);
    const first = feed.beginRefresh();
    feed.refreshFailed(first);
    feed.endRefresh();
    expect(feed.dirty).toBe(true);
    expect(feed.restartPending).toBe(true);
    expect(feed.dirtySince).toBe(100);

    const second = feed.beginRefresh();
    feed.markChanged(400); // arrives while the read is in flight
    feed.refreshFailed(second);
    feed.endRefresh();
    expect(feed.dirtySince).toBe(400);
    expect(feed.beginRefresh()).toEqual({ restart: true, since: 400 });
  });

  it('holds off refreshes during a rollover without touching what is pending', () => {
    const { feed } = feedOf();
    feed.markChanged(100);
    feed.beginRollover();
    expect(feed.refreshing).toBe(true);
    expect(feed.dirty).toBe(true);
    expect(feed.dirtySince).toBe(100);
    feed.endRefresh();
    expect(feed.refreshing).toBe(false);
  });

  it('remembers when a top read last asked for the board', () => {
    const { feed } = feedOf();
    expect(feed.lastReadAt).toBe(0);
    feed.noteRead(1234);
    expect(feed.lastReadAt).toBe(1234);
  });
});
