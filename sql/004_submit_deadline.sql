-- Submit deadlines. The server answers a submit `unavailable` once PostgreSQL has not answered
-- within PG_QUERY_TIMEOUT_MS. Without a deadline in the database, that submit could still commit
-- afterwards: its statement may have waited in the driver's queue or a reconnect and been sent
-- once the database came back, or waited on a row lock. lb_submit_before refuses to start, and
-- rolls back at its end, when the caller's deadline has passed, with SQLSTATE LB001; so a submit
-- answered `unavailable` has committed only if its statement finished in time and the answer was
-- what got lost (the server then applies the late result to the rank index itself).
-- Deadlines compare the server's clock with the database's: clocks must agree to well within
-- PG_QUERY_TIMEOUT_MS (NTP keeps them within milliseconds); the server warns at start-up if not.
CREATE FUNCTION lb_submit_before(
  p_deadline timestamptz,
  p_user_ids bigint[], p_scores bigint[], p_game_modes text[], p_usernames text[], p_submission_ids text[]
) RETURNS TABLE (
  ord integer, status text, username text,
  global_total bigint, global_games integer,
  mode_total bigint, mode_games integer,
  session_id bigint, committed_at timestamptz,
  new_board boolean, other_boards text[]
) LANGUAGE plpgsql AS $$
BEGIN
  IF clock_timestamp() > p_deadline THEN
    RAISE EXCEPTION 'submit deadline passed before it started (% late)', clock_timestamp() - p_deadline
      USING ERRCODE = 'LB001';
  END IF;
  RETURN QUERY SELECT * FROM lb_submit_batch(p_user_ids, p_scores, p_game_modes, p_usernames, p_submission_ids);
  IF clock_timestamp() > p_deadline THEN
    RAISE EXCEPTION 'submit deadline passed before it could commit (% late); rolled back', clock_timestamp() - p_deadline
      USING ERRCODE = 'LB001';
  END IF;
END;
$$;
