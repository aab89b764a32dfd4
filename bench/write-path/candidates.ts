/**
 * The write-path candidates of docs/write-path.md as pgbench scripts: what one batch of `rows`
 * submits costs PostgreSQL in each shape, 100 distinct users per transaction by default, one round
 * trip per transaction (`\;`). `setup` is run once on a scratch database that already has the
 * project's migrations and seeded users (see run.ts); it adds what a candidate needs.
 *
 * Variables (-D): users, rows, stride (as bench/baselines/pgbench-scripts.ts), day (a period
 * number the script compares with, fixed for a run: every update is then "same period").
 */
export interface Candidate {
  name: string;
  what: string;
  setup?: string;
  script: string;
}

const batchUser = '1 + ((:base + i * :stride) % :users)';
const batchScore = '(:base + i) % 1001';
const series = 'generate_series(1, :rows) AS i';
const pre = `\\set base random(0, :users - 1)
\\set nonce random(1, 1000000000000)
`;
const insertSessions = `INSERT INTO game_sessions (user_id, score, game_mode, submission_id, created_at)
  SELECT ${batchUser}, ${batchScore}, 'bench', 'pgb-' || :nonce || '-' || i, clock_timestamp() FROM ${series}`;
const lockUsers = `SELECT count(*) FROM (SELECT user_id FROM users WHERE user_id IN (SELECT ${batchUser} FROM ${series}) ORDER BY user_id FOR UPDATE) AS l`;
const upsertBoard = (board: string) => `INSERT INTO leaderboard AS l (board, user_id, total_score, games_played, last_played_at)
  SELECT '${board}', ${batchUser}, ${batchScore}, 1, clock_timestamp() FROM ${series} ORDER BY 2
  ON CONFLICT (board, user_id) DO UPDATE SET total_score = l.total_score + EXCLUDED.total_score,
    games_played = l.games_played + 1, last_played_at = EXCLUDED.last_played_at
  RETURNING l.total_score, l.games_played`;

/** Per-user running totals of every board a submit counts on, as columns of one row (windows: period, total, games). */
const stateColumns = `games integer NOT NULL DEFAULT 0, total bigint NOT NULL DEFAULT 0,
  d_period integer NOT NULL DEFAULT 0, d_games integer NOT NULL DEFAULT 0, d_total bigint NOT NULL DEFAULT 0,
  w_period integer NOT NULL DEFAULT 0, w_games integer NOT NULL DEFAULT 0, w_total bigint NOT NULL DEFAULT 0,
  m_period integer NOT NULL DEFAULT 0, m_games integer NOT NULL DEFAULT 0, m_total bigint NOT NULL DEFAULT 0`;
const stateSet = (t: string) => `games = ${t}.games + 1, total = ${t}.total + s.score,
    d_games = CASE WHEN ${t}.d_period = :day THEN ${t}.d_games + 1 ELSE 1 END, d_total = CASE WHEN ${t}.d_period = :day THEN ${t}.d_total + s.score ELSE s.score END, d_period = :day,
    w_games = CASE WHEN ${t}.w_period = :day THEN ${t}.w_games + 1 ELSE 1 END, w_total = CASE WHEN ${t}.w_period = :day THEN ${t}.w_total + s.score ELSE s.score END, w_period = :day,
    m_games = CASE WHEN ${t}.m_period = :day THEN ${t}.m_games + 1 ELSE 1 END, m_total = CASE WHEN ${t}.m_period = :day THEN ${t}.m_total + s.score ELSE s.score END, m_period = :day`;
const stateSetExcluded = stateSet('p').replaceAll('s.score', 'EXCLUDED.total');

/** The two state tables (per user, per user and mode), one row each per seeded user. */
const stateTables = (user: string, mode: string) => `CREATE TABLE ${user} (user_id bigint PRIMARY KEY, ${stateColumns}) WITH (fillfactor = 50);
INSERT INTO ${user} (user_id) SELECT user_id FROM users;
CREATE TABLE ${mode} (user_id bigint NOT NULL, game_mode integer NOT NULL, ${stateColumns}, PRIMARY KEY (user_id, game_mode)) WITH (fillfactor = 50);
INSERT INTO ${mode} (user_id, game_mode) SELECT user_id, 1 FROM users;`;
/** A batch's synchronous part in the state-rows shape: both state rows updated (HOT), the sessions inserted. */
const stateBatch = (user: string, mode: string) => `BEGIN \\;
UPDATE ${user} p SET ${stateSet('p')}
  FROM (SELECT ${batchUser} AS u, ${batchScore} AS score FROM ${series} ORDER BY 1) s WHERE p.user_id = s.u
  RETURNING p.total, p.games \\;
INSERT INTO ${mode} AS p (user_id, game_mode, games, total) SELECT ${batchUser}, 1, 1, ${batchScore} FROM ${series} ORDER BY 1
  ON CONFLICT (user_id, game_mode) DO UPDATE SET ${stateSetExcluded}
  RETURNING p.total, p.games \\;
${insertSessions} \\;
COMMIT;
`;

export const CANDIDATES: Candidate[] = [
  {
    name: 'current-3w',
    what: 'lb_submit_batch as the server calls it, daily+weekly+monthly on (1 session, 2 totals rows with window columns, the index_pending row)',
    script: `${pre}WITH pending AS (INSERT INTO index_pending (instance, token, boards) VALUES ('pgb', :nonce, ARRAY['global', 'mode:bench']))
SELECT count(*) FROM lb_submit_batch(clock_timestamp() + interval '10 s', ARRAY['2026-12-01', '2026-W49', '2026-12'],
  ARRAY(SELECT (${batchUser})::bigint FROM ${series}), ARRAY(SELECT (${batchScore})::bigint FROM ${series}),
  ARRAY(SELECT 'bench'::text FROM ${series}), ARRAY(SELECT NULL::text FROM ${series}),
  ARRAY(SELECT 'pgb-' || :nonce || '-' || i FROM ${series}), ARRAY(SELECT 'player' || (${batchUser}) FROM ${series}));
`,
  },
  {
    name: 'current-0w',
    what: 'lb_submit_batch with no window (1 session, 2 totals rows, the index_pending row)',
    script: `${pre}WITH pending AS (INSERT INTO index_pending (instance, token, boards) VALUES ('pgb', :nonce, ARRAY['global', 'mode:bench']))
SELECT count(*) FROM lb_submit_batch(clock_timestamp() + interval '10 s', ARRAY[NULL, NULL, NULL]::text[],
  ARRAY(SELECT (${batchUser})::bigint FROM ${series}), ARRAY(SELECT (${batchScore})::bigint FROM ${series}),
  ARRAY(SELECT 'bench'::text FROM ${series}), ARRAY(SELECT NULL::text FROM ${series}),
  ARRAY(SELECT 'pgb-' || :nonce || '-' || i FROM ${series}), ARRAY(SELECT 'player' || (${batchUser}) FROM ${series}));
`,
  },
  {
    name: 'minimal',
    what: 'plain SQL: lock users, insert sessions, upsert one totals row (non-HOT: total is indexed)',
    script: `${pre}BEGIN \\;
${lockUsers} \\;
${insertSessions} \\;
${upsertBoard('global')} \\;
COMMIT;
`,
  },
  {
    name: 'insert-only',
    what: 'insert sessions alone (the three indexes of game_sessions)',
    script: `${pre}${insertSessions};
`,
  },
  {
    name: 'lock+insert',
    what: 'lock users FOR UPDATE, insert sessions (the log as the only write)',
    script: `${pre}BEGIN \\;
${lockUsers} \\;
${insertSessions} \\;
COMMIT;
`,
  },
  {
    name: 'state-1row',
    what: 'insert sessions + one HOT update per user of a state row holding all-time and three window totals (the update is the lock)',
    setup: `CREATE TABLE bench_user_state (user_id bigint PRIMARY KEY, ${stateColumns}) WITH (fillfactor = 50);
INSERT INTO bench_user_state (user_id) SELECT user_id FROM users;`,
    script: `${pre}BEGIN \\;
UPDATE bench_user_state p SET ${stateSet('p')}
  FROM (SELECT ${batchUser} AS u, ${batchScore} AS score FROM ${series} ORDER BY 1) s WHERE p.user_id = s.u
  RETURNING p.total, p.games, p.d_total, p.w_total, p.m_total \\;
${insertSessions} \\;
COMMIT;
`,
  },
  {
    name: 'state-2rows',
    what: 'as state-1row, plus a HOT upsert of the (user, mode) state row: every board of a submit, windows included, in two rows',
    setup: stateTables('bench_user_state2', 'bench_mode_state'),
    script: `${pre}${stateBatch('bench_user_state2', 'bench_mode_state')}`,
  },
  {
    name: 'state+fold',
    what: 'state-2rows, then (in a second transaction of the same script) the fold of those users into ranked rows (global, mode) with a rank index: the whole cost PostgreSQL bears when no user repeats within a fold',
    setup: `${stateTables('bench_sf_user', 'bench_sf_mode')}
CREATE TABLE bench_sf_ranked (board text NOT NULL, user_id bigint NOT NULL, total bigint NOT NULL, games integer NOT NULL, PRIMARY KEY (board, user_id));
CREATE INDEX bench_sf_ranked_rank ON bench_sf_ranked (board, total DESC, user_id);
INSERT INTO bench_sf_ranked (board, user_id, total, games) SELECT b, user_id, 0, 0 FROM users, unnest(ARRAY['global', 'mode:bench']) AS b;`,
    script: `${pre}${stateBatch('bench_sf_user', 'bench_sf_mode')}INSERT INTO bench_sf_ranked AS r (board, user_id, total, games)
  SELECT 'global', s.user_id, s.total, s.games FROM bench_sf_user s WHERE s.user_id IN (SELECT ${batchUser} FROM ${series})
  UNION ALL SELECT 'mode:bench', s.user_id, s.total, s.games FROM bench_sf_mode s WHERE s.game_mode = 1 AND s.user_id IN (SELECT ${batchUser} FROM ${series})
  ORDER BY 2, 1
  ON CONFLICT (board, user_id) DO UPDATE SET total = EXCLUDED.total, games = EXCLUDED.games WHERE r.games < EXCLUDED.games;
`,
  },
  {
    name: 'wide-2rows',
    what: "lock users, insert sessions, upsert the two all-time rows (global, mode) carrying the three windows' totals as columns (non-HOT: total is indexed)",
    setup: `CREATE TABLE bench_wide (board text NOT NULL, user_id bigint NOT NULL, ${stateColumns}, PRIMARY KEY (board, user_id));
CREATE INDEX bench_wide_rank ON bench_wide (board, total DESC, user_id);
INSERT INTO bench_wide (board, user_id) SELECT b, user_id FROM users, unnest(ARRAY['global', 'mode:bench']) AS b;`,
    script: `${pre}BEGIN \\;
${lockUsers} \\;
${insertSessions} \\;
INSERT INTO bench_wide AS p (board, user_id, games, total) SELECT b, ${batchUser}, 1, ${batchScore} FROM ${series}, unnest(ARRAY['global', 'mode:bench']) AS b ORDER BY 2, 1
  ON CONFLICT (board, user_id) DO UPDATE SET ${stateSetExcluded}
  RETURNING p.total, p.games, p.d_total, p.w_total, p.m_total \\;
COMMIT;
`,
  },
  {
    name: 'windows-hot',
    what: 'lock users, insert sessions, upsert the two all-time rows (non-HOT), and the six window rows in a table of their own with no rank index (HOT)',
    setup: `CREATE TABLE bench_windows (board text NOT NULL, user_id bigint NOT NULL, total_score bigint NOT NULL, games_played integer NOT NULL, last_played_at timestamptz NOT NULL, PRIMARY KEY (board, user_id)) WITH (fillfactor = 50);
INSERT INTO bench_windows SELECT b, user_id, 0, 0, now() FROM users, unnest(ARRAY['global:daily:x', 'global:weekly:x', 'global:monthly:x', 'mode:bench:daily:x', 'mode:bench:weekly:x', 'mode:bench:monthly:x']) AS b;`,
    script: `${pre}BEGIN \\;
${lockUsers} \\;
${insertSessions} \\;
INSERT INTO leaderboard AS l (board, user_id, total_score, games_played, last_played_at)
  SELECT b, ${batchUser}, ${batchScore}, 1, clock_timestamp() FROM ${series}, unnest(ARRAY['global', 'mode:bench']) AS b ORDER BY 2, 1
  ON CONFLICT (board, user_id) DO UPDATE SET total_score = l.total_score + EXCLUDED.total_score, games_played = l.games_played + 1, last_played_at = EXCLUDED.last_played_at
  RETURNING l.total_score \\;
INSERT INTO bench_windows AS l (board, user_id, total_score, games_played, last_played_at)
  SELECT b, ${batchUser}, ${batchScore}, 1, clock_timestamp() FROM ${series}, unnest(ARRAY['global:daily:x', 'global:weekly:x', 'global:monthly:x', 'mode:bench:daily:x', 'mode:bench:weekly:x', 'mode:bench:monthly:x']) AS b ORDER BY 2, 1
  ON CONFLICT (board, user_id) DO UPDATE SET total_score = l.total_score + EXCLUDED.total_score, games_played = l.games_played + 1, last_played_at = EXCLUDED.last_played_at
  RETURNING l.total_score \\;
COMMIT;
`,
  },
  {
    name: 'windows-cold',
    what: 'as windows-hot, but the six window rows in leaderboard itself (non-HOT): the plain-SQL twin of the old lb_submit_windows with three windows',
    setup: `INSERT INTO boards (board) SELECT unnest(ARRAY['global:daily:x', 'global:weekly:x', 'global:monthly:x', 'mode:bench:daily:x', 'mode:bench:weekly:x', 'mode:bench:monthly:x']) ON CONFLICT DO NOTHING;`,
    script: `${pre}BEGIN \\;
${lockUsers} \\;
${insertSessions} \\;
INSERT INTO leaderboard AS l (board, user_id, total_score, games_played, last_played_at)
  SELECT b, ${batchUser}, ${batchScore}, 1, clock_timestamp() FROM ${series}, unnest(ARRAY['global', 'mode:bench', 'global:daily:x', 'global:weekly:x', 'global:monthly:x', 'mode:bench:daily:x', 'mode:bench:weekly:x', 'mode:bench:monthly:x']) AS b ORDER BY 2, 1
  ON CONFLICT (board, user_id) DO UPDATE SET total_score = l.total_score + EXCLUDED.total_score, games_played = l.games_played + 1, last_played_at = EXCLUDED.last_played_at
  RETURNING l.total_score \\;
COMMIT;
`,
  },
];
