-- lb_merge_total: a board's new sort key for a player, by its write mode. Keys are totals on `desc`
-- boards and minus the totals on `asc` ones (sql/009), so "the best score" is always the greatest
-- key. `p_greatest` lists the boards keeping the greatest key (`best`; `max` on a `desc` board,
-- `min` on an `asc` one), `p_least` those keeping the least (`min` on `desc`, `max` on `asc`),
-- `p_latest` those keeping the latest; every other keeps the sum. The one place the modes are
-- defined; a single SQL expression, so the planner inlines it.
-- Re-applied at every start, after the migrations (server/store/migrate.ts, in the migration
-- transaction): edit it here, in place. A change of its arguments or result type needs the old
-- signature dropped by a new migration first (CREATE OR REPLACE cannot change them).
CREATE OR REPLACE FUNCTION lb_merge_total(p_board text, p_old bigint, p_new bigint, p_greatest text[], p_least text[], p_latest text[])
RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN p_board = ANY (p_greatest) THEN greatest(p_old, p_new)
    WHEN p_board = ANY (p_least) THEN least(p_old, p_new)
    WHEN p_board = ANY (p_latest) THEN p_new
    ELSE p_old + p_new END
$$;

-- The boards whose totals are not plain `desc` sums, as the lists lb_write_totals takes: those
-- keeping the greatest key, the least key, the latest score, and those whose keys are negated
-- (`asc`). Read once per batch, through boards_special (sql/009).
-- plpgsql, so the statement's plan is kept per connection.
CREATE OR REPLACE FUNCTION lb_board_kinds(OUT keep_greatest text[], OUT keep_least text[], OUT keep_latest text[], OUT asc_boards text[])
LANGUAGE plpgsql STABLE AS $$
BEGIN
  SELECT coalesce(array_agg(b.board) FILTER (WHERE b.write_mode = 'best'
                                                OR (b.write_mode = 'max' AND b.sort_order = 'desc')
                                                OR (b.write_mode = 'min' AND b.sort_order = 'asc')), '{}'),
         coalesce(array_agg(b.board) FILTER (WHERE (b.write_mode = 'min' AND b.sort_order = 'desc')
                                                OR (b.write_mode = 'max' AND b.sort_order = 'asc')), '{}'),
         coalesce(array_agg(b.board) FILTER (WHERE b.write_mode = 'latest'), '{}'),
         coalesce(array_agg(b.board) FILTER (WHERE b.sort_order = 'asc'), '{}')
    INTO keep_greatest, keep_least, keep_latest, asc_boards
    FROM boards b WHERE b.write_mode <> 'sum' OR b.sort_order <> 'desc';
END;
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
CREATE OR REPLACE FUNCTION lb_window_total(p_cur text, p_total bigint, p_period text, p_score bigint, p_board text, p_greatest text[], p_least text[], p_latest text[])
RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_period IS NULL OR p_cur > p_period THEN p_total
              WHEN p_cur = p_period THEN lb_merge_total(p_board, p_total, p_score, p_greatest, p_least, p_latest)
              ELSE p_score END
$$;
CREATE OR REPLACE FUNCTION lb_window_games(p_cur text, p_games integer, p_period text)
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_period IS NULL OR p_cur > p_period THEN p_games
              WHEN p_cur = p_period THEN p_games + 1
              ELSE 1 END
$$;
