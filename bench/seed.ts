/**
 * Loads realistic data fast: U users and S sessions through COPY, skewed so a few players play far
 * more than most (session counts follow a Zipf-like law), with totals per board consistent with
 * the sessions. `npm run bench:seed -- --users 1000000 --sessions 5000000` seeds DATABASE_URL
 * (after migrating it), showing on a terminal (outside CI) the rows inserted so far on stderr; the
 * bench calls `seed()` on its own scratch databases.
 */
import { parseArgs } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import postgres from 'postgres';
import { defaultUsername, nameKey } from '../protocol/index.ts';
import { migrate } from '../server/store/migrate.ts';
import type { Sql } from '../server/store/db.ts';
import { NO_PROGRESS, terminalProgress, type Progress, type ProgressOutput } from '../server/progress.ts';
import { prng } from './load/protocol-client.ts';

export interface SeedOptions {
  users: number;
  sessions: number;
  modes: string[];
  /** Zipf exponent of sessions per user. */
  skew?: number;
  seed?: number;
  /** Where to show the users, sessions and board rows inserted (default: nowhere). */
  progress?: ProgressOutput;
}

export interface SeedResult {
  users: number;
  sessions: number;
  boards: number;
  seconds: number;
}

function sessionCounts(o: SeedOptions, rand: () => number): Uint32Array {
  const s = o.skew ?? 0.8;
  const weights = new Float64Array(o.users);
  let sum = 0;
  for (let i = 0; i < o.users; i++) sum += weights[i] = 1 / Math.pow(i + 1, s);
  const counts = new Uint32Array(o.users);
  const extra = Math.max(0, o.sessions - o.users); // everyone played at least once
  let given = 0;
  for (let i = 0; i < o.users; i++) given += counts[i] = Math.floor((weights[i]! / sum) * extra);
  for (let i = 0; given < extra; i = (i + 1) % o.users, given++) counts[i]!++; // the rounding remainder
  for (let i = 0; i < o.users; i++) counts[i]!++;
  // The heaviest players are not the lowest ids: shuffle who gets which count.
  for (let i = o.users - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = counts[i]!;
    counts[i] = counts[j]!;
    counts[j] = t;
  }
  return counts;
}

/** Streams COPY data; `chunks` yields large blocks of lines (per-line yields would dominate the time). */
async function copy(sql: Sql, statement: string, chunks: () => Generator<string>): Promise<void> {
  const writable = await sql.unsafe(statement).writable();
  await pipeline(Readable.from(chunks()), writable);
}

/** Runs `line(i)` for i in [0, n), yielding the output in blocks of `per` lines; `done` hears of each block. */
function* blocks(n: number, per: number, line: (i: number) => string, done: (end: number) => void = () => undefined): Generator<string> {
  for (let start = 0; start < n; start += per) {
    let out = '';
    const end = Math.min(n, start + per);
    for (let i = start; i < end; i++) out += line(i);
    yield out;
    done(end);
  }
}

/** Runs one COPY phase under its own progress line. */
async function phase(progress: ProgressOutput, label: string, total: number, unit: string, run: (line: Progress) => Promise<void>): Promise<void> {
  const line = progress.start(label, total, unit);
  let outcome = 'failed';
  try {
    await run(line);
    outcome = 'done';
  } finally {
    line.finish(outcome);
  }
}

export async function seed(sql: Sql, o: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const rand = prng(o.seed ?? 42);
  const counts = sessionCounts(o, rand);
  const modeCount = o.modes.length;
  const totals = new Float64Array(o.users); // global
  const modeTotals = new Float64Array(o.users * modeCount);
  const modeGames = new Uint32Array(o.users * modeCount);
  const now = Date.now();
  const progress = o.progress ?? NO_PROGRESS;
  // The data is consistent by construction: skip the per-row foreign-key triggers (superuser only;
  // this is a bench tool for scratch databases).
  await sql`SET session_replication_role = replica`;

  // Default names, keyed as the server keys them (sql/001); their keys are plain ASCII.
  await phase(progress, 'seed users', o.users, 'users', (line) =>
    copy(sql, `COPY users (user_id, username, name_key) FROM STDIN`, () =>
      blocks(o.users, 20_000, (i) => `${i + 1}\t${defaultUsername(i + 1)}\t${nameKey(defaultUsername(i + 1))}\n`, (end) => line.update(end)),
    ),
  );
  let sessions = 0;
  // Timestamps over the last 30 days, from a pool: formatting one per row would dominate.
  const stamps = Array.from({ length: 4096 }, () => new Date(now - Math.floor(rand() * 30 * 86_400_000)).toISOString());
  // Bulk loads are faster without the secondary indexes; they are rebuilt once afterwards.
  await sql`DROP INDEX game_sessions_user_id_idx`;
  const sessionTotal = counts.reduce((a, c) => a + c, 0);
  await phase(progress, 'seed sessions', sessionTotal, 'sessions', (line) =>
    copy(sql, `COPY game_sessions (user_id, score, game_mode, created_at) FROM STDIN`, () =>
      blocks(
        o.users,
        2_000,
        (i) => {
          let out = '';
          for (let g = 0; g < counts[i]!; g++) {
            const score = Math.floor(rand() * rand() * 10_000);
            const m = Math.floor(rand() * modeCount);
            totals[i]! += score;
            modeTotals[i * modeCount + m]! += score;
            modeGames[i * modeCount + m]!++;
            sessions++;
            out += `${i + 1}\t${score}\t${o.modes[m]}\t${stamps[(sessions * 2654435761) & 4095]}\n`;
          }
          return out;
        },
        () => line.update(sessions),
      ),
    ),
  );
  await sql`CREATE INDEX game_sessions_user_id_idx ON game_sessions (user_id, id DESC)`;
  await sql`INSERT INTO boards (board) SELECT 'mode:' || m FROM unnest(${o.modes}::text[]) m ON CONFLICT DO NOTHING`;
  const ts = new Date(now).toISOString();
  // One global row per user, and one per mode the user played.
  const boardRows = modeGames.reduce((a, g) => a + (g > 0 ? 1 : 0), o.users);
  let rows = 0;
  await phase(progress, 'seed board rows', boardRows, 'rows', (line) =>
    copy(sql, `COPY leaderboard (board, user_id, total_score, games_played, last_played_at) FROM STDIN`, () =>
      blocks(
        o.users,
        10_000,
        (i) => {
          let out = `global\t${i + 1}\t${totals[i]}\t${counts[i]}\t${ts}\n`;
          rows++;
          for (let m = 0; m < modeCount; m++) {
            const games = modeGames[i * modeCount + m]!;
            if (games > 0) {
              out += `mode:${o.modes[m]}\t${i + 1}\t${modeTotals[i * modeCount + m]}\t${games}\t${ts}\n`;
              rows++;
            }
          }
          return out;
        },
        () => line.update(rows),
      ),
    ),
  );
  await sql`SET session_replication_role = DEFAULT`;
  await sql`SELECT setval(pg_get_serial_sequence('game_sessions', 'id'), (SELECT max(id) FROM game_sessions))`;
  await sql`ANALYZE`;
  return { users: o.users, sessions, boards: modeCount + 1, seconds: (performance.now() - started) / 1000 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '1000000' },
      sessions: { type: 'string', default: '5000000' },
      modes: { type: 'string', default: 'ranked,casual,arena,blitz' },
    },
  });
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/leaderboard';
  const sql = postgres(url, { max: 1, onnotice: () => undefined }) as unknown as Sql;
  try {
    await migrate(sql);
    const progress = terminalProgress(process.stderr, process.env);
    const r = await seed(sql, { users: Number(values.users), sessions: Number(values.sessions), modes: values.modes.split(','), progress });
    process.stdout.write(`seeded ${r.users} users, ${r.sessions} sessions, ${r.boards} boards in ${r.seconds.toFixed(1)} s\n`);
  } finally {
    await sql.end();
  }
}
