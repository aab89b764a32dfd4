-- lb_merge_total: a board's new total for a player, by its write mode: `p_best` and `p_latest`
-- list the boards keeping the best or the latest score (every other keeps the sum). The one place
-- the three modes are defined; a single SQL expression, so the planner inlines it.
-- Re-applied at every start, after the migrations (server/store/migrate.ts, in the migration
-- transaction): edit it here, in place. A change of its arguments or result type needs the old
-- signature dropped by a new migration first (CREATE OR REPLACE cannot change them).
CREATE OR REPLACE FUNCTION lb_merge_total(p_board text, p_old bigint, p_new bigint, p_best text[], p_latest text[])
RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN p_board = ANY (p_best) THEN greatest(p_old, p_new)
    WHEN p_board = ANY (p_latest) THEN p_new
    ELSE p_old + p_new END
$$;

-- The all-time board a window board belongs to: `mode:kart:daily:2026-12-01` -> `mode:kart`.
CREATE OR REPLACE FUNCTION lb_family(p_board text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT regexp_replace(p_board, ':(daily|weekly|monthly):[^:]*$', '')
$$;

-- A window's columns on an all-time row (sql/008) after a submit of `p_score` counting in period
-- `p_period` (NULL: the window is off, or the period is closed and written as rows instead): the
-- same period merges by the board's write mode, a later one starts afresh, an earlier one (a
-- submit reaching a row already counting a later period) leaves the columns as they are. Periods
-- compare as text: their keys (2026-12-01, 2026-W49, 2026-12) sort in time order.
CREATE OR REPLACE FUNCTION lb_window_period(p_cur text, p_period text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_period IS NULL OR p_cur >= p_period THEN p_cur ELSE p_period END
$$;
CREATE OR REPLACE FUNCTION lb_window_total(p_cur text, p_total bigint, p_period text, p_score bigint, p_board text, p_best text[], p_latest text[])
RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_period IS NULL OR p_cur > p_period THEN p_total
              WHEN p_cur = p_period THEN lb_merge_total(p_board, p_total, p_score, p_best, p_latest)
              ELSE p_score END
$$;
CREATE OR REPLACE FUNCTION lb_window_games(p_cur text, p_games integer, p_period text)
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_period IS NULL OR p_cur > p_period THEN p_games
              WHEN p_cur = p_period THEN p_games + 1
              ELSE 1 END
$$;
