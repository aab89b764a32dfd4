-- Board kinds: a board's sort order (`desc`, higher is better, v1's; `asc`, lower is better: lap
-- times, strokes) and the write modes `min` and `max` beside `sum`, `best` and `latest`.
--
-- `leaderboard.total_score` holds the board's *sort key*: the total on a `desc` board, minus the
-- total on an `asc` board. So one index order, one rank rule (1 + the rows with a strictly
-- higher key) and one listing order serve both kinds, and an `asc` board costs a submit nothing
-- more than a `desc` one (a second, ascending index would cost every submit an index entry). The
-- server turns keys into totals at its edge (server/board-kinds.ts); the `board_totals` view
-- (sql/functions/5_board_totals.sql) shows them as totals to anyone reading the tables. A window board has its family's kind.
ALTER TABLE boards
  ADD COLUMN sort_order text NOT NULL DEFAULT 'desc' CHECK (sort_order IN ('desc', 'asc'));
ALTER TABLE boards DROP CONSTRAINT boards_write_mode_check;
ALTER TABLE boards ADD CONSTRAINT boards_write_mode_check CHECK (write_mode IN ('sum', 'best', 'latest', 'min', 'max'));

-- Every batch reads the boards that are not plain `desc` sums: keep that read small however many
-- boards exist (it replaces the index of the boards not keeping the sum).
DROP INDEX boards_not_sum;
CREATE INDEX boards_special ON boards (board) WHERE write_mode <> 'sum' OR sort_order <> 'desc';

-- An `asc` board's keys are negative.
ALTER TABLE leaderboard DROP CONSTRAINT leaderboard_total_score_check;

-- The merge functions gain the boards keeping the least key and those whose keys are negated;
-- their new signatures are created by sql/functions/ after this file.
DROP FUNCTION IF EXISTS lb_write_totals(bigint[], text[], bigint[], timestamptz, text[], boolean[], text[], text[]);
DROP FUNCTION IF EXISTS lb_window_total(text, bigint, text, bigint, text, text[], text[]);
DROP FUNCTION IF EXISTS lb_merge_total(text, bigint, bigint, text[], text[]);
