/**
 * Closing a time window's period in PostgreSQL. While a period is open its totals are columns of
 * the all-time rows (sql/008); closing it writes every user's standing in it as rows under the
 * period's board ids, once, and records the close (`window_closes`). From then on the period's
 * boards are read from those rows alone, and a late submit for it writes them directly.
 */
import { WINDOWS, type Window } from '../../protocol/index.ts';
import type { Sql, Tx } from './db.ts';

/** A window's column on the all-time rows (sql/008), e.g. `daily_total`, as an SQL identifier. */
export function windowColumn(sql: Sql | Tx, window: Window, what: 'period' | 'total' | 'games') {
  return sql(`${window}_${what}`);
}

export interface Period {
  window: Window;
  period: string;
}

/**
 * Writes the period's standings as rows and marks it closed, in one transaction; a no-op when it is
 * closed already. The exclusive advisory lock waits for batches counting in the period to commit
 * (they hold it shared, sql/functions/3_submit_batch.sql) and makes later ones see the close.
 * Returns the rows written by this call.
 */
export async function closePeriod(sql: Sql, { window, period }: Period): Promise<number> {
  if (!WINDOWS.includes(window)) throw new Error(`not a window: ${window}`);
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(lb_period_lock(${window}, ${period}))`;
    const [closed] = await tx`SELECT 1 FROM window_closes WHERE time_window = ${window} AND period = ${period}`;
    if (closed) return 0;
    const col = (what: 'period' | 'total' | 'games') => windowColumn(tx, window, what);
    // A row may exist already: moved out by its user's first submit of a later period (same values).
    const written = await tx`
      INSERT INTO leaderboard (board, user_id, total_score, games_played, last_played_at)
        SELECT l.board || ${`:${window}:${period}`}, l.user_id, l.${col('total')}, l.${col('games')}, l.last_played_at
        FROM leaderboard l WHERE l.${col('period')} = ${period}
        ON CONFLICT ON CONSTRAINT leaderboard_pkey DO NOTHING`;
    await tx`INSERT INTO window_closes (time_window, period) VALUES (${window}, ${period})`;
    return written.count;
  });
}

/** The periods that have window boards and are not closed (current ones included). */
export async function openPeriods(sql: Sql): Promise<Period[]> {
  const rows = await sql<{ window: Window; period: string }[]>`
    SELECT DISTINCT m[1] AS window, m[2] AS period
    FROM boards b, regexp_match(b.board, ':(daily|weekly|monthly):([^:]+)$') AS m
    WHERE m IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM window_closes c WHERE c.time_window = m[1] AND c.period = m[2])
    ORDER BY 1, 2`;
  return rows.map((r) => ({ window: r.window, period: r.period }));
}
