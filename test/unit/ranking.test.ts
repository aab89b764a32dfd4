/** The ranking rules: percentile rounding and competition ranks over a window of the listing. */
import { describe, expect, it } from 'vitest';
import { compareListing, percentile } from '../../protocol/ranking.ts';
import { assignRanks, compareRows, type Row } from '../../server/ranking.ts';

describe('percentile', () => {
  it.each([
    [1, 1, 100],
    [1, 3, 100],
    [2, 3, 66.67],
    [3, 3, 33.33],
    [1, 8, 100],
    [8, 8, 12.5],
    [2, 7, 85.71], // 85.714...
    [6, 7, 28.57], // 28.571...
    [5, 6, 33.33], // 33.333...
    [2, 6, 83.33], // 83.333...
    [3, 6, 66.67], // 66.666...
  ])('rank %d of %d is %d', (rank, total, expected) => {
    expect(percentile(rank, total)).toBe(expected);
  });

  // Exact halves of a hundredth round up; a naive Math.round(x * 100) / 100 gets 1.005 wrong.
  it.each([
    [32, 32, 3.13], // 3.125
    [30, 32, 9.38], // 9.375
    [160, 160, 0.63], // 0.625
    [19_800, 20_000, 1.01], // 1.005
    [19_000, 20_000, 5.01], // 5.005
    [38_000, 40_000, 5], // 5.0025 rounds down
    [40_000, 40_000, 0], // 0.0025 rounds down
  ])('rank %d of %d rounds half up to %d', (rank, total, expected) => {
    expect(percentile(rank, total)).toBe(expected);
  });

  it('equals the exact quotient rounded half up, for every rank of many board sizes', () => {
    for (let total = 1; total <= 300; total++) {
      for (let rank = 1; rank <= total; rank++) {
        const num = 10_000 * (total - rank + 1);
        const q = Math.floor(num / total);
        const rem = num - q * total;
        expect(percentile(rank, total), `${rank}/${total}`).toBe((2 * rem >= total ? q + 1 : q) / 100);
      }
    }
  });

  it('is 0 for an empty board', () => {
    expect(percentile(1, 0)).toBe(0);
  });
});

describe('compareListing', () => {
  it('orders by rank, then user_id', () => {
    const rows = [
      { rank: 2, user_id: 9 },
      { rank: 1, user_id: 5 },
      { rank: 2, user_id: 3 },
      { rank: 1, user_id: 2 },
    ];
    expect(rows.sort(compareListing)).toEqual([
      { rank: 1, user_id: 2 },
      { rank: 1, user_id: 5 },
      { rank: 2, user_id: 3 },
      { rank: 2, user_id: 9 },
    ]);
  });
});

const row = (user_id: number, total_score: number): Row => ({ user_id, username: `u${user_id}`, total_score, games_played: 1 });
const ranks = (rows: Row[], firstRank: number, start: number) => assignRanks(rows, firstRank, start).map((e) => e.rank);

describe('assignRanks', () => {
  it('gives competition ranks 1, 2, 2, 4 from the top', () => {
    expect(ranks([row(1, 100), row(2, 90), row(3, 90), row(4, 80)], 1, 0)).toEqual([1, 2, 2, 4]);
  });

  it('gives every tied row rank 1 when everyone ties', () => {
    expect(ranks([row(1, 5), row(2, 5), row(3, 5)], 1, 0)).toEqual([1, 1, 1]);
  });

  it('continues a tie group that began before the window', () => {
    // Listing: 100, 50, 50, [50, 50, 40, 40, 30] -> window at position 3 starts inside the 50s (rank 2).
    expect(ranks([row(4, 50), row(5, 50), row(6, 40), row(7, 40), row(8, 30)], 2, 3)).toEqual([2, 2, 6, 6, 8]);
  });

  it('starts a new group at the window start when the first row is not tied backwards', () => {
    expect(ranks([row(6, 40), row(7, 30)], 6, 5)).toEqual([6, 7]);
  });

  it('keeps the row fields and handles an empty window', () => {
    expect(assignRanks([row(7, 3)], 4, 3)).toEqual([{ rank: 4, user_id: 7, username: 'u7', total_score: 3, games_played: 1 }]);
    expect(assignRanks([], 1, 0)).toEqual([]);
  });

  it('matches the definition (1 + number strictly higher) on every window of a tied listing', () => {
    const totals = [90, 90, 90, 70, 70, 60, 50, 50, 50, 50, 10, 0, 0];
    const listing = totals.map((t, i) => row(i + 1, t)).sort(compareRows);
    const truth = listing.map((r) => 1 + listing.filter((o) => o.total_score > r.total_score).length);
    for (let start = 0; start < listing.length; start++) {
      for (let end = start + 1; end <= listing.length; end++) {
        expect(ranks(listing.slice(start, end), truth[start]!, start), `window ${start}..${end}`).toEqual(truth.slice(start, end));
      }
    }
  });
});

describe('compareRows', () => {
  it('orders by total descending, then user_id ascending', () => {
    const sorted = [row(3, 10), row(1, 20), row(2, 10)].sort(compareRows).map((r) => r.user_id);
    expect(sorted).toEqual([1, 2, 3]);
  });
});
