/**
 * The pgbench scripts of the write baseline: the writes `lb_submit` does for one submit (lock the
 * user's row, insert the session, upsert the `global` and `mode:<game_mode>` totals), as one
 * transaction per submit and as one transaction per batch of submits. Each transaction is sent in
 * one round trip (`\;` joins the statements into one query), as `lb_submit` is one call.
 *
 * Variables set with `-D`: users (user ids 1..users exist, each with a row on both boards),
 * rows (submits per batch) and stride (a prime not dividing users, so that the batch's
 * 1 + (base + i * stride) % users are distinct users). Rows are locked in user id order in every
 * statement, so concurrent batches cannot deadlock.
 */

export const BENCH_MODE = 'bench';

const upsert = (board: string, userExpr: string, scoreExpr: string, from: string) => `INSERT INTO leaderboard AS l (board, user_id, total_score, games_played, last_played_at)
  SELECT '${board}', ${userExpr}, ${scoreExpr}, 1, clock_timestamp() ${from}
  ON CONFLICT (board, user_id) DO UPDATE
    SET total_score = l.total_score + EXCLUDED.total_score,
        games_played = l.games_played + 1,
        last_played_at = EXCLUDED.last_played_at
  RETURNING l.total_score, l.games_played`;

export const SINGLE_ROW_SCRIPT = `\\set uid random(1, :users)
\\set score random(0, 1000)
\\set sid random(1, 1000000000000)
BEGIN \\;
SELECT username FROM users WHERE user_id = :uid FOR UPDATE \\;
INSERT INTO game_sessions (user_id, score, game_mode, submission_id, created_at)
  VALUES (:uid, :score, '${BENCH_MODE}', 'pgb-' || :sid, clock_timestamp()) RETURNING id \\;
${upsert('global', ':uid', ':score', '')} \\;
${upsert(`mode:${BENCH_MODE}`, ':uid', ':score', '')} \\;
COMMIT;
`;

const batchUser = '1 + ((:base + i * :stride) % :users)';
const batchScore = '(:base + i) % 1001';
const batchFrom = 'FROM generate_series(1, :rows) AS i ORDER BY 2';

export const BATCH_SCRIPT = `\\set base random(0, :users - 1)
\\set nonce random(1, 1000000000000)
BEGIN \\;
SELECT count(*) FROM (
  SELECT user_id FROM users
  WHERE user_id IN (SELECT ${batchUser} FROM generate_series(1, :rows) AS i)
  ORDER BY user_id FOR UPDATE) AS locked \\;
INSERT INTO game_sessions (user_id, score, game_mode, submission_id, created_at)
  SELECT ${batchUser}, ${batchScore}, '${BENCH_MODE}', 'pgb-' || :nonce || '-' || i, clock_timestamp()
  FROM generate_series(1, :rows) AS i \\;
${upsert('global', batchUser, batchScore, batchFrom)} \\;
${upsert(`mode:${BENCH_MODE}`, batchUser, batchScore, batchFrom)} \\;
COMMIT;
`;

/** Users 1..users, each with a row on `global` and on the bench mode's board (steady state: upserts update). */
export function seedSql(users: number): string {
  const n = Math.floor(users);
  return `
INSERT INTO users (user_id, username) SELECT g, 'player' || g FROM generate_series(1, ${n}) AS g;
INSERT INTO boards (board) VALUES ('mode:${BENCH_MODE}') ON CONFLICT DO NOTHING;
INSERT INTO leaderboard (board, user_id, total_score, games_played, last_played_at)
  SELECT b, g, 0, 0, now() FROM generate_series(1, ${n}) AS g, unnest(ARRAY['global', 'mode:${BENCH_MODE}']) AS b;
`;
}

/** A prime stride that does not divide `users` (so a batch's users are distinct while rows <= users). */
export function strideFor(users: number): number {
  for (const p of [7919, 7927, 7933, 7937, 7949]) if (users % p !== 0) return p;
  return 7951;
}
