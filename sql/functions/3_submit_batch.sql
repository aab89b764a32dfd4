-- lb_commit_rows: the rows of a batch of submits, in one transaction, each with its own result
-- (lb_submit_batch below is what the server calls: it adds deadlines and the window results).
-- Re-applied at every start, after the migrations (server/store/migrate.ts, in the migration
-- transaction): edit it here, in place. A change of its arguments or result type needs the old
-- signature dropped by a new migration first (CREATE OR REPLACE cannot change them).
--
-- Set-based (a row-by-row batch spent most of its time starting one statement after another):
--  1. inserts the batch's new users, in user_id order, named as their first submit asks;
--  2. locks every user of the batch, in user_id order, so concurrent batches cannot deadlock on
--     users, and a totals row is only ever written by the holder of its user's lock (an advisory
--     lock, lb_lock_users: a row lock would dirty a users page per submit);
--  3. commits the simple rows (a user once in the batch, with no username) with one statement per
--     table (creating the mode boards they need);
--  4. runs the other rows (renames, a user several times, new users refused a name) one by one,
--     in batch order.
-- Durability, idempotency by submission_id (user_id, submission_id), exact totals. Totals are
-- written by lb_write_totals (sql/functions/2_write_totals.sql) on both paths: the new total by
-- the board's write mode (lb_merge_total) as a sort key (sql/009), and the window columns of
-- `p_periods`.
--
-- Names are unique by their key (protocol/names.ts nameKey: NFKC, case folded, look-alikes
-- folded, digits of any script by value). The key is a JavaScript function of the contract, so
-- the server passes it beside each name (p_name_keys: for each row the key of the name it would
-- write, p_usernames[i] or the default 'player' || user_id), and a batch without a key for every
-- row is refused. The unique index on users.name_key decides between instances racing for two
-- look-alike names: the loser gets `conflict`, exactly as for one name. Rows whose name_key is
-- NULL (names stored before keys, colliding with an earlier one) are found by exact name.
CREATE OR REPLACE FUNCTION lb_commit_rows(
  p_periods text[], p_closed boolean[],
  p_user_ids bigint[], p_scores bigint[], p_game_modes text[], p_usernames text[], p_submission_ids text[],
  p_name_keys text[]
) RETURNS TABLE (
  ord integer, status text, username text,
  global_total bigint, global_games integer,
  mode_total bigint, mode_games integer,
  session_id bigint, committed_at timestamptz,
  new_board boolean, other_boards text[],
  w_boards text[], w_totals bigint[], w_games integer[]
) LANGUAGE plpgsql AS $$
DECLARE
  v_user bigint;
  v_name text;
  v_mode_board text;
  v_new_boards text[];
  v_complex integer[];
  v_n integer := coalesce(array_length(p_user_ids, 1), 0);
  i integer;
  v_greatest text[];
  v_least text[];
  v_latest text[];
  v_asc text[];
  v_known bigint[];
  v_known_names text[];
  s_ord integer[]; s_user bigint[]; s_score bigint[]; s_mode text[]; s_sub text[]; s_name text[];
  s_id bigint[]; s_at timestamptz[]; s_gt bigint[]; s_gg integer[]; s_mt bigint[]; s_mg integer[];
  s_wu bigint[]; s_wb text[]; s_wt bigint[]; s_wg integer[];
BEGIN
  IF p_name_keys IS NULL OR cardinality(p_name_keys) <> v_n OR array_position(p_name_keys, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'lb_commit_rows: every row needs the key of the name it may write (p_name_keys)';
  END IF;

  -- Boards that are not plain `desc` sums (few: only those configured so, server/board-config.ts).
  SELECT k.keep_greatest, k.keep_least, k.keep_latest, k.asc_boards INTO v_greatest, v_least, v_latest, v_asc FROM lb_board_kinds() k;

  INSERT INTO users (user_id, username, name_key)
    SELECT DISTINCT ON (t.u) t.u, coalesce(t.name, 'player' || t.u), t.k
    FROM unnest(p_user_ids, p_usernames, p_name_keys) WITH ORDINALITY AS t(u, name, k, o)
    -- Lookups one by one, never a scan of users: LATERAL ... LIMIT 1 keeps the planner from
    -- hashing the whole table for a batch it guesses large (it did, at 256 rows).
    LEFT JOIN LATERAL (SELECT 1 AS k FROM users x WHERE x.user_id = t.u LIMIT 1) AS e ON true
    WHERE e.k IS NULL
    ORDER BY t.u, t.o
    ON CONFLICT DO NOTHING;

  -- Every user of the batch locked, in user_id order (lb_lock_users); then, in a statement of
  -- its own (so with a snapshot taken after the locks), what the statements below need of users.
  PERFORM lb_lock_users(p_user_ids);
  SELECT coalesce(array_agg(l.user_id), '{}'), coalesce(array_agg(l.username), '{}') INTO v_known, v_known_names
    FROM (SELECT DISTINCT t.u FROM unnest(p_user_ids) AS t(u) ORDER BY t.u) AS ids
    CROSS JOIN LATERAL (SELECT u.user_id, u.username FROM users u WHERE u.user_id = ids.u) AS l;

  SELECT coalesce(array_agg(t.o::integer ORDER BY t.o), '{}') INTO v_complex
    FROM (
      SELECT x.o, x.name, count(*) OVER (PARTITION BY x.u) AS n, x.u = ANY (v_known) AS known
      FROM unnest(p_user_ids, p_usernames) WITH ORDINALITY AS x(u, name, o)
    ) t
    WHERE t.name IS NOT NULL OR t.n > 1 OR NOT t.known;

  IF cardinality(v_complex) < v_n THEN

  -- The simple rows not already committed, ordered by user (each user occurs once among them).
  SELECT coalesce(array_agg(t.o::integer ORDER BY t.u), '{}'), coalesce(array_agg(t.u ORDER BY t.u), '{}'),
         coalesce(array_agg(t.score ORDER BY t.u), '{}'), coalesce(array_agg(t.mode ORDER BY t.u), '{}'),
         coalesce(array_agg(t.sub ORDER BY t.u), '{}'), coalesce(array_agg(u.username ORDER BY t.u), '{}')
    INTO s_ord, s_user, s_score, s_mode, s_sub, s_name
    FROM unnest(p_user_ids, p_scores, p_game_modes, p_submission_ids) WITH ORDINALITY AS t(u, score, mode, sub, o)
    JOIN unnest(v_known, v_known_names) AS u(user_id, username) ON u.user_id = t.u
    LEFT JOIN LATERAL (
      SELECT 1 AS dup FROM game_sessions s WHERE t.sub IS NOT NULL AND s.user_id = t.u AND s.submission_id = t.sub LIMIT 1
    ) AS d ON true
    WHERE NOT (t.o::integer = ANY (v_complex)) AND d.dup IS NULL;

  -- Mode boards the committing simple rows need (a duplicate creates nothing).
  WITH created AS (
    INSERT INTO boards (board)
      SELECT DISTINCT 'mode:' || m FROM unnest(s_mode) m
      LEFT JOIN LATERAL (SELECT 1 AS k FROM boards b WHERE b.board = 'mode:' || m LIMIT 1) AS e ON true
      WHERE e.k IS NULL
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

  WITH t AS MATERIALIZED (
    SELECT * FROM lb_write_totals(s_user, s_mode, s_score, now(), p_periods, p_closed, v_greatest, v_least, v_latest, v_asc)
  ), a AS (
    SELECT coalesce(array_agg(t.total_score ORDER BY t.user_id) FILTER (WHERE t.board = 'global'), '{}') AS gt,
           coalesce(array_agg(t.games_played ORDER BY t.user_id) FILTER (WHERE t.board = 'global'), '{}') AS gg,
           coalesce(array_agg(t.total_score ORDER BY t.user_id) FILTER (WHERE t.board <> 'global'), '{}') AS mt,
           coalesce(array_agg(t.games_played ORDER BY t.user_id) FILTER (WHERE t.board <> 'global'), '{}') AS mg
    FROM t
  ), w AS (
    -- Every (user, window board, total, games), flattened; regrouped by user below.
    SELECT coalesce(array_agg(t.user_id), '{}') AS wu, coalesce(array_agg(z.b), '{}') AS wb,
           coalesce(array_agg(z.tt), '{}') AS wt, coalesce(array_agg(z.g), '{}') AS wg
    FROM t CROSS JOIN LATERAL unnest(t.w_boards, t.w_totals, t.w_games) AS z(b, tt, g)
  )
  SELECT a.gt, a.gg, a.mt, a.mg, w.wu, w.wb, w.wt, w.wg
    INTO s_gt, s_gg, s_mt, s_mg, s_wu, s_wb, s_wt, s_wg
    FROM a, w;

  RETURN QUERY
    SELECT z.o, 'ok'::text, z.name, z.gt, z.gg, z.mt, z.mg, z.id, z.at, ('mode:' || z.mode) = ANY (v_new_boards), NULL::text[],
           wz.boards, wz.totals, wz.games
    FROM unnest(s_ord, s_user, s_name, s_gt, s_gg, s_mt, s_mg, s_id, s_at, s_mode) AS z(o, u, name, gt, gg, mt, mg, id, at, mode)
    LEFT JOIN (
      SELECT y.u, array_agg(y.b ORDER BY y.b) AS boards, array_agg(y.t ORDER BY y.b) AS totals, array_agg(y.g ORDER BY y.b) AS games
      FROM unnest(s_wu, s_wb, s_wt, s_wg) AS y(u, b, t, g) GROUP BY y.u
    ) AS wz ON wz.u = z.u;

  -- Simple rows whose submission_id was already committed: duplicates, with the current totals.
  RETURN QUERY
    SELECT t.o::integer, 'duplicate'::text, u.username, l.total_score, l.games_played, NULL::bigint, NULL::integer,
           NULL::bigint, NULL::timestamptz, false, NULL::text[], NULL::text[], NULL::bigint[], NULL::integer[]
    FROM unnest(p_user_ids, p_submission_ids) WITH ORDINALITY AS t(u, sub, o)
    JOIN unnest(v_known, v_known_names) AS u(user_id, username) ON u.user_id = t.u
    CROSS JOIN LATERAL (SELECT l.total_score, l.games_played FROM leaderboard l WHERE l.board = 'global' AND l.user_id = t.u) AS l
    WHERE NOT (t.o::integer = ANY (v_complex)) AND NOT (t.o::integer = ANY (s_ord));

  END IF;

  FOREACH i IN ARRAY v_complex LOOP
    ord := i;
    v_user := p_user_ids[i];
    v_name := p_usernames[i];
    v_mode_board := 'mode:' || p_game_modes[i];
    status := NULL; username := NULL; global_total := NULL; global_games := NULL;
    mode_total := NULL; mode_games := NULL; session_id := NULL; committed_at := NULL;
    new_board := false; other_boards := NULL; w_boards := NULL; w_totals := NULL; w_games := NULL;

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
      -- other_boards stays NULL: listing them scanned leaderboard (no index leads with user_id),
      -- and nothing needs them (the rank index keeps one name per user).
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

    WITH t AS MATERIALIZED (
      SELECT * FROM lb_write_totals(ARRAY[v_user], ARRAY[p_game_modes[i]], ARRAY[p_scores[i]], committed_at, p_periods, p_closed, v_greatest, v_least, v_latest, v_asc)
    )
    SELECT (SELECT max(t.total_score) FROM t WHERE t.board = 'global'), (SELECT max(t.games_played) FROM t WHERE t.board = 'global'),
           (SELECT max(t.total_score) FROM t WHERE t.board <> 'global'), (SELECT max(t.games_played) FROM t WHERE t.board <> 'global'),
           z.boards, z.totals, z.games
      INTO global_total, global_games, mode_total, mode_games, w_boards, w_totals, w_games
      FROM (SELECT array_agg(y.b ORDER BY y.b) AS boards, array_agg(y.tt ORDER BY y.b) AS totals, array_agg(y.g ORDER BY y.b) AS games
            FROM t CROSS JOIN LATERAL unnest(t.w_boards, t.w_totals, t.w_games) AS y(b, tt, g)) AS z;

    status := 'ok';
    RETURN NEXT;
  END LOOP;
END;
$$;

-- lb_submit_batch: what the server calls for a batch of submits (server/store/scores.ts).
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
-- server took it in (`p_periods`: the daily, weekly and monthly keys, NULL for a window that is
-- off): for each one board of `global` and one of `mode:<game_mode>`, `<family>:<window>:<period>`.
-- Their totals are columns of the all-time rows (sql/008); a closed period (window_closes) is
-- written to its rows instead. Each committed row of the result also carries its user's totals on
-- its window boards as of that row's commit, as it does for the all-time boards (w_boards,
-- w_totals, w_games: a user's later row in the batch carries the later totals); w_new lists the
-- window boards this batch created.
CREATE OR REPLACE FUNCTION lb_submit_batch(
  p_deadline timestamptz, p_periods text[],
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
  v_windows text[] := ARRAY['daily', 'weekly', 'monthly'];
  v_periods text[] := ARRAY[p_periods[1], p_periods[2], p_periods[3]];
  v_closed boolean[] := ARRAY[false, false, false];
  v_rows lb_submit_row[];
  v_new text[] := '{}';
  k integer;
BEGIN
  IF clock_timestamp() > p_deadline THEN
    RAISE EXCEPTION 'submit deadline passed before it started (% late)', clock_timestamp() - p_deadline
      USING ERRCODE = 'LB001';
  END IF;
  -- Held to the commit: a period's close waits for this batch, or this batch sees the close.
  FOR k IN 1..3 LOOP
    CONTINUE WHEN v_periods[k] IS NULL;
    PERFORM pg_advisory_xact_lock_shared(lb_period_lock(v_windows[k], v_periods[k]));
    v_closed[k] := EXISTS (SELECT 1 FROM window_closes c WHERE c.time_window = v_windows[k] AND c.period = v_periods[k]);
  END LOOP;

  SELECT coalesce(array_agg(ROW(b.*)::lb_submit_row), '{}')
    INTO v_rows
    FROM lb_commit_rows(v_periods, v_closed, p_user_ids, p_scores, p_game_modes, p_usernames, p_submission_ids, p_name_keys) b;

  IF v_periods[1] IS NOT NULL OR v_periods[2] IS NOT NULL OR v_periods[3] IS NOT NULL THEN
    WITH created AS (
      INSERT INTO boards (board)
        SELECT DISTINCT f.board || ':' || v_windows[wk.i] || ':' || v_periods[wk.i]
        FROM unnest(v_rows) r
        CROSS JOIN LATERAL (VALUES ('global'), ('mode:' || p_game_modes[r.ord])) AS f(board)
        CROSS JOIN generate_series(1, 3) AS wk(i)
        LEFT JOIN LATERAL (
          SELECT 1 AS k FROM boards b WHERE b.board = f.board || ':' || v_windows[wk.i] || ':' || v_periods[wk.i] LIMIT 1
        ) AS e ON true
        WHERE r.status = 'ok' AND v_periods[wk.i] IS NOT NULL AND e.k IS NULL
        ON CONFLICT DO NOTHING
        RETURNING board
    )
    SELECT coalesce(array_agg(created.board), '{}') INTO v_new FROM created;
  END IF;

  IF clock_timestamp() > p_deadline THEN
    RAISE EXCEPTION 'submit deadline passed before it could commit (% late); rolled back', clock_timestamp() - p_deadline
      USING ERRCODE = 'LB001';
  END IF;

  RETURN QUERY
    SELECT r.ord, r.status, r.username, r.global_total, r.global_games, r.mode_total, r.mode_games,
           r.session_id, r.committed_at, r.new_board, r.other_boards,
           r.w_boards, r.w_totals, r.w_games, v_new
    FROM unnest(v_rows) AS r;
END;
$$;
