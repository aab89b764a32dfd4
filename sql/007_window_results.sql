-- lb_submit_windows (006) read each committed row's window totals back from `leaderboard` by
-- user_id, which no index leads with: a scan of the table per result row, measured as submits at
-- 2,000/s timing out once the table held a few hundred thousand rows. The window upsert now
-- returns what it wrote and the result rows take their window totals from that.
CREATE OR REPLACE FUNCTION lb_submit_windows(
  p_deadline timestamptz, p_suffixes text[],
  p_user_ids bigint[], p_scores bigint[], p_game_modes text[], p_usernames text[], p_submission_ids text[]
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
    FROM lb_submit_batch(p_user_ids, p_scores, p_game_modes, p_usernames, p_submission_ids) b;
  SELECT coalesce(array_agg(r.ord), '{}') INTO v_ok FROM unnest(v_rows) r WHERE r.status = 'ok';

  IF cardinality(v_ok) > 0 AND cardinality(p_suffixes) > 0 THEN
    SELECT coalesce(array_agg(b.board) FILTER (WHERE b.write_mode = 'best'), '{}'),
           coalesce(array_agg(b.board) FILTER (WHERE b.write_mode = 'latest'), '{}')
      INTO v_best, v_latest FROM boards b WHERE b.write_mode <> 'sum';
    v_best_w := ARRAY(SELECT b || s FROM unnest(v_best) b, unnest(p_suffixes) s);
    v_latest_w := ARRAY(SELECT b || s FROM unnest(v_latest) b, unnest(p_suffixes) s);

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
    )
    SELECT coalesce(array_agg(created.board), '{}') INTO v_new FROM created;

    -- One row per (board, user) however often the user is in the batch: the batch's sum, best or
    -- last score, and its count, merged with the stored row by the board's write mode.
    WITH src AS (
      SELECT t.u, t.score, f.family, f.family || s.suffix AS board, t.o
      FROM unnest(p_user_ids, p_scores, p_game_modes) WITH ORDINALITY AS t(u, score, mode, o)
      CROSS JOIN LATERAL (VALUES ('global'), ('mode:' || t.mode)) AS f(family)
      CROSS JOIN unnest(p_suffixes) AS s(suffix)
      WHERE t.o::integer = ANY (v_ok)
    ), agg AS (
      SELECT src.board, src.u, src.family,
             CASE WHEN src.family = ANY (v_best) THEN max(src.score)
                  WHEN src.family = ANY (v_latest) THEN (array_agg(src.score ORDER BY src.o DESC))[1]
                  ELSE sum(src.score)::bigint END AS kept,
             count(*)::integer AS n
      FROM src GROUP BY src.board, src.u, src.family
    )
    , up AS (
    INSERT INTO leaderboard AS l (board, user_id, total_score, games_played, last_played_at)
      SELECT agg.board, agg.u, agg.kept, agg.n, now() FROM agg ORDER BY agg.u, agg.board
      ON CONFLICT (board, user_id) DO UPDATE
        SET total_score = CASE
              WHEN l.board = ANY (v_best_w) THEN greatest(l.total_score, EXCLUDED.total_score)
              WHEN l.board = ANY (v_latest_w) THEN EXCLUDED.total_score
              ELSE l.total_score + EXCLUDED.total_score END,
            games_played = l.games_played + EXCLUDED.games_played,
            last_played_at = EXCLUDED.last_played_at
      RETURNING l.board, l.user_id, l.total_score, l.games_played
    )
    SELECT coalesce(array_agg(up.user_id), '{}'), coalesce(array_agg(up.board), '{}'),
           coalesce(array_agg(up.total_score), '{}'), coalesce(array_agg(up.games_played), '{}')
      INTO w_user, w_board, w_total, w_game
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
