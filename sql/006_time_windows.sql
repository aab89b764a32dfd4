-- Time-window boards. Besides its all-time board, a submit counts on the boards of the periods
-- the server took it in: for each configured window (daily, weekly, monthly) one board of its
-- family `global` and one of `mode:<game_mode>`, named `<family>:<window>:<period>` (suffixes
-- given by the server, e.g. ':daily:2026-11-30'). They are ordinary rows of `leaderboard`, so
-- every read, the rank index and its rebuild treat them like any board. A window board keeps
-- its family's write mode (005). Totals of a user on a window board are only ever written by the
-- holder of that user's lock (taken in lb_submit_batch), so batches cannot deadlock on them.
-- A window board follows its family's write mode (005); its own `boards.write_mode` is unused.

CREATE TYPE lb_submit_row AS (
  ord integer, status text, username text,
  global_total bigint, global_games integer,
  mode_total bigint, mode_games integer,
  session_id bigint, committed_at timestamptz,
  new_board boolean, other_boards text[]
);

-- lb_submit_before (004) plus the window boards. Each result row of a committed submit also
-- carries its user's totals on the window boards after the whole batch (w_boards, w_totals,
-- w_games), and w_new lists the window boards this batch created.
CREATE FUNCTION lb_submit_windows(
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
    INSERT INTO leaderboard AS l (board, user_id, total_score, games_played, last_played_at)
      SELECT agg.board, agg.u, agg.kept, agg.n, now() FROM agg ORDER BY agg.u, agg.board
      ON CONFLICT (board, user_id) DO UPDATE
        SET total_score = CASE
              WHEN l.board = ANY (v_best_w) THEN greatest(l.total_score, EXCLUDED.total_score)
              WHEN l.board = ANY (v_latest_w) THEN EXCLUDED.total_score
              ELSE l.total_score + EXCLUDED.total_score END,
            games_played = l.games_played + EXCLUDED.games_played,
            last_played_at = EXCLUDED.last_played_at;
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
    LEFT JOIN LATERAL (
      SELECT array_agg(l.board ORDER BY l.board) AS boards, array_agg(l.total_score ORDER BY l.board) AS totals,
             array_agg(l.games_played ORDER BY l.board) AS games
      FROM leaderboard l
      WHERE r.status = 'ok' AND cardinality(p_suffixes) > 0 AND l.user_id = p_user_ids[r.ord]
        AND l.board IN (SELECT f.family || s.suffix FROM (VALUES ('global'), ('mode:' || p_game_modes[r.ord])) AS f(family), unnest(p_suffixes) AS s(suffix))
    ) AS w ON true;
END;
$$;
