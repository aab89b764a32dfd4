-- One submit in one round trip and one transaction. The user's row lock serialises every submit
-- of that user across all server instances, so the duplicate check, the session id order and the
-- totals are exact under concurrency. Rows are always locked in the order users -> global -> mode,
-- so concurrent submits cannot deadlock.
--
-- new_board: this submit created the mode board (its rank index starts empty).
-- other_boards: on a rename, the user's other boards, whose index rows need the new name.
-- status: 'ok' (committed), 'duplicate' (submission_id already committed for this user: nothing
-- changed, totals are the current ones) or 'conflict' (the username belongs to another user:
-- nothing changed).
CREATE FUNCTION lb_submit(
  p_user_id bigint, p_score bigint, p_game_mode text, p_username text, p_submission_id text,
  OUT status text, OUT username text,
  OUT global_total bigint, OUT global_games integer,
  OUT mode_total bigint, OUT mode_games integer,
  OUT session_id bigint, OUT committed_at timestamptz,
  OUT new_board boolean, OUT other_boards text[]
) LANGUAGE plpgsql AS $$
DECLARE
  v_mode_board text := 'mode:' || p_game_mode;
BEGIN
  -- No conflict target: a race on either unique index (user_id or username) does nothing here
  -- instead of raising, so two first submits of one new user never yield a false conflict.
  INSERT INTO users (user_id, username)
    VALUES (p_user_id, coalesce(p_username, 'player' || p_user_id))
    ON CONFLICT DO NOTHING;

  SELECT u.username INTO username FROM users u WHERE u.user_id = p_user_id FOR UPDATE;
  IF NOT FOUND THEN
    status := 'conflict';  -- a new user asking for a name another user holds
    RETURN;
  END IF;

  IF p_submission_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM game_sessions s WHERE s.user_id = p_user_id AND s.submission_id = p_submission_id
  ) THEN
    status := 'duplicate';
    SELECT l.total_score, l.games_played INTO global_total, global_games
      FROM leaderboard l WHERE l.board = 'global' AND l.user_id = p_user_id;
    RETURN;
  END IF;

  IF p_username IS NOT NULL AND username <> p_username THEN
    BEGIN
      UPDATE users u SET username = p_username WHERE u.user_id = p_user_id;
    EXCEPTION WHEN unique_violation THEN
      status := 'conflict';
      RETURN;
    END;
    username := p_username;
    SELECT coalesce(array_agg(l.board ORDER BY l.board), '{}') INTO other_boards
      FROM leaderboard l WHERE l.user_id = p_user_id AND l.board <> 'global' AND l.board <> v_mode_board;
  END IF;

  committed_at := clock_timestamp();
  INSERT INTO game_sessions (user_id, score, game_mode, submission_id, created_at)
    VALUES (p_user_id, p_score, p_game_mode, p_submission_id, committed_at)
    RETURNING id INTO session_id;

  INSERT INTO leaderboard AS l (board, user_id, total_score, games_played, last_played_at)
    VALUES ('global', p_user_id, p_score, 1, committed_at)
    ON CONFLICT (board, user_id) DO UPDATE
      SET total_score = l.total_score + EXCLUDED.total_score,
          games_played = l.games_played + 1,
          last_played_at = EXCLUDED.last_played_at
    RETURNING l.total_score, l.games_played INTO global_total, global_games;

  INSERT INTO boards (board) VALUES (v_mode_board) ON CONFLICT DO NOTHING;
  new_board := FOUND;
  INSERT INTO leaderboard AS l (board, user_id, total_score, games_played, last_played_at)
    VALUES (v_mode_board, p_user_id, p_score, 1, committed_at)
    ON CONFLICT (board, user_id) DO UPDATE
      SET total_score = l.total_score + EXCLUDED.total_score,
          games_played = l.games_played + 1,
          last_played_at = EXCLUDED.last_played_at
    RETURNING l.total_score, l.games_played INTO mode_total, mode_games;

  status := 'ok';
END;
$$;
