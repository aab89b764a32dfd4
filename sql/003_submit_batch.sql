-- Group commit: many submits in one transaction and one round trip, each with its own result.
-- Rows are processed in the order given; the server sorts a batch by user_id (keeping each user's
-- submits in arrival order), so concurrent batches lock users in the same order and cannot
-- deadlock on them. A conflict is a per-row status, not an error, so it fails no other row.
CREATE FUNCTION lb_submit_batch(
  p_user_ids bigint[], p_scores bigint[], p_game_modes text[], p_usernames text[], p_submission_ids text[]
) RETURNS TABLE (
  ord integer, status text, username text,
  global_total bigint, global_games integer,
  mode_total bigint, mode_games integer,
  session_id bigint, committed_at timestamptz,
  new_board boolean, other_boards text[]
) LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  FOR i IN 1 .. coalesce(array_length(p_user_ids, 1), 0) LOOP
    SELECT * INTO r FROM lb_submit(p_user_ids[i], p_scores[i], p_game_modes[i], p_usernames[i], p_submission_ids[i]);
    ord := i;
    status := r.status;
    username := r.username;
    global_total := r.global_total;
    global_games := r.global_games;
    mode_total := r.mode_total;
    mode_games := r.mode_games;
    session_id := r.session_id;
    committed_at := r.committed_at;
    new_board := r.new_board;
    other_boards := r.other_boards;
    RETURN NEXT;
  END LOOP;
END;
$$;
