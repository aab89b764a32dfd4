-- lb_write_totals: the totals a set of committed submits writes, one submit per user (the caller
-- holds every user's row lock): the user's two all-time rows (`global`, `mode:<m>`), whose window
-- columns (sql/008) take the submit for the periods `p_periods` names ({daily, weekly, monthly}
-- keys, NULL for a window that is off). Returns the two rows' new totals, each with the user's
-- totals on its window boards. Totals here are sort keys (sql/009): `p_asc` lists the boards whose
-- keys are minus the totals; the write-mode lists are those of lb_merge_total.
-- Re-applied at every start, after the migrations (server/store/migrate.ts, in the migration
-- transaction): edit it here, in place. A change of its arguments or result type needs the old
-- signature dropped by a new migration first (CREATE OR REPLACE cannot change them).
--
-- The one place a submit's totals are written, for the batch's set-based path and its row-by-row
-- one alike. One statement, which reads no row before writing it:
--  1. the all-time rows, with their window columns, are upserted: write cost does not grow with
--     the number of windows (docs/write-path.md); a user's first submit of a later period starts
--     the columns afresh and returns the period they held;
--  2. that period is written out as rows under its board id (a no-op if its close already did);
--  3. a submit for a period earlier than the one the columns hold (taken just before a boundary,
--     committing after one taken after it), or for a closed period (`p_closed`), is written to
--     the period's rows directly, by the board's write mode.
CREATE OR REPLACE FUNCTION lb_write_totals(
  p_users bigint[], p_modes text[], p_scores bigint[], p_at timestamptz,
  p_periods text[], p_closed boolean[], p_greatest text[], p_least text[], p_latest text[], p_asc text[]
) RETURNS TABLE (
  board text, user_id bigint, total_score bigint, games_played integer,
  -- The row's window boards of `p_periods` and the user's totals on them after this write.
  w_boards text[], w_totals bigint[], w_games integer[]
)
-- plpgsql rather than sql: its statements' plans are kept for the session, where a sql function's
-- are made again at every call (a third of its time, measured).
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH up AS (
    -- 1. The all-time rows, with their window columns. A later period starts afresh and returns
    --    the period it replaced in the `*_moved_*` columns.
    INSERT INTO leaderboard AS l (
      board, user_id, total_score, games_played, last_played_at,
      daily_period, daily_total, daily_games, weekly_period, weekly_total, weekly_games,
      monthly_period, monthly_total, monthly_games)
      SELECT f.board, x.u, f.key, 1, p_at,
             e.d, CASE WHEN e.d IS NOT NULL THEN f.key END, CASE WHEN e.d IS NOT NULL THEN 1 END,
             e.w, CASE WHEN e.w IS NOT NULL THEN f.key END, CASE WHEN e.w IS NOT NULL THEN 1 END,
             e.m, CASE WHEN e.m IS NOT NULL THEN f.key END, CASE WHEN e.m IS NOT NULL THEN 1 END
      FROM unnest(p_users, p_modes, p_scores) AS x(u, mode, score)
      -- Each family board's key of the score: minus the score on an `asc` board (sql/009).
      CROSS JOIN LATERAL (VALUES ('global', 0), ('mode:' || x.mode, 1)) AS f0(board, k)
      CROSS JOIN LATERAL (SELECT f0.board, f0.k, CASE WHEN f0.board = ANY (p_asc) THEN -x.score ELSE x.score END AS key) AS f
      -- The periods the columns take: a closed one goes to its rows (3).
      CROSS JOIN (SELECT CASE WHEN NOT p_closed[1] THEN p_periods[1] END AS d,
                         CASE WHEN NOT p_closed[2] THEN p_periods[2] END AS w,
                         CASE WHEN NOT p_closed[3] THEN p_periods[3] END AS m) AS e
      ORDER BY x.u, f.k
      ON CONFLICT ON CONSTRAINT leaderboard_pkey DO UPDATE SET
        total_score = lb_merge_total(l.board, l.total_score, EXCLUDED.total_score, p_greatest, p_least, p_latest),
        games_played = l.games_played + 1,
        last_played_at = EXCLUDED.last_played_at,
        daily_period = lb_window_period(l.daily_period, EXCLUDED.daily_period),
        daily_total = lb_window_total(l.daily_period, l.daily_total, EXCLUDED.daily_period, EXCLUDED.total_score, l.board, p_greatest, p_least, p_latest),
        daily_games = lb_window_games(l.daily_period, l.daily_games, EXCLUDED.daily_period),
        daily_moved_period = CASE WHEN l.daily_period < EXCLUDED.daily_period THEN l.daily_period END,
        daily_moved_total = CASE WHEN l.daily_period < EXCLUDED.daily_period THEN l.daily_total END,
        daily_moved_games = CASE WHEN l.daily_period < EXCLUDED.daily_period THEN l.daily_games END,
        weekly_period = lb_window_period(l.weekly_period, EXCLUDED.weekly_period),
        weekly_total = lb_window_total(l.weekly_period, l.weekly_total, EXCLUDED.weekly_period, EXCLUDED.total_score, l.board, p_greatest, p_least, p_latest),
        weekly_games = lb_window_games(l.weekly_period, l.weekly_games, EXCLUDED.weekly_period),
        weekly_moved_period = CASE WHEN l.weekly_period < EXCLUDED.weekly_period THEN l.weekly_period END,
        weekly_moved_total = CASE WHEN l.weekly_period < EXCLUDED.weekly_period THEN l.weekly_total END,
        weekly_moved_games = CASE WHEN l.weekly_period < EXCLUDED.weekly_period THEN l.weekly_games END,
        monthly_period = lb_window_period(l.monthly_period, EXCLUDED.monthly_period),
        monthly_total = lb_window_total(l.monthly_period, l.monthly_total, EXCLUDED.monthly_period, EXCLUDED.total_score, l.board, p_greatest, p_least, p_latest),
        monthly_games = lb_window_games(l.monthly_period, l.monthly_games, EXCLUDED.monthly_period),
        monthly_moved_period = CASE WHEN l.monthly_period < EXCLUDED.monthly_period THEN l.monthly_period END,
        monthly_moved_total = CASE WHEN l.monthly_period < EXCLUDED.monthly_period THEN l.monthly_total END,
        monthly_moved_games = CASE WHEN l.monthly_period < EXCLUDED.monthly_period THEN l.monthly_games END
      RETURNING l.board, l.user_id, l.total_score, l.games_played,
                l.daily_period, l.daily_total, l.daily_games, l.weekly_period, l.weekly_total, l.weekly_games,
                l.monthly_period, l.monthly_total, l.monthly_games,
                l.daily_moved_period, l.daily_moved_total, l.daily_moved_games,
                l.weekly_moved_period, l.weekly_moved_total, l.weekly_moved_games,
                l.monthly_moved_period, l.monthly_moved_total, l.monthly_moved_games
  ), moved AS (
    -- 2. The period moved out is written as rows under its board id (already there if its close
    --    wrote them: the same values).
    INSERT INTO leaderboard (board, user_id, total_score, games_played, last_played_at)
      SELECT up.board || ':' || v.name || ':' || v.period, up.user_id, v.total, v.games, p_at
      FROM up
      CROSS JOIN LATERAL (VALUES
        ('daily', up.daily_moved_period, up.daily_moved_total, up.daily_moved_games),
        ('weekly', up.weekly_moved_period, up.weekly_moved_total, up.weekly_moved_games),
        ('monthly', up.monthly_moved_period, up.monthly_moved_total, up.monthly_moved_games)
      ) AS v(name, period, total, games)
      WHERE v.period IS NOT NULL
      ON CONFLICT ON CONSTRAINT leaderboard_pkey DO NOTHING
  ), late AS (
    -- 3. A submit for a period before the one the columns hold (they kept it: 1 left them as
    --    they were), or for a closed period, is written to the period's rows by the board's
    --    write mode.
    INSERT INTO leaderboard AS r (board, user_id, total_score, games_played, last_played_at)
      SELECT up.board || ':' || v.name || ':' || v.period, up.user_id,
             CASE WHEN up.board = ANY (p_asc) THEN -x.score ELSE x.score END, 1, p_at
      FROM up
      JOIN unnest(p_users, p_scores) AS x(u, score) ON x.u = up.user_id
      CROSS JOIN LATERAL (VALUES
        ('daily', p_periods[1], p_closed[1], up.daily_period),
        ('weekly', p_periods[2], p_closed[2], up.weekly_period),
        ('monthly', p_periods[3], p_closed[3], up.monthly_period)
      ) AS v(name, period, closed, cur)
      WHERE v.period IS NOT NULL AND (v.closed OR v.cur > v.period)
      ON CONFLICT ON CONSTRAINT leaderboard_pkey DO UPDATE
        SET total_score = lb_merge_total(lb_family(r.board), r.total_score, EXCLUDED.total_score, p_greatest, p_least, p_latest),
            games_played = r.games_played + 1,
            last_played_at = EXCLUDED.last_played_at
      RETURNING r.board, r.user_id, r.total_score, r.games_played
  )
  SELECT up.board, up.user_id, up.total_score, up.games_played, w.boards, w.totals, w.games
  FROM up
  CROSS JOIN LATERAL (
    -- The columns where they hold the (open) period, else the period's row written in (3).
    SELECT coalesce(array_agg(v.b ORDER BY v.i), '{}') AS boards,
           coalesce(array_agg(CASE WHEN v.cur = v.period AND NOT v.closed THEN v.total
                                   ELSE (SELECT z.total_score FROM late z WHERE z.board = v.b AND z.user_id = up.user_id) END
                              ORDER BY v.i), '{}') AS totals,
           coalesce(array_agg(CASE WHEN v.cur = v.period AND NOT v.closed THEN v.games
                                   ELSE (SELECT z.games_played FROM late z WHERE z.board = v.b AND z.user_id = up.user_id) END
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

-- Locks the users of a batch, each once and in user_id order (so two batches cannot deadlock),
-- until the transaction ends: a user's totals rows are only ever written by the holder of its
-- lock, and a user's submits commit one after the other. An advisory lock rather than a row lock
-- on users: locking a row writes it (its page dirtied, WAL-logged, a full-page image after every
-- checkpoint), which on a database of a million players was 0.4 page images per submit. The
-- two-key form, keyed by the id's high and low 32 bits, has a key space of its own: the one-key
-- locks (periods above, migrations) never collide with it.
-- plpgsql, so the statement's plan is kept per connection (a SQL function called from plpgsql is
-- planned again at every call).
CREATE OR REPLACE FUNCTION lb_lock_users(p_user_ids bigint[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM count(pg_advisory_xact_lock((ids.u >> 32)::integer, ((ids.u & 4294967295) - 2147483648)::integer))
  FROM (SELECT DISTINCT t.u FROM unnest(p_user_ids) AS t(u) ORDER BY t.u) AS ids;
END;
$$;
