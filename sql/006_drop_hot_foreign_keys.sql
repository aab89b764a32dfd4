-- The write path checked three foreign keys per submit (sessions -> users, totals -> users and
-- -> boards): one lookup and one row lock each, more than a third of a batch's time in the
-- measurements. Every write to these tables goes through lb_submit_batch, which creates and
-- locks the user and creates the board before writing rows that refer to them, so the checks
-- only re-proved what the function guarantees. Tools that write these tables by hand (the bench
-- seeder) must keep the same order.
ALTER TABLE game_sessions DROP CONSTRAINT game_sessions_user_id_fkey;
ALTER TABLE leaderboard DROP CONSTRAINT leaderboard_user_id_fkey;
ALTER TABLE leaderboard DROP CONSTRAINT leaderboard_board_fkey;
