-- lb_write_totals: the totals a set of committed submits writes, one submit per user (the caller
-- holds every user's row lock): the user's two all-time rows (`global`, `mode:<m>`), whose window
-- columns (sql/008) take the submit for the periods `p_periods` names ({daily, weekly, monthly}
-- keys, NULL for a window that is off). Returns the two rows' new totals.
-- Re-applied at every start, after the migrations (server/store/migrate.ts, in the migration
-- transaction): edit it here, in place. A change of its arguments or result type needs the old
-- signature dropped by a new migration first (CREATE OR REPLACE cannot change them).
--
-- The one place a submit's totals are written, for the batch's set-based path and its row-by-row
-- one alike. Three statements, each a no-op in the common case:
--  1. a user's first submit of a later period first moves the period the columns hold out into
--     rows under that period's board id (a no-op if its close already wrote them, see below);
--  2. a submit for a period earlier than the one the columns hold (taken just before a boundary,
--     committing after one taken after it), or for a closed period (`p_closed`), is written to
--     the period's rows directly, by the board's write mode;
--  3. the all-time rows, with their window columns, are upserted: write cost does not grow with
--     the number of windows (docs/write-path.md).
CREATE OR REPLACE FUNCTION lb_write_totals(
  p_users bigint[], p_modes text[], p_scores bigint[], p_at timestamptz,
  p_periods text[], p_closed boolean[], p_best text[], p_latest text[]
) RETURNS TABLE (board text, user_id bigint, total_score bigint, games_played integer)
LANGUAGE sql AS $$
  INSERT INTO leaderboard (board, user_id, total_score, games_played, last_played_at)
    SELECT l.board || ':' || w.name || ':' || w.cur, l.user_id, w.total, w.games, l.last_played_at
    FROM unnest(p_users, p_modes) AS x(u, mode)
    JOIN leaderboard l ON l.user_id = x.u AND (l.board = 'global' OR l.board = 'mode:' || x.mode)
    CROSS JOIN LATERAL (VALUES
      ('daily', p_periods[1], p_closed[1], l.daily_period, l.daily_total, l.daily_games),
      ('weekly', p_periods[2], p_closed[2], l.weekly_period, l.weekly_total, l.weekly_games),
      ('monthly', p_periods[3], p_closed[3], l.monthly_period, l.monthly_total, l.monthly_games)
    ) AS w(name, period, closed, cur, total, games)
    WHERE w.period IS NOT NULL AND NOT w.closed AND w.cur < w.period
    ORDER BY 2, 1
    ON CONFLICT ON CONSTRAINT leaderboard_pkey DO NOTHING;

  INSERT INTO leaderboard AS r (board, user_id, total_score, games_played, last_played_at)
    SELECT f.board || ':' || w.name || ':' || w.period, x.u, x.score, 1, p_at
    FROM unnest(p_users, p_modes, p_scores) AS x(u, mode, score)
    CROSS JOIN LATERAL (VALUES ('global'), ('mode:' || x.mode)) AS f(board)
    LEFT JOIN leaderboard l ON l.board = f.board AND l.user_id = x.u
    CROSS JOIN LATERAL (VALUES
      ('daily', p_periods[1], p_closed[1], l.daily_period),
      ('weekly', p_periods[2], p_closed[2], l.weekly_period),
      ('monthly', p_periods[3], p_closed[3], l.monthly_period)
    ) AS w(name, period, closed, cur)
    WHERE w.period IS NOT NULL AND (w.closed OR w.cur > w.period)
    ORDER BY 2, 1
    ON CONFLICT ON CONSTRAINT leaderboard_pkey DO UPDATE
      SET total_score = lb_merge_total(lb_family(r.board), r.total_score, EXCLUDED.total_score, p_best, p_latest),
          games_played = r.games_played + 1,
          last_played_at = EXCLUDED.last_played_at;

  INSERT INTO leaderboard AS l (
    board, user_id, total_score, games_played, last_played_at,
    daily_period, daily_total, daily_games, weekly_period, weekly_total, weekly_games,
    monthly_period, monthly_total, monthly_games)
    SELECT f.board, x.u, x.score, 1, p_at,
           e.d, CASE WHEN e.d IS NOT NULL THEN x.score END, CASE WHEN e.d IS NOT NULL THEN 1 END,
           e.w, CASE WHEN e.w IS NOT NULL THEN x.score END, CASE WHEN e.w IS NOT NULL THEN 1 END,
           e.m, CASE WHEN e.m IS NOT NULL THEN x.score END, CASE WHEN e.m IS NOT NULL THEN 1 END
    FROM unnest(p_users, p_modes, p_scores) AS x(u, mode, score)
    CROSS JOIN LATERAL (VALUES ('global', 0), ('mode:' || x.mode, 1)) AS f(board, k)
    -- The periods the columns take: a closed one went to its rows (statement 2).
    CROSS JOIN (SELECT CASE WHEN NOT p_closed[1] THEN p_periods[1] END AS d,
                       CASE WHEN NOT p_closed[2] THEN p_periods[2] END AS w,
                       CASE WHEN NOT p_closed[3] THEN p_periods[3] END AS m) AS e
    ORDER BY x.u, f.k
    ON CONFLICT ON CONSTRAINT leaderboard_pkey DO UPDATE SET
      total_score = lb_merge_total(l.board, l.total_score, EXCLUDED.total_score, p_best, p_latest),
      games_played = l.games_played + 1,
      last_played_at = EXCLUDED.last_played_at,
      daily_period = lb_window_period(l.daily_period, EXCLUDED.daily_period),
      daily_total = lb_window_total(l.daily_period, l.daily_total, EXCLUDED.daily_period, EXCLUDED.total_score, l.board, p_best, p_latest),
      daily_games = lb_window_games(l.daily_period, l.daily_games, EXCLUDED.daily_period),
      weekly_period = lb_window_period(l.weekly_period, EXCLUDED.weekly_period),
      weekly_total = lb_window_total(l.weekly_period, l.weekly_total, EXCLUDED.weekly_period, EXCLUDED.total_score, l.board, p_best, p_latest),
      weekly_games = lb_window_games(l.weekly_period, l.weekly_games, EXCLUDED.weekly_period),
      monthly_period = lb_window_period(l.monthly_period, EXCLUDED.monthly_period),
      monthly_total = lb_window_total(l.monthly_period, l.monthly_total, EXCLUDED.monthly_period, EXCLUDED.total_score, l.board, p_best, p_latest),
      monthly_games = lb_window_games(l.monthly_period, l.monthly_games, EXCLUDED.monthly_period)
    RETURNING l.board, l.user_id, l.total_score, l.games_played;
$$;

-- The advisory lock key of a window's period: submits counting in it hold it shared, its close
-- exclusively (server/store/window-close.ts), so no submit of a period commits beside its close.
CREATE OR REPLACE FUNCTION lb_period_lock(p_window text, p_period text)
RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT hashtextextended('lb-window:' || p_window || ':' || p_period, 0)
$$;
