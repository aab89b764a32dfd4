/**
 * Walking a board with `page` (a v1 addition), and the stability promise such a walk keeps while
 * the board changes under it (protocol/extensions.md), as assertions.
 */
import { expect } from 'vitest';
import type { Entry, PageCursor, PageReply } from '../../protocol/index.ts';

/** One `page` request over some transport. */
export type Fetch = (board: string, limit: number, after?: PageCursor) => Promise<PageReply>;

/** Pages through a board from the top until `next` is null; `between` runs after each page but the last. */
export async function walk(fetch: Fetch, board: string, limit: number, between?: (page: PageReply) => Promise<void>): Promise<PageReply[]> {
  const pages: PageReply[] = [];
  let after: PageCursor | undefined;
  for (;;) {
    const page = await fetch(board, limit, after);
    pages.push(page);
    if (page.next === null) return pages;
    if (pages.length > 10_000) throw new Error(`${board}: the walk does not end`);
    after = page.next;
    await between?.(page);
  }
}

/** True when `a` comes strictly before `b` in listing order (total descending, then user id). */
export function isBefore(a: PageCursor, b: PageCursor): boolean {
  return a.total_score > b.total_score || (a.total_score === b.total_score && a.user_id < b.user_id);
}

/**
 * Checks a walk made while some users scored, given the board's listing before and after it, on a
 * board whose totals only grow (a `sum` board):
 * - the pages are well formed: full but the last, each `next` the key of its page's last entry,
 *   null only on the last page, and the keys strictly increasing from the first entry to the last;
 * - every user whose total is the same before and after the walk (who stayed put) is listed
 *   exactly once, with that total, and a rank between its ranks before and after (it can only
 *   fall as others climb): the rank it had when its page was read;
 * - nobody is listed twice (a total that only grows moves a row back over what was walked, never
 *   ahead of the cursor again), and every total listed is one the user had during the walk;
 * - within a page, ranks follow the totals: equal totals share a rank, a lower total ranks lower.
 */
export function checkWalk(pages: readonly PageReply[], before: readonly Entry[], after: readonly Entry[], limit: number): void {
  pages.forEach((p, i) => {
    const last = i === pages.length - 1;
    if (!last) expect(p.entries.length, `page ${i} is full`).toBe(limit);
    expect(p.entries.length).toBeLessThanOrEqual(limit);
    const end = p.entries[p.entries.length - 1];
    expect(p.next, `page ${i} next`).toEqual(last ? null : { total_score: end!.total_score, user_id: end!.user_id });
    p.entries.forEach((e, k) => {
      if (k === 0) return;
      const prev = p.entries[k - 1]!;
      if (e.total_score === prev.total_score) expect(e.rank, `page ${i} tie ranks`).toBe(prev.rank);
      else expect(e.rank, `page ${i} ranks`).toBeGreaterThan(prev.rank);
    });
  });
  const listed = pages.flatMap((p) => p.entries);
  listed.forEach((e, k) => {
    if (k > 0) expect(isBefore(listed[k - 1]!, e), `keys increase at ${k}: ${JSON.stringify([listed[k - 1], e])}`).toBe(true);
  });

  const seen = new Map<number, Entry[]>();
  for (const e of listed) seen.set(e.user_id, [...(seen.get(e.user_id) ?? []), e]);
  const was = new Map(before.map((e) => [e.user_id, e]));
  const is = new Map(after.map((e) => [e.user_id, e]));
  for (const [id, rows] of seen) {
    expect(rows.length, `user ${id} listed once at most`).toBe(1);
    const e = rows[0]!;
    const [b, a] = [was.get(id), is.get(id)];
    expect(a, `user ${id} is on the board`).toBeDefined();
    expect(e.total_score).toBeGreaterThanOrEqual(b?.total_score ?? 0);
    expect(e.total_score).toBeLessThanOrEqual(a!.total_score);
  }
  let stayed = 0;
  for (const b of before) {
    const a = is.get(b.user_id)!;
    if (a.total_score !== b.total_score) continue;
    stayed++;
    const rows = seen.get(b.user_id) ?? [];
    expect(rows.length, `user ${b.user_id} stayed put: listed exactly once`).toBe(1);
    const e = rows[0]!;
    expect(e.total_score).toBe(b.total_score);
    expect(e.username).toBe(a.username);
    expect(e.games_played).toBeGreaterThanOrEqual(b.games_played);
    expect(e.games_played).toBeLessThanOrEqual(a.games_played);
    expect(e.rank, `user ${b.user_id} rank`).toBeGreaterThanOrEqual(b.rank);
    expect(e.rank, `user ${b.user_id} rank`).toBeLessThanOrEqual(a.rank);
  }
  expect(stayed, 'users stayed put').toBeGreaterThan(before.length / 2);
}
