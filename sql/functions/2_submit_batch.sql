-- lb_submit_batch: many submits in one transaction and one round trip, each with its own result.
-- Re-applied at every start, after the migrations (server/store/migrate.ts, in the migration
-- transaction): edit it here, in place. A change of its arguments or result type needs the old
-- signature dropped by a new migration first (CREATE OR REPLACE cannot change them).
--
-- Set-based (a row-by-row batch spent most of its time starting one statement after another):
--  1. inserts the batch's new users, in user_id order, named as their first submit asks;
--  2. locks every user of the batch, in user_id order, so concurrent batches cannot deadlock on
--     users, and a totals row is only ever written by the holder of its user's lock;
--  3. commits the simple rows (a user once in the batch, with no username) with one statement per
--     table (creating the mode boards they need);
--  4. runs the other rows (renames, a user several times, new users refused a name) one by one,
--     in batch order.
-- Durability, idempotency by submission_id (user_id, submission_id), exact totals; the new total
-- by the board's write mode (lb_merge_total).
--
-- Names are unique by their key (protocol/names.ts nameKey: NFKC, case folded, look-alikes
-- folded, digits of any script by value). The key is a JavaScript function of the contract, so
-- the server passes it beside each name (p_name_keys: for each row the key of the name it would
-- write, p_usernames[i] or the default 'player' || user_id), and a batch without a key for every
-- row is refused. The unique index on users.name_key decides between instances racing for two
-- look-alike names: the loser gets `conflict`, exactly as for one name. Rows whose name_key is
-- NULL (names stored before keys, colliding with an earlier one) are found by exact name.
CREATE OR REPLACE FUNCTION lb_submit_batch(
  p_user_ids bigint[], p_scores bigint[], p_game_modes text[], p_usernames text[], p_submission_ids text[],
  p_name_keys text[]
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
  v_new_boards text[];
  v_complex integer[];
  v_n integer := coalesce(array_length(p_user_ids, 1), 0);
  i integer;
  v_best text[];
  v_latest text[];
  s_ord integer[]; s_user bigint[]; s_score bigint[]; s_mode text[]; s_sub text[]; s_name text[];
  s_id bigint[]; s_at timestamptz[]; s_gt bigint[]; s_gg integer[]; s_mt bigint[]; s_mg integer[];
BEGIN
  IF p_name_keys IS NULL OR cardinality(p_name_keys) <> v_n OR array_position(p_name_keys, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'lb_submit_batch: every row needs the key of the name it may write (p_name_keys)';
  END IF;

  -- Boards not keeping the sum (few: only those configured so, see server/board-config.ts).
  SELECT coalesce(array_agg(b.board) FILTER (WHERE b.write_mode = 'best'), '{}'),
         coalesce(array_agg(b.board) FILTER (WHERE b.write_mode = 'latest'), '{}')
    INTO v_best, v_latest FROM boards b WHERE b.write_mode <> 'sum';

  INSERT INTO users (user_id, username, name_key)
    SELECT DISTINCT ON (t.u) t.u, coalesce(t.name, 'player' || t.u), t.k
    FROM unnest(p_user_ids, p_usernames, p_name_keys) WITH ORDINALITY AS t(u, name, k, o)
    WHERE NOT EXISTS (SELECT 1 FROM users x WHERE x.user_id = t.u)
    ORDER BY t.u, t.o
    ON CONFLICT DO NOTHING;

  PERFORM 1 FROM users u WHERE u.user_id = ANY (p_user_ids) ORDER BY u.user_id FOR UPDATE;

  IF v_n < 8 THEN
    -- A small batch costs less row by row than through the set-based statements' fixed overhead.
    v_complex := ARRAY(SELECT generate_series(1, v_n));
  ELSE
  SELECT coalesce(array_agg(t.o::integer ORDER BY t.o), '{}') INTO v_complex
    FROM (
      SELECT x.o, x.name, count(*) OVER (PARTITION BY x.u) AS n, EXISTS (SELECT 1 FROM users u WHERE u.user_id = x.u) AS known
      FROM unnest(p_user_ids, p_usernames) WITH ORDINALITY AS x(u, name, o)
    ) t
    WHERE t.name IS NOT NULL OR t.n > 1 OR NOT t.known;
  END IF;

  IF cardinality(v_complex) < v_n THEN

  -- The simple rows not already committed, ordered by user (each user occurs once among them).
  SELECT coalesce(array_agg(t.o::integer ORDER BY t.u), '{}'), coalesce(array_agg(t.u ORDER BY t.u), '{}'),
         coalesce(array_agg(t.score ORDER BY t.u), '{}'), coalesce(array_agg(t.mode ORDER BY t.u), '{}'),
         coalesce(array_agg(t.sub ORDER BY t.u), '{}'), coalesce(array_agg(u.username ORDER BY t.u), '{}')
    INTO s_ord, s_user, s_score, s_mode, s_sub, s_name
    FROM unnest(p_user_ids, p_scores, p_game_modes, p_submission_ids) WITH ORDINALITY AS t(u, score, mode, sub, o)
    JOIN users u ON u.user_id = t.u
    WHERE NOT (t.o::integer = ANY (v_complex))
      AND (t.sub IS NULL OR NOT EXISTS (SELECT 1 FROM game_sessions s WHERE s.user_id = t.u AND s.submission_id = t.sub));

  -- Mode boards the committing simple rows need (a duplicate creates nothing).
  WITH created AS (
    INSERT INTO boards (board)
      SELECT DISTINCT 'mode:' || m FROM unnest(s_mode) m
      WHERE NOT EXISTS (SELECT 1 FROM boards b WHERE b.board = 'mode:' || m)
      ON CONFLICT DO NOTHING
      RETURNING board
  )
  SELECT coalesce(array_agg(board), '{}') INTO v_new_boards FROM created;

  -- Results are zipped from arrays aggregated in user order: no join of one statement's
  -- RETURNING with another (their row estimates are poor, and nested loops over them quadratic).
  WITH ins AS (
    INSERT INTO game_sessions (user_id, score, game_mode, submission_id, created_at)
      SELECT x.u, x.score, x.mode, x.sub, clock_timestamp()
      FROM unnest(s_user, s_score, s_mode, s_sub) AS x(u, score, mode, sub) ORDER BY x.u
      RETURNING id, user_id, created_at
  )
  SELECT coalesce(array_agg(ins.id ORDER BY ins.user_id), '{}'), coalesce(array_agg(ins.created_at ORDER BY ins.user_id), '{}')
    INTO s_id, s_at FROM ins;

  WITH up AS (
    INSERT INTO leaderboard AS l (board, user_id, total_score, games_played, last_played_at)
      SELECT x.board, x.u, x.score, 1, now()
      FROM (SELECT 'global' AS board, y.u, y.score, 0 AS k FROM unnest(s_user, s_score) AS y(u, score)
            UNION ALL SELECT 'mode:' || y.mode, y.u, y.score, 1 FROM unnest(s_user, s_score, s_mode) AS y(u, score, mode)) x
      ORDER BY x.u, x.k
      ON CONFLICT (board, user_id) DO UPDATE
        SET total_score = lb_merge_total(l.board, l.total_score, EXCLUDED.total_score, v_best, v_latest),
            games_played = l.games_played + 1,
            last_played_at = EXCLUDED.last_played_at
      RETURNING l.board, l.user_id, l.total_score, l.games_played
  )
  SELECT coalesce(array_agg(up.total_score ORDER BY up.user_id) FILTER (WHERE up.board = 'global'), '{}'),
         coalesce(array_agg(up.games_played ORDER BY up.user_id) FILTER (WHERE up.board = 'global'), '{}'),
         coalesce(array_agg(up.total_score ORDER BY up.user_id) FILTER (WHERE up.board <> 'global'), '{}'),
         coalesce(array_agg(up.games_played ORDER BY up.user_id) FILTER (WHERE up.board <> 'global'), '{}')
    INTO s_gt, s_gg, s_mt, s_mg FROM up;

  RETURN QUERY
    SELECT z.o, 'ok'::text, z.name, z.gt, z.gg, z.mt, z.mg, z.id, z.at, ('mode:' || z.mode) = ANY (v_new_boards), NULL::text[]
    FROM unnest(s_ord, s_name, s_gt, s_gg, s_mt, s_mg, s_id, s_at, s_mode) AS z(o, name, gt, gg, mt, mg, id, at, mode);

  -- Simple rows whose submission_id was already committed: duplicates, with the current totals.
  RETURN QUERY
    SELECT t.o::integer, 'duplicate'::text, u.username, l.total_score, l.games_played, NULL::bigint, NULL::integer,
           NULL::bigint, NULL::timestamptz, false, NULL::text[]
    FROM unnest(p_user_ids, p_submission_ids) WITH ORDINALITY AS t(u, sub, o)
    JOIN users u ON u.user_id = t.u
    JOIN leaderboard l ON l.board = 'global' AND l.user_id = t.u
    WHERE NOT (t.o::integer = ANY (v_complex)) AND NOT (t.o::integer = ANY (s_ord));

  END IF;

  FOREACH i IN ARRAY v_complex LOOP
    ord := i;
    v_user := p_user_ids[i];
    v_name := p_usernames[i];
    v_mode_board := 'mode:' || p_game_modes[i];
    status := NULL; username := NULL; global_total := NULL; global_games := NULL;
    mode_total := NULL; mode_games := NULL; session_id := NULL; committed_at := NULL;
    new_board := false; other_boards := NULL;

    SELECT u.username INTO username FROM users u WHERE u.user_id = v_user FOR UPDATE;
    IF NOT FOUND THEN
      -- No conflict target: a race on any unique index (user_id, username or name_key) does
      -- nothing here instead of raising, so two first submits of one new user never yield a false conflict.
      INSERT INTO users (user_id, username, name_key) VALUES (v_user, coalesce(v_name, 'player' || v_user), p_name_keys[i])
        ON CONFLICT DO NOTHING;
      SELECT u.username INTO username FROM users u WHERE u.user_id = v_user FOR UPDATE;
      IF NOT FOUND THEN
        status := 'conflict'; -- a new user asking for a name (or a name's key) another user holds
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
        UPDATE users u SET username = v_name, name_key = p_name_keys[i] WHERE u.user_id = v_user;
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

    new_board := false;
    IF NOT EXISTS (SELECT 1 FROM boards b WHERE b.board = v_mode_board) THEN
      INSERT INTO boards (board) VALUES (v_mode_board) ON CONFLICT DO NOTHING;
      new_board := FOUND;
    END IF;

    WITH up AS (
      INSERT INTO leaderboard AS l (board, user_id, total_score, games_played, last_played_at)
        VALUES ('global', v_user, p_scores[i], 1, committed_at), (v_mode_board, v_user, p_scores[i], 1, committed_at)
        ON CONFLICT (board, user_id) DO UPDATE
          SET total_score = lb_merge_total(l.board, l.total_score, EXCLUDED.total_score, v_best, v_latest),
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
