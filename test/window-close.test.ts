/**
 * Time-window totals live in columns of the all-time rows while their period is open, and as rows
 * of their own once it closes (sql/008, server/store/window-close.ts). Against the real
 * PostgreSQL, through the functions the server calls: every read of a period's board equals a
 * model of the submits, before and after its close, with submits arriving late (for a period the
 * columns have left, or that is closed) and racing the close; and a database written in the older
 * layout (every window board's rows stored as rows) reads the same after its migration.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Entry, SubmitRequest } from '../protocol/index.ts';
import { connect, ensureDatabase, type Sql } from '../server/store/db.ts';
import { migrate, SQL_DIR } from '../server/store/migrate.ts';
import * as scores from '../server/store/scores.ts';
import { closePeriod, openPeriods } from '../server/store/window-close.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

const DAY1 = '2026-12-01';
const DAY2 = '2026-12-02';
const WEEK = '2026-W49';
const suffixes = (day: string) => [`:daily:${day}`, `:weekly:${WEEK}`];

/** Sums per board of what was submitted, the model every read is compared with. */
class Model {
  readonly boards = new Map<string, Map<number, { total: number; games: number }>>();
  add(board: string, user: number, score: number): void {
    const rows = this.boards.get(board) ?? new Map();
    const r = rows.get(user) ?? { total: 0, games: 0 };
    rows.set(user, { total: r.total + score, games: r.games + 1 });
    this.boards.set(board, rows);
  }
  submit(user: number, score: number, mode: string, day: string): void {
    for (const family of ['global', `mode:${mode}`]) {
      this.add(family, user, score);
      for (const s of suffixes(day)) this.add(family + s, user, score);
    }
  }
  listing(board: string): { user_id: number; total_score: number; games_played: number }[] {
    return [...(this.boards.get(board) ?? new Map())]
      .map(([user_id, r]) => ({ user_id, total_score: r.total, games_played: r.games }))
      .sort((a, b) => b.total_score - a.total_score || a.user_id - b.user_id);
  }
}

let stores: FreshStores;
let sql: Sql;

beforeAll(async () => {
  stores = await freshStores();
  await ensureDatabase(stores.databaseUrl, 5);
  sql = connect({ url: stores.databaseUrl, poolSize: 8, connectTimeoutS: 5 });
  await migrate(sql);
});

afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await stores?.cleanup();
});

async function submit(reqs: SubmitRequest[], day: string): Promise<void> {
  const results = await scores.submitBatch(sql, reqs, new Date(Date.now() + 30_000), suffixes(day));
  expect(results.map((r) => r.status)).toEqual(reqs.map(() => 'ok'));
}

const strip = (entries: Entry[]) => entries.map((e) => ({ user_id: e.user_id, total_score: e.total_score, games_played: e.games_played }));

/** Every way the server reads a board from PostgreSQL, against the model. */
async function expectBoard(model: Model, board: string): Promise<void> {
  const want = model.listing(board);
  expect(strip(await scores.top(sql, board, 1000)), `top ${board}`).toEqual(want);
  expect(await scores.boardSize(sql, board), `size ${board}`).toBe(want.length);
  const paged: Entry[] = [];
  for (let after: Entry | undefined; ; ) {
    const page = await scores.page(sql, board, after && { total_score: after.total_score, user_id: after.user_id }, 7);
    if (page.length === 0) break;
    paged.push(...page);
    after = page.at(-1);
  }
  expect(strip(paged), `pages of ${board}`).toEqual(want);
  for (const [i, row] of want.entries()) {
    if (i % 5 !== 0) continue;
    const rank = 1 + want.filter((r) => r.total_score > row.total_score).length;
    expect(await scores.rankOfTotal(sql, board, row.total_score), `rank in ${board}`).toBe(rank);
    expect(await scores.userOnBoard(sql, board, row.user_id)).toMatchObject({ total_score: row.total_score, games_played: row.games_played });
    const around = await scores.around(sql, board, row.user_id, 2);
    expect(around?.find((e) => e.user_id === row.user_id)?.rank).toBe(rank);
  }
  const stored = await sql<{ user_id: number; total_score: number; games_played: number }[]>`
    SELECT user_id, total_score, games_played FROM board_rows WHERE board = ${board} ORDER BY total_score DESC, user_id`;
  expect([...stored], `board_rows ${board}`).toEqual(want);
}

const req = (user_id: number, score: number, game_mode = 'kart'): SubmitRequest => ({ user_id, score, game_mode });

describe('a period in columns, then closed into rows', () => {
  const model = new Model();

  it('reads a period the same while open, after its users moved on, late submits included, and once closed', async () => {
    // Day 1: 40 users, some twice (the batch's row-by-row path), two modes.
    const day1 = Array.from({ length: 40 }, (_, i) => req(1000 + i, (i * 37) % 101, i % 3 === 0 ? 'drift' : 'kart'));
    await submit(day1, DAY1);
    await submit([req(1000, 5, 'drift'), req(1000, 6, 'drift'), req(1001, 7)], DAY1);
    for (const r of [...day1, req(1000, 5, 'drift'), req(1000, 6, 'drift'), req(1001, 7)]) model.submit(r.user_id, r.score, r.game_mode, DAY1);
    for (const board of ['global', 'mode:kart', 'mode:drift', `global:daily:${DAY1}`, `mode:kart:daily:${DAY1}`, `global:weekly:${WEEK}`]) {
      await expectBoard(model, board);
    }

    // Day 2: half of them play again (their columns move on, day 1 moves out into rows).
    const day2 = day1.filter((_, i) => i % 2 === 0).map((r) => req(r.user_id, 3, r.game_mode));
    await submit(day2, DAY2);
    for (const r of day2) model.submit(r.user_id, r.score, r.game_mode, DAY2);
    // A submit taken on day 1 that commits after its user's day 2 one: it counts on day 1.
    await submit([req(1000, 11, 'kart'), req(1002, 13, 'drift')], DAY1);
    model.submit(1000, 11, 'kart', DAY1);
    model.submit(1002, 13, 'drift', DAY1);
    for (const board of [`global:daily:${DAY1}`, `global:daily:${DAY2}`, `mode:kart:daily:${DAY1}`, `mode:drift:daily:${DAY1}`, `global:weekly:${WEEK}`, 'global']) {
      await expectBoard(model, board);
    }

    expect(await openPeriods(sql)).toEqual(
      expect.arrayContaining([{ window: 'daily', period: DAY1 }, { window: 'daily', period: DAY2 }, { window: 'weekly', period: WEEK }]),
    );
    // The close writes the users still holding day 1 in their columns; a second close does nothing.
    const written = await closePeriod(sql, { window: 'daily', period: DAY1 });
    expect(written).toBeGreaterThan(0);
    expect(await closePeriod(sql, { window: 'daily', period: DAY1 })).toBe(0);
    expect(await openPeriods(sql)).not.toContainEqual({ window: 'daily', period: DAY1 });
    for (const board of [`global:daily:${DAY1}`, `mode:kart:daily:${DAY1}`, `mode:drift:daily:${DAY1}`, `global:daily:${DAY2}`]) {
      await expectBoard(model, board);
    }

    // A late submit for the closed day writes its rows, whether its user moved on or not.
    await submit([req(1001, 17, 'kart'), req(1004, 19, 'drift'), req(2000, 23, 'kart')], DAY1);
    for (const r of [req(1001, 17, 'kart'), req(1004, 19, 'drift'), req(2000, 23, 'kart')]) model.submit(r.user_id, r.score, r.game_mode, DAY1);
    for (const board of [`global:daily:${DAY1}`, `mode:kart:daily:${DAY1}`, `mode:drift:daily:${DAY1}`, `global:weekly:${WEEK}`, 'global', 'mode:kart']) {
      await expectBoard(model, board);
    }
    // ... and the user who had not moved on moves on later without changing the closed day.
    await submit([req(1001, 2, 'kart')], DAY2);
    model.submit(1001, 2, 'kart', DAY2);
    for (const board of [`global:daily:${DAY1}`, `global:daily:${DAY2}`, `mode:kart:daily:${DAY2}`]) await expectBoard(model, board);
  });

  it('loses no submit that races the close of its period', async () => {
    const day = '2026-12-03';
    const late = new Model();
    const users = Array.from({ length: 60 }, (_, i) => 5000 + i);
    await submit(users.map((u) => req(u, 1)), day);
    for (const u of users) late.submit(u, 1, 'kart', day);
    // Batches for the day keep committing while the day is closed beside them.
    let n = 0;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let round = 0; round < 15; round++) {
        const batch = users.filter((_, i) => i % 4 === w).map((u) => req(u, 1 + ((u + round) % 9)));
        await submit(batch, day);
        for (const r of batch) late.submit(r.user_id, r.score, r.game_mode, day);
        n += batch.length;
      }
    });
    await new Promise((r) => setTimeout(r, 30));
    await closePeriod(sql, { window: 'daily', period: day });
    await Promise.all(writers);
    expect(n).toBe(60 * 15);
    await expectBoard(late, `global:daily:${day}`);
    await expectBoard(late, `mode:kart:daily:${day}`);
  });
});

describe('a database written in the older layout', () => {
  let old: FreshStores;
  let osql: Sql;
  let dir: string;

  beforeAll(async () => {
    old = await freshStores();
    await ensureDatabase(old.databaseUrl, 5);
    osql = connect({ url: old.databaseUrl, poolSize: 2, connectTimeoutS: 5 });
    dir = await mkdtemp(join(tmpdir(), 'lb-baseline-'));
    await copyFile(join(SQL_DIR, '001_schema.sql'), join(dir, '001_schema.sql'));
  });

  afterAll(async () => {
    await osql?.end({ timeout: 5 });
    await old?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('moves the latest period of each window into the columns, closes the earlier ones, and reads the same', async () => {
    expect(await migrate(osql, dir)).toEqual([1]);
    // As the per-board-row design wrote them: one row per window board.
    const model = new Model();
    const rows: [number, number, string][] = [
      [1, 10, DAY1], [2, 20, DAY1], [1, 5, DAY2], [3, 7, DAY2], [2, 1, DAY2],
    ];
    for (const [user, score, day] of rows) model.submit(user, score, 'kart', day);
    await osql`INSERT INTO users (user_id, username, name_key) SELECT u, ${'player'} || u, ${'player'} || u FROM unnest(${[1, 2, 3]}::bigint[]) u`;
    for (const [board, byUser] of model.boards) {
      await osql`INSERT INTO boards (board) VALUES (${board}) ON CONFLICT DO NOTHING`;
      for (const [user, r] of byUser) {
        await osql`INSERT INTO leaderboard (board, user_id, total_score, games_played, last_played_at) VALUES (${board}, ${user}, ${r.total}, ${r.games}, now())`;
      }
    }
    expect(await migrate(osql)).toEqual([8, 9]);
    expect(await osql`SELECT time_window, period FROM window_closes ORDER BY 1, 2`).toEqual([{ time_window: 'daily', period: DAY1 }]);
    expect(await osql`SELECT count(*)::int AS n FROM leaderboard WHERE board LIKE ${`%:${DAY2}`} OR board LIKE ${`%:${WEEK}`}`).toEqual([{ n: 0 }]);
    const saved = sql;
    sql = osql;
    try {
      for (const board of [`global:daily:${DAY1}`, `global:daily:${DAY2}`, `mode:kart:daily:${DAY2}`, `global:weekly:${WEEK}`, 'global']) await expectBoard(model, board);
      // Submits carry on from the migrated columns.
      const more = [req(3, 4), req(4, 9)];
      const results = await scores.submitBatch(osql, more, new Date(Date.now() + 30_000), suffixes(DAY2));
      expect(results.map((r) => r.status)).toEqual(['ok', 'ok']);
      for (const r of more) model.submit(r.user_id, r.score, 'kart', DAY2);
      for (const board of [`global:daily:${DAY2}`, `global:weekly:${WEEK}`]) await expectBoard(model, board);
    } finally {
      sql = saved;
    }
  });
});
