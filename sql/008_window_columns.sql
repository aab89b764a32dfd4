-- Time-window totals as columns of the all-time rows (docs/write-path.md, "Decision").
--
-- Before this, a submit wrote one `leaderboard` row per window board it counted on (8 rows with
-- three windows): every row a non-HOT update with its own index entries, so the cost of a submit
-- grew with every window. Now the row of an all-time board (`global`, `mode:<m>`) carries, for
-- each window, the period it last counted in and the total and games of that period: a submit
-- writes its two all-time rows whatever the number of windows.
--
-- A window board's rows (`<family>:<window>:<period>`) are then:
--  * while the period is open: the family's rows whose `<window>_period` is that period, plus
--    ordinary `leaderboard` rows under the window board's id, written only by a submit that
--    reaches a row already counting a later period (one taken just before a boundary, committing
--    after another that was taken after it) or a closed period; the two sets never share a user;
--  * once closed (a row in `window_closes`): ordinary rows under its id, written once by the close
--    (server/store/window-close.ts) for every user still holding the period in columns, and by each
--    user's first submit of a later period, which moves the old period out of the columns before
--    overwriting them.
ALTER TABLE leaderboard
  ADD COLUMN daily_period text, ADD COLUMN daily_total bigint, ADD COLUMN daily_games integer,
  ADD COLUMN weekly_period text, ADD COLUMN weekly_total bigint, ADD COLUMN weekly_games integer,
  ADD COLUMN monthly_period text, ADD COLUMN monthly_total bigint, ADD COLUMN monthly_games integer,
  -- What the row's last update moved out of a window's columns (a user's first submit of a later
  -- period), NULL otherwise: returned by that update so the same statement writes the old
  -- period's rows without reading the row first (sql/functions/2_write_totals.sql).
  ADD COLUMN daily_moved_period text, ADD COLUMN daily_moved_total bigint, ADD COLUMN daily_moved_games integer,
  ADD COLUMN weekly_moved_period text, ADD COLUMN weekly_moved_total bigint, ADD COLUMN weekly_moved_games integer,
  ADD COLUMN monthly_moved_period text, ADD COLUMN monthly_moved_total bigint, ADD COLUMN monthly_moved_games integer;

-- The periods whose standings are final and stored as rows under their window boards' ids. A
-- submit for a closed period writes those rows directly; the close and submits of the period
-- are serialised by an advisory lock on the period (sql/functions/2_write_totals.sql).
CREATE TABLE window_closes (
  time_window  text NOT NULL CHECK (time_window IN ('daily', 'weekly', 'monthly')),
  period       text NOT NULL,
  closed_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (time_window, period)
);

-- The functions of the per-board-row design (their files now define their successors).
DROP FUNCTION IF EXISTS lb_submit_windows(timestamptz, text[], bigint[], bigint[], text[], text[], text[], text[]);
DROP FUNCTION IF EXISTS lb_submit(bigint, bigint, text, text, text, text);
DROP FUNCTION IF EXISTS lb_submit_batch(bigint[], bigint[], text[], text[], text[], text[]);
-- A result row of lb_commit_rows now carries the user's window totals too.
ALTER TYPE lb_submit_row ADD ATTRIBUTE w_boards text[], ADD ATTRIBUTE w_totals bigint[], ADD ATTRIBUTE w_games integer[];

-- A database written by the per-board-row design holds every period as rows. Its latest period of
-- each window moves into the columns (it may still be open); every earlier one is closed as it is.
DO $$
DECLARE
  w text;
  latest text;
BEGIN
  FOREACH w IN ARRAY ARRAY['daily', 'weekly', 'monthly'] LOOP
    SELECT max(split_part(b.board, ':' || w || ':', 2)) INTO latest
      FROM boards b WHERE b.board LIKE '%:' || w || ':%'
        AND EXISTS (SELECT 1 FROM leaderboard l WHERE l.board = b.board);
    CONTINUE WHEN latest IS NULL;
    INSERT INTO window_closes (time_window, period)
      SELECT DISTINCT w, split_part(b.board, ':' || w || ':', 2) FROM boards b
      WHERE b.board LIKE '%:' || w || ':%' AND split_part(b.board, ':' || w || ':', 2) < latest
      ON CONFLICT DO NOTHING;
    EXECUTE format(
      'UPDATE leaderboard f SET %1$I = $1, %2$I = r.total_score, %3$I = r.games_played
         FROM leaderboard r
         WHERE r.board = f.board || %4$L || $1 AND r.user_id = f.user_id',
      w || '_period', w || '_total', w || '_games', ':' || w || ':') USING latest;
    DELETE FROM leaderboard l WHERE l.board LIKE '%:' || w || ':' || latest;
  END LOOP;
END;
$$;

-- Every board's rows as the contract sees them, window boards of open periods included: for tools,
-- operators' queries and tests (the server reads the two sources directly, server/store/scores.ts).
CREATE VIEW board_rows AS
  SELECT l.board, l.user_id, l.total_score, l.games_played, l.last_played_at FROM leaderboard l
  UNION ALL
  SELECT l.board || ':' || w.name || ':' || w.period, l.user_id, w.total, w.games, l.last_played_at
  FROM leaderboard l
  CROSS JOIN LATERAL (VALUES
    ('daily', l.daily_period, l.daily_total, l.daily_games),
    ('weekly', l.weekly_period, l.weekly_total, l.weekly_games),
    ('monthly', l.monthly_period, l.monthly_total, l.monthly_games)
  ) AS w(name, period, total, games)
  WHERE w.period IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM window_closes c WHERE c.time_window = w.name AND c.period = w.period);
