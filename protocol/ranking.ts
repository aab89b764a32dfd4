/** Ranking rules of the contract that clients may compute too. */

/**
 * percentile = 100 * (total - rank + 1) / total, rounded half up to 2 decimals, computed in integers
 * so that no floating-point error decides a rounding.
 */
export function percentile(rank: number, totalPlayers: number): number {
  if (totalPlayers <= 0) return 0;
  const numerator = 10_000 * (totalPlayers - rank + 1);
  const hundredths = Math.floor((2 * numerator + totalPlayers) / (2 * totalPlayers));
  return hundredths / 100;
}

/** Listing order: rank ascending, then user_id ascending. */
export function compareListing(a: { rank: number; user_id: number }, b: { rank: number; user_id: number }): number {
  return a.rank - b.rank || a.user_id - b.user_id;
}
