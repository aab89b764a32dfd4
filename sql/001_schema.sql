-- The baseline schema: users, the append-only session log, per-board totals, the list of boards,
-- and the record of committed updates the rank index may not have yet. PostgreSQL is the source
-- of truth; Redis holds a rebuildable rank index of `leaderboard`.
--
-- Tables live in numbered migrations, which only ever append from here; the functions the server
-- calls live in sql/functions/ and are re-applied at every start (server/store/migrate.ts).
-- (This file folds the migrations written before any release; a database made by them is the
-- same schema and is recognised as such.)

CREATE TABLE users (
  user_id     bigint PRIMARY KEY CHECK (user_id BETWEEN 1 AND 9007199254740991),
  username    text NOT NULL CHECK (char_length(username) BETWEEN 1 AND 32),
  -- The name's key (protocol/names.ts nameKey): unique, so look-alike names are one name. NULL
  -- only for a name stored before keys that collides with an earlier one (server/store/name-keys.ts).
  name_key    text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_key ON users (username);
CREATE UNIQUE INDEX users_name_key_key ON users (name_key);

-- One row per committed submit. `id` order is commit order per user (ids are drawn while the
-- user's row lock is held), which is what `history` lists. No foreign keys on the hot tables:
-- the submit functions are the only writers and keep them consistent, and the checks cost every
-- insert a lookup.
CREATE TABLE game_sessions (
  id             bigserial PRIMARY KEY,
  user_id        bigint NOT NULL,
  score          bigint NOT NULL CHECK (score BETWEEN 0 AND 1000000000),
  game_mode      text NOT NULL CHECK (game_mode ~ '^[a-z0-9_-]{1,32}$'),
  submission_id  text CHECK (char_length(submission_id) BETWEEN 1 AND 64),
  created_at     timestamptz NOT NULL
);
CREATE UNIQUE INDEX game_sessions_user_submission_key ON game_sessions (user_id, submission_id)
  WHERE submission_id IS NOT NULL;
CREATE INDEX game_sessions_user_id_idx ON game_sessions (user_id, id DESC);

-- Every board: `global`, `mode:<game_mode>` and their time-window boards. A board keeps, per
-- player, the sum of their scores (`sum`, the default and v1's behaviour), their best single
-- score (`best`), or their latest one (`latest`); `games_played` counts every committed submit in
-- all three. The mode is configured (BOARDS_CONFIG, applied at start-up by server/board-config.ts)
-- and may only change while the board has no players.
CREATE TABLE boards (
  board       text PRIMARY KEY,
  write_mode  text NOT NULL DEFAULT 'sum' CHECK (write_mode IN ('sum', 'best', 'latest')),
  created_at  timestamptz NOT NULL DEFAULT now()
);
-- Every batch reads the boards not keeping the sum: this keeps that read small however many boards exist.
CREATE INDEX boards_not_sum ON boards (board) WHERE write_mode <> 'sum';
INSERT INTO boards (board) VALUES ('global');

-- A user's totals on one board.
CREATE TABLE leaderboard (
  board           text NOT NULL,
  user_id         bigint NOT NULL,
  total_score     bigint NOT NULL CHECK (total_score >= 0),
  games_played    integer NOT NULL CHECK (games_played >= 0),
  last_played_at  timestamptz NOT NULL,
  PRIMARY KEY (board, user_id)
);
-- Serves `top` (index order is listing order) and `rank` (count of strictly higher totals) when
-- reads fall back to PostgreSQL.
CREATE INDEX leaderboard_rank_idx ON leaderboard (board, total_score DESC, user_id);

-- One result row of lb_submit_batch, as lb_submit_windows keeps them (sql/functions/).
CREATE TYPE lb_submit_row AS (
  ord integer, status text, username text,
  global_total bigint, global_games integer,
  mode_total bigint, mode_games integer,
  session_id bigint, committed_at timestamptz,
  new_board boolean, other_boards text[]
);

-- Committed updates the rank index may not have yet, recorded where the commit is.
--
-- Every batch of submits inserts one row here in the same statement (so the same transaction) as
-- its commit, naming the boards it wrote; the instance deletes the row once the rank index has
-- taken the batch's updates. A row that stays says "these boards may be behind PostgreSQL", and
-- it cannot be lost with Redis or with the instance: any instance rebuilds the boards of a row
-- whose owner is gone (its heartbeat in Redis expired) or that has waited too long, and a rebuild
-- clears its board from every row its snapshot could see (those commits are in the rebuild).
-- A batch retried row by row writes one row per commit under the same token.
CREATE TABLE index_pending (
  instance      text NOT NULL,
  token         bigint NOT NULL,
  boards        text[] NOT NULL,
  committed_at  timestamptz NOT NULL DEFAULT now()
) WITH (autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_scale_factor = 0);
