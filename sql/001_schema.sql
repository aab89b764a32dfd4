-- Core schema: users, the append-only session log, per-board totals, and the list of boards.
-- PostgreSQL is the source of truth; Redis holds a rebuildable rank index of `leaderboard`.

CREATE TABLE users (
  user_id     bigint PRIMARY KEY CHECK (user_id BETWEEN 1 AND 9007199254740991),
  username    text NOT NULL CHECK (char_length(username) BETWEEN 1 AND 32),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_key ON users (username);

-- One row per committed submit. `id` order is commit order per user (ids are drawn while the
-- user's row lock is held), which is what `history` lists.
CREATE TABLE game_sessions (
  id             bigserial PRIMARY KEY,
  user_id        bigint NOT NULL REFERENCES users (user_id),
  score          bigint NOT NULL CHECK (score BETWEEN 0 AND 1000000000),
  game_mode      text NOT NULL CHECK (game_mode ~ '^[a-z0-9_-]{1,32}$'),
  submission_id  text CHECK (char_length(submission_id) BETWEEN 1 AND 64),
  created_at     timestamptz NOT NULL
);
CREATE UNIQUE INDEX game_sessions_user_submission_key ON game_sessions (user_id, submission_id)
  WHERE submission_id IS NOT NULL;
CREATE INDEX game_sessions_user_id_idx ON game_sessions (user_id, id DESC);

CREATE TABLE boards (
  board       text PRIMARY KEY,
  created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO boards (board) VALUES ('global');

-- A user's totals on one board: `global` (every mode) and `mode:<game_mode>`.
CREATE TABLE leaderboard (
  board           text NOT NULL REFERENCES boards (board),
  user_id         bigint NOT NULL REFERENCES users (user_id),
  total_score     bigint NOT NULL CHECK (total_score >= 0),
  games_played    integer NOT NULL CHECK (games_played >= 0),
  last_played_at  timestamptz NOT NULL,
  PRIMARY KEY (board, user_id)
);
-- Serves `top` (index order is listing order) and `rank` (count of strictly higher totals) when
-- reads fall back to PostgreSQL.
CREATE INDEX leaderboard_rank_idx ON leaderboard (board, total_score DESC, user_id);
