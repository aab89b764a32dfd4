-- lb_write_totals: the totals a set of committed submits writes, one submit per user (the caller
-- holds every user's row lock): the user's two all-time rows (`global`, `mode:<m>`), whose window
-- columns (sql/008) take the submit for the periods `p_periods` names ({daily, weekly, monthly}
-- keys, NULL for a window that is off). Returns the two rows' new totals, each with the user's
-- totals on its window boards.
-- Re-applied at every start, after the migrations (server/store/migrate.ts, in the migration
-- transaction): edit it here, in place. A change of its arguments or result type needs the old
-- signature dropped by a new migration first (CREATE OR REPLACE cannot change them).
--
-- The one place a submit's totals are written, for the batch's set-based path and its row-by-row
-- one alike. One read of the rows, then three writes, the first two no-ops in the common case:
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
) RETURNS TABLE (
  board text, user_id bigint, total_score bigint, games_played integer,
  -- The row's window boards of `p_periods` and the user's totals on them after this write.
  w_boards text[], w_totals bigint[], w_games integer[]
)
-- plpgsql rather than sql: its statements' plans are kept for the session, where a sql function's
-- are made again at every call (a third of its time, measured).
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_shift_b text[]; v_shift_u bigint[]; v_shift_t bigint[]; v_shift_g integer[]; v_shift_at timestamptz[];
  v_late_b text[]; v_late_u bigint[]; v_late_t bigint[]; v_late_g integer[];
BEGIN
  -- One read of the rows for both exceptions (usually finding none).
  SELECT coalesce(array_agg(l.board || ':' || w.name || ':' || w.cur) FILTER (WHERE w.shift), '{}'),
         coalesce(array_agg(l.user_id) FILTER (WHERE w.shift), '{}'),
         coalesce(array_agg(w.total) FILTER (WHERE w.shift), '{}'),
         coalesce(array_agg(w.games) FILTER (WHERE w.shift), '{}'),
         coalesce(array_agg(l.last_played_at) FILTER (WHERE w.shift), '{}'),
         coalesce(array_agg(f.board || ':' || w.name || ':' || w.period) FILTER (WHERE w.late), '{}'),
         coalesce(array_agg(x.u) FILTER (WHERE w.late), '{}'),
         coalesce(array_agg(x.score) FILTER (WHERE w.late), '{}')
    INTO v_shift_b, v_shift_u, v_shift_t, v_shift_g, v_shift_at, v_late_b, v_late_u, v_late_t
    FROM unnest(p_users, p_modes, p_scores) AS x(u, mode, score)
    CROSS JOIN LATERAL (VALUES ('global'), ('mode:' || x.mode)) AS f(board)
    -- One index lookup per row whatever the planner guesses of the batch (a hash join would scan
    -- the whole table, a cost growing with the players).
    LEFT JOIN LATERAL (
      SELECT l.board, l.user_id, l.last_played_at, l.daily_period, l.daily_total, l.daily_games,
             l.weekly_period, l.weekly_total, l.weekly_games, l.monthly_period, l.monthly_total, l.monthly_games
      FROM leaderboard l WHERE l.board = f.board AND l.user_id = x.u LIMIT 1
    ) AS l ON true
    CROSS JOIN LATERAL (
      SELECT v.name, v.period, v.cur, v.total, v.games,
             v.period IS NOT NULL AND NOT v.closed AND v.cur < v.period AS shift,
             v.period IS NOT NULL AND (v.closed OR v.cur > v.period) AS late
      FROM (VALUES
        ('daily', p_periods[1], p_closed[1], l.daily_period, l.daily_total, l.daily_games),
        ('weekly', p_periods[2], p_closed[2], l.weekly_period, l.weekly_total, l.weekly_games),
        ('monthly', p_periods[3], p_closed[3], l.monthly_period, l.monthly_total, l.monthly_games)
      ) AS v(name, period, closed, cur, total, games)
    ) AS w
    WHERE w.shift OR w.late;

  -- 1. A user's first submit of a later period moves the period the columns hold out into rows
  --    under its board id (already there if its close wrote them: the same values).
  IF cardinality(v_shift_u) > 0 THEN
    INSERT INTO leaderboard (board, user_id, total_score, games_played, last_played_at)
      SELECT * FROM unnest(v_shift_b, v_shift_u, v_shift_t, v_shift_g, v_shift_at) ORDER BY 2, 1
      ON CONFLICT ON CONSTRAINT leaderboard_pkey DO NOTHING;
  END IF;

  -- 2. A submit for a period before the one the columns hold, or for a closed period, is written
  --    to the period's rows, by the board's write mode.
  IF cardinality(v_late_u) > 0 THEN
    WITH up AS (
      INSERT INTO leaderboard AS r (board, user_id, total_score, games_played, last_played_at)
        SELECT z.b, z.u, z.s, 1, p_at FROM unnest(v_late_b, v_late_u, v_late_t) AS z(b, u, s) ORDER BY 2, 1
        ON CONFLICT ON CONSTRAINT leaderboard_pkey DO UPDATE
          SET total_score = lb_merge_total(lb_family(r.board), r.total_score, EXCLUDED.total_score, p_best, p_latest),
              games_played = r.games_played + 1,
              last_played_at = EXCLUDED.last_played_at
        RETURNING r.board, r.user_id, r.total_score, r.games_played
    )
    SELECT array_agg(up.board), array_agg(up.user_id), array_agg(up.total_score), array_agg(up.games_played)
      INTO v_late_b, v_late_u, v_late_t, v_late_g FROM up;
  END IF;

  -- 3. The all-time rows, with their window columns.
  RETURN QUERY
  WITH up AS (
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
    -- The periods the columns take: a closed one went to its rows (2).
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
    RETURNING l.board, l.user_id, l.total_score, l.games_played,
              l.daily_period, l.daily_total, l.daily_games, l.weekly_period, l.weekly_total, l.weekly_games,
              l.monthly_period, l.monthly_total, l.monthly_games
  )
  SELECT up.board, up.user_id, up.total_score, up.games_played, w.boards, w.totals, w.games
  FROM up
  CROSS JOIN LATERAL (
    -- The columns where they hold the (open) period, else the period's row written in (2).
    SELECT coalesce(array_agg(v.b ORDER BY v.i), '{}') AS boards,
           coalesce(array_agg(CASE WHEN v.cur = v.period AND NOT v.closed THEN v.total
                                   ELSE (SELECT z.t FROM unnest(v_late_b, v_late_u, v_late_t) AS z(b, u, t) WHERE z.b = v.b AND z.u = up.user_id) END
                              ORDER BY v.i), '{}') AS totals,
           coalesce(array_agg(CASE WHEN v.cur = v.period AND NOT v.closed THEN v.games
                                   ELSE (SELECT z.g FROM unnest(v_late_b, v_late_u, v_late_g) AS z(b, u, g) WHERE z.b = v.b AND z.u = up.user_id) END
                              ORDER BY v.i), '{}') AS games
    FROM (VALUES
      (1, 'daily', p_periods[1], p_closed[1], up.daily_period, up.daily_total, up.daily_games),
      (2, 'weekly', p_periods[2], p_closed[2], up.weekly_period, up.weekly_total, up.weekly_games),
      (3, 'monthly', p_periods[3], p_closed[3], up.monthly_period, up.monthly_total, up.monthly_games)
    ) AS v0(i, name, period, closed, cur, total, games)
    CROSS JOIN LATERAL (SELECT v0.*, up.board || ':' || v0.name || ':' || v0.period AS b) AS v
    WHERE v.period IS NOT NULL
  ) AS w;
END;
$$;

-- The advisory lock key of a window's period: submits counting in it hold it shared, its close
-- exclusively (server/store/window-close.ts), so no submit of a period commits beside its close.
CREATE OR REPLACE FUNCTION lb_period_lock(p_window text, p_period text)
RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT hashtextextended('lb-window:' || p_window || ':' || p_period, 0)
$$;
