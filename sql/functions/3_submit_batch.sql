-- lb_submit_windows: what the server calls for a batch of submits (server/store/scores.ts).
-- Re-applied at every start, after the migrations (server/store/migrate.ts, in the migration
-- transaction): edit it here, in place. A change of its arguments or result type needs the old
-- signature dropped by a new migration first (CREATE OR REPLACE cannot change them).
--
-- Deadlines. The server answers a submit `unavailable` once PostgreSQL has not answered within
-- PG_QUERY_TIMEOUT_MS. Without a deadline in the database the submit could still commit after
-- that: its statement may have waited in the driver's queue or a reconnect, or on a row lock.
-- This function refuses to start, and rolls back at its end, once the caller's deadline has passed
-- (SQLSTATE LB001); so a submit answered `unavailable` has committed only if its statement
-- finished in time and the answer was what got lost (the server then applies the late result to
-- the rank index itself, and its index_pending row says so meanwhile). Deadlines compare the
-- server's clock with the database's: they must agree to well within PG_QUERY_TIMEOUT_MS.
--
-- Time windows. Besides its all-time boards, a submit counts on the boards of the periods the
-- server took it in: for each configured window one board of `global` and one of
-- `mode:<game_mode>`, named `<family>:<window>:<period>` (suffixes given by the server, e.g.
-- ':daily:2026-11-30'), ordinary rows of `leaderboard`. A window board follows its family's write
-- mode. Each committed row of the result also carries its user's totals on the window boards after
-- the whole batch (w_boards, w_totals, w_games); w_new lists the window boards this batch created.
-- (docs/write-path.md measures what these rows cost, and the shape that replaces them.)
CREATE OR REPLACE FUNCTION lb_submit_windows(
  p_deadline timestamptz, p_suffixes text[],
  p_user_ids bigint[], p_scores bigint[], p_game_modes text[], p_usernames text[], p_submission_ids text[],
  p_name_keys text[]
) RETURNS TABLE (
  ord integer, status text, username text,
  global_total bigint, global_games integer,
  mode_total bigint, mode_games integer,
  session_id bigint, committed_at timestamptz,
  new_board boolean, other_boards text[],
  w_boards text[], w_totals bigint[], w_games integer[], w_new text[]
) LANGUAGE plpgsql AS $$
DECLARE
  v_rows lb_submit_row[];
  v_ok integer[];
  v_best text[];
  v_latest text[];
  v_best_w text[];
  v_latest_w text[];
  v_new text[] := '{}';
  w_user bigint[] := '{}';
  w_board text[] := '{}';
  w_total bigint[] := '{}';
  w_game integer[] := '{}';
BEGIN
  IF clock_timestamp() > p_deadline THEN
    RAISE EXCEPTION 'submit deadline passed before it started (% late)', clock_timestamp() - p_deadline
      USING ERRCODE = 'LB001';
  END IF;
  SELECT coalesce(array_agg(ROW(b.*)::lb_submit_row), '{}')
    INTO v_rows
    FROM lb_submit_batch(p_user_ids, p_scores, p_game_modes, p_usernames, p_submission_ids, p_name_keys) b;
  SELECT coalesce(array_agg(r.ord), '{}') INTO v_ok FROM unnest(v_rows) r WHERE r.status = 'ok';

  IF cardinality(v_ok) > 0 AND cardinality(p_suffixes) > 0 THEN
    SELECT coalesce(array_agg(b.board) FILTER (WHERE b.write_mode = 'best'), '{}'),
           coalesce(array_agg(b.board) FILTER (WHERE b.write_mode = 'latest'), '{}')
      INTO v_best, v_latest FROM boards b WHERE b.write_mode <> 'sum';
    v_best_w := ARRAY(SELECT b || s FROM unnest(v_best) b, unnest(p_suffixes) s);
    v_latest_w := ARRAY(SELECT b || s FROM unnest(v_latest) b, unnest(p_suffixes) s);

    -- One row per (board, user) however often the user is in the batch: the batch's sum, best or
    -- last score, and its count, merged with the stored row by the family's write mode. The
    -- window boards the batch needs are created in the same statement.
    WITH src AS (
      SELECT t.u, t.score, f.family, f.family || s.suffix AS board, t.o
      FROM unnest(p_user_ids, p_scores, p_game_modes) WITH ORDINALITY AS t(u, score, mode, o)
      CROSS JOIN LATERAL (VALUES ('global'), ('mode:' || t.mode)) AS f(family)
      CROSS JOIN unnest(p_suffixes) AS s(suffix)
      WHERE t.o::integer = ANY (v_ok)
    ), created AS (
      INSERT INTO boards (board)
        SELECT DISTINCT src.board FROM src
        WHERE NOT EXISTS (SELECT 1 FROM boards b WHERE b.board = src.board)
        ON CONFLICT DO NOTHING
        RETURNING board
    ), agg AS (
      SELECT src.board, src.u,
             CASE WHEN src.family = ANY (v_best) THEN max(src.score)
                  WHEN src.family = ANY (v_latest) THEN (array_agg(src.score ORDER BY src.o DESC))[1]
                  ELSE sum(src.score)::bigint END AS kept,
             count(*)::integer AS n
      FROM src GROUP BY src.board, src.u, src.family
    ), up AS (
      INSERT INTO leaderboard AS l (board, user_id, total_score, games_played, last_played_at)
        SELECT agg.board, agg.u, agg.kept, agg.n, now() FROM agg ORDER BY agg.u, agg.board
        ON CONFLICT (board, user_id) DO UPDATE
          SET total_score = lb_merge_total(l.board, l.total_score, EXCLUDED.total_score, v_best_w, v_latest_w),
              games_played = l.games_played + EXCLUDED.games_played,
              last_played_at = EXCLUDED.last_played_at
        RETURNING l.board, l.user_id, l.total_score, l.games_played
    )
    SELECT (SELECT coalesce(array_agg(created.board), '{}') FROM created),
           coalesce(array_agg(up.user_id), '{}'), coalesce(array_agg(up.board), '{}'),
           coalesce(array_agg(up.total_score), '{}'), coalesce(array_agg(up.games_played), '{}')
      INTO v_new, w_user, w_board, w_total, w_game
      FROM up;
  END IF;

  IF clock_timestamp() > p_deadline THEN
    RAISE EXCEPTION 'submit deadline passed before it could commit (% late); rolled back', clock_timestamp() - p_deadline
      USING ERRCODE = 'LB001';
  END IF;

  RETURN QUERY
    SELECT r.ord, r.status, r.username, r.global_total, r.global_games, r.mode_total, r.mode_games,
           r.session_id, r.committed_at, r.new_board, r.other_boards,
           w.boards, w.totals, w.games, v_new
    FROM unnest(v_rows) AS r
    LEFT JOIN (
      -- The window rows this batch wrote, by user, as RETURNING gave them (one hash join).
      SELECT x.u, array_agg(x.b ORDER BY x.b) AS boards, array_agg(x.t ORDER BY x.b) AS totals, array_agg(x.g ORDER BY x.b) AS games
      FROM unnest(w_user, w_board, w_total, w_game) AS x(u, b, t, g)
      GROUP BY x.u
    ) AS w ON r.status = 'ok' AND w.u = p_user_ids[r.ord];
END;
$$;
