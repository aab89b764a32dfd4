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
