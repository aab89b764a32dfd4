-- The submit path with fewer statements per row (measured: the batch's per-row work is what bounds
-- submit throughput). Same semantics as 002/003:
--  * an existing user's row lock is the first statement (a new user is inserted, then locked);
--  * the mode board is only inserted when it does not exist yet (a read, not an upsert attempt);
--  * both totals are upserted by one statement (rows locked global first, then mode).
-- lb_submit_batch holds the logic; lb_submit is a batch of one.
CREATE OR REPLACE FUNCTION lb_submit_batch(
  p_user_ids bigint[], p_scores bigint[], p_game_modes text[], p_usernames text[], p_submission_ids text[]
) RETURNS TABLE (
  ord integer, status text, username text,
  global_total bigint, global_games integer,
  mode_total bigint, mode_games integer,
  session_id bigint, committed_at timestamptz,
  new_board boolean, other_boards text[]
) LANGUAGE plpgsql AS $$
DECLARE
  v_user bigint;
  v_name text;
  v_mode_board text;
BEGIN
  FOR i IN 1 .. coalesce(array_length(p_user_ids, 1), 0) LOOP
    ord := i;
    v_user := p_user_ids[i];
    v_name := p_usernames[i];
    v_mode_board := 'mode:' || p_game_modes[i];
    status := NULL; username := NULL; global_total := NULL; global_games := NULL;
    mode_total := NULL; mode_games := NULL; session_id := NULL; committed_at := NULL;
    new_board := false; other_boards := NULL;

    SELECT u.username INTO username FROM users u WHERE u.user_id = v_user FOR UPDATE;
    IF NOT FOUND THEN
      -- No conflict target: a race on either unique index (user_id or username) does nothing
      -- here instead of raising, so two first submits of one new user never yield a false conflict.
      INSERT INTO users (user_id, username) VALUES (v_user, coalesce(v_name, 'player' || v_user)) ON CONFLICT DO NOTHING;
      SELECT u.username INTO username FROM users u WHERE u.user_id = v_user FOR UPDATE;
      IF NOT FOUND THEN
        status := 'conflict'; -- a new user asking for a name another user holds
        RETURN NEXT;
        CONTINUE;
      END IF;
    END IF;

    IF p_submission_ids[i] IS NOT NULL AND EXISTS (
      SELECT 1 FROM game_sessions s WHERE s.user_id = v_user AND s.submission_id = p_submission_ids[i]
    ) THEN
      status := 'duplicate';
      SELECT l.total_score, l.games_played INTO global_total, global_games
        FROM leaderboard l WHERE l.board = 'global' AND l.user_id = v_user;
      RETURN NEXT;
      CONTINUE;
    END IF;

    IF v_name IS NOT NULL AND username <> v_name THEN
      BEGIN
        UPDATE users u SET username = v_name WHERE u.user_id = v_user;
      EXCEPTION WHEN unique_violation THEN
        status := 'conflict';
        username := NULL;
        RETURN NEXT;
        CONTINUE;
      END;
      username := v_name;
      SELECT coalesce(array_agg(l.board ORDER BY l.board), '{}') INTO other_boards
        FROM leaderboard l WHERE l.user_id = v_user AND l.board <> 'global' AND l.board <> v_mode_board;
    END IF;

    committed_at := clock_timestamp();
    INSERT INTO game_sessions (user_id, score, game_mode, submission_id, created_at)
      VALUES (v_user, p_scores[i], p_game_modes[i], p_submission_ids[i], committed_at)
      RETURNING id INTO session_id;

    IF NOT EXISTS (SELECT 1 FROM boards b WHERE b.board = v_mode_board) THEN
      INSERT INTO boards (board) VALUES (v_mode_board) ON CONFLICT DO NOTHING;
      new_board := FOUND;
    END IF;

    WITH up AS (
      INSERT INTO leaderboard AS l (board, user_id, total_score, games_played, last_played_at)
        VALUES ('global', v_user, p_scores[i], 1, committed_at), (v_mode_board, v_user, p_scores[i], 1, committed_at)
        ON CONFLICT (board, user_id) DO UPDATE
          SET total_score = l.total_score + EXCLUDED.total_score,
              games_played = l.games_played + 1,
              last_played_at = EXCLUDED.last_played_at
        RETURNING l.board, l.total_score, l.games_played
    )
    SELECT max(up.total_score) FILTER (WHERE up.board = 'global'), max(up.games_played) FILTER (WHERE up.board = 'global'),
           max(up.total_score) FILTER (WHERE up.board <> 'global'), max(up.games_played) FILTER (WHERE up.board <> 'global')
      INTO global_total, global_games, mode_total, mode_games
      FROM up;

    status := 'ok';
    RETURN NEXT;
  END LOOP;
END;
$$;

CREATE OR REPLACE FUNCTION lb_submit(
  p_user_id bigint, p_score bigint, p_game_mode text, p_username text, p_submission_id text,
  OUT status text, OUT username text,
  OUT global_total bigint, OUT global_games integer,
  OUT mode_total bigint, OUT mode_games integer,
  OUT session_id bigint, OUT committed_at timestamptz,
  OUT new_board boolean, OUT other_boards text[]
) LANGUAGE sql AS $$
  SELECT b.status, b.username, b.global_total, b.global_games, b.mode_total, b.mode_games,
         b.session_id, b.committed_at, b.new_board, b.other_boards
  FROM lb_submit_batch(ARRAY[p_user_id], ARRAY[p_score], ARRAY[p_game_mode], ARRAY[p_username], ARRAY[p_submission_id]) b
$$;
