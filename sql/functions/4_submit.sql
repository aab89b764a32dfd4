-- lb_submit: one submit, a batch of one, all-time boards only and no deadline (kept for tools and
-- tests); p_name_key as in lb_commit_rows's p_name_keys.
-- Re-applied at every start, after the migrations (server/store/migrate.ts, in the migration
-- transaction): edit it here, in place. A change of its arguments or result type needs the old
-- signature dropped by a new migration first (CREATE OR REPLACE cannot change them).
CREATE OR REPLACE FUNCTION lb_submit(
  p_user_id bigint, p_score bigint, p_game_mode text, p_username text, p_submission_id text, p_name_key text,
  OUT status text, OUT username text,
  OUT global_total bigint, OUT global_games integer,
  OUT mode_total bigint, OUT mode_games integer,
  OUT session_id bigint, OUT committed_at timestamptz,
  OUT new_board boolean, OUT other_boards text[]
) LANGUAGE sql AS $$
  SELECT b.status, b.username, b.global_total, b.global_games, b.mode_total, b.mode_games,
         b.session_id, b.committed_at, b.new_board, b.other_boards
  FROM lb_submit_batch('infinity', ARRAY[NULL, NULL, NULL]::text[], ARRAY[p_user_id], ARRAY[p_score], ARRAY[p_game_mode],
                       ARRAY[p_username], ARRAY[p_submission_id], ARRAY[p_name_key]) b
$$;
