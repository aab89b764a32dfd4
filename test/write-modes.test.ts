/**
 * Write modes per board (BOARDS_CONFIG): `best` keeps a player's best single score, `latest` their
 * latest, `sum` (the default) the sum. Checked against a reference model after a concurrent burst
 * (large batches take the set-based path) and after one-by-one submits (the row path), in
 * PostgreSQL, in the Redis index, and through the server's reads from both; then the start-up
 * rules: a board's mode may change only while it has no players.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../client/sdk/connection.ts';
import type { RunningApp } from '../server/app.ts';
import { boardKeys } from '../server/rank-index/keys.ts';
import type { Sql } from '../server/store/db.ts';
import { listingOf, openSql, truth, waitForIndex, type TruthRow } from './support/index-state.ts';
import { connectWs, startTestApp, token } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

type Mode = 'sum' | 'best' | 'latest';
const MODES: Record<string, Mode> = { global: 'sum', 'mode:speed': 'best', 'mode:daily': 'latest', 'mode:casual': 'sum' };
const GAME_MODES = ['speed', 'daily', 'casual'];

/** What each board should hold: per board, per user, the kept total and the games counted. */
class WriteModeModel {
  readonly boards = new Map<string, Map<number, { total: number; games: number }>>();
  submit(user: number, score: number, gameMode: string): void {
    for (const board of ['global', `mode:${gameMode}`]) {
      const rows = this.boards.get(board) ?? new Map<number, { total: number; games: number }>();
      this.boards.set(board, rows);
      const prev = rows.get(user);
      const mode = MODES[board] ?? 'sum';
      const total = !prev ? score : mode === 'best' ? Math.max(prev.total, score) : mode === 'latest' ? score : prev.total + score;
      rows.set(user, { total, games: (prev?.games ?? 0) + 1 });
    }
  }
  listing(board: string) {
    const rows = [...(this.boards.get(board) ?? new Map()).entries()].map(([user_id, r]) => ({
      user_id,
      username: `player${user_id}`,
      total_score: r.total,
      games_played: r.games,
    }));
    return listingOf(rows as TruthRow[]);
  }
}

let stores: FreshStores;
let dir: string;
let app: RunningApp | undefined;
let sql: Sql;
let redis: Redis;
let sockets: Connection[] = [];
const model = new WriteModeModel();

async function configFile(boards: { board: string; write_mode: string }[], name = 'boards.json'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify({ boards }));
  return path;
}

beforeAll(async () => {
  stores = await freshStores();
  dir = await mkdtemp(join(tmpdir(), 'lb-boards-'));
  const path = await configFile([
    { board: 'global', write_mode: 'sum' },
    { board: 'mode:speed', write_mode: 'best' },
    { board: 'mode:daily', write_mode: 'latest' },
  ]);
  app = await startTestApp(stores, { BOARDS_CONFIG: path });
  sql = openSql(stores.databaseUrl);
  redis = new Redis(stores.redisUrl);
  for (let i = 0; i < 4; i++) sockets.push(await connectWs(app.port, token('server')));
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await app?.close();
  await sql?.end({ timeout: 5 });
  redis?.disconnect();
  await stores?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Every board in PostgreSQL, in the index, and through the server's top and rank, equals the model. */
async function expectModel(): Promise<void> {
  const pg = await truth(sql);
  for (const board of Object.keys(MODES)) {
    const want = model.listing(board);
    expect(listingOf(pg.get(board) ?? []).map(({ username: _u, ...e }) => e), `PostgreSQL ${board}`).toEqual(want.map(({ username: _u, ...e }) => e));
    const top = (await sockets[0]!.request('top', { board, limit: 100 })) as { entries: unknown[] };
    expect(top.entries, `top ${board}`).toEqual(want.slice(0, 100));
    for (const e of want.slice(0, 10)) {
      const r = (await sockets[1]!.request('rank', { board, user_id: e.user_id })) as { rank: number; total_score: number };
      expect({ rank: r.rank, total: r.total_score }, `rank ${board} ${e.user_id}`).toEqual({ rank: e.rank, total: e.total_score });
    }
  }
  expect(await waitForIndex(redis, sql, stores.redisPrefix)).toEqual([]);
}

describe('write modes', () => {
  it('keep the sum, the best or the latest score under a concurrent burst of large batches', async () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const sent: Promise<unknown>[] = [];
    for (let n = 0; n < 800; n++) {
      const user = 1 + Math.floor(rand() * 50);
      const score = Math.floor(rand() * 1000);
      const game_mode = GAME_MODES[Math.floor(rand() * GAME_MODES.length)]!;
      model.submit(user, score, game_mode);
      // A user's submits all go through one socket, so they commit in the order the model applies them.
      sent.push(sockets[user % sockets.length]!.request('submit', { user_id: user, score, game_mode }));
    }
    await Promise.all(sent);
    await expectModel();
  });

  it('keep them one submit at a time too, with a lower, a higher and an equal score', async () => {
    for (const [score, game_mode] of [
      [500, 'speed'],
      [200, 'speed'],
      [900, 'speed'],
      [900, 'speed'],
      [5, 'daily'],
      [1000, 'daily'],
      [0, 'daily'],
    ] as const) {
      model.submit(77, score, game_mode);
      const reply = (await sockets[0]!.request('submit', { user_id: 77, score, game_mode })) as { total_score: number };
      expect(reply.total_score, 'the reply carries the global (sum) total').toBe(model.boards.get('global')!.get(77)!.total);
      const board = `mode:${game_mode}`;
      const r = (await sockets[0]!.request('rank', { board, user_id: 77 })) as { total_score: number; games_played: number };
      expect({ total: r.total_score, games: r.games_played }).toEqual(model.boards.get(board)!.get(77));
    }
    await expectModel();
  });

  it('read the same from PostgreSQL when the index of a board is not trusted', async () => {
    for (const board of ['mode:speed', 'mode:daily']) {
      await redis.del(boardKeys(stores.redisPrefix, board).epoch);
      const top = (await sockets[0]!.request('top', { board, limit: 100 })) as { entries: unknown[] };
      expect(top.entries, `top ${board} from PostgreSQL`).toEqual(model.listing(board).slice(0, 100));
    }
    await expectModel(); // and the rebuilt index agrees
  });
});

describe('BOARDS_CONFIG at start-up', () => {
  it('refuses to change the mode of a board that has players, and changes nothing', async () => {
    await app!.close();
    app = undefined;
    const flipped = await configFile([{ board: 'mode:speed', write_mode: 'latest' }, { board: 'mode:daily', write_mode: 'latest' }], 'flipped.json');
    await expect(startTestApp(stores, { BOARDS_CONFIG: flipped })).rejects.toThrow(/mode:speed is desc best, configured desc latest/);
    const dropped = await configFile([{ board: 'mode:speed', write_mode: 'best' }], 'dropped.json');
    await expect(startTestApp(stores, { BOARDS_CONFIG: dropped })).rejects.toThrow(/mode:daily is desc latest, configured desc sum/);
    expect(await sql`SELECT board, write_mode FROM boards WHERE write_mode <> 'sum' ORDER BY board`).toEqual([
      { board: 'mode:daily', write_mode: 'latest' },
      { board: 'mode:speed', write_mode: 'best' },
    ]);
  });

  it('creates a configured board before its first score, and may change its mode while it is empty', async () => {
    const base = [{ board: 'mode:speed', write_mode: 'best' }, { board: 'mode:daily', write_mode: 'latest' }];
    const first = await configFile([...base, { board: 'mode:new', write_mode: 'best' }], 'new.json');
    app = await startTestApp(stores, { BOARDS_CONFIG: first });
    await app.close();
    const second = await configFile([...base, { board: 'mode:new', write_mode: 'latest' }], 'new2.json');
    app = await startTestApp(stores, { BOARDS_CONFIG: second });
    expect(await sql`SELECT write_mode FROM boards WHERE board = 'mode:new'`).toEqual([{ write_mode: 'latest' }]);
    sockets.forEach((s) => s.close());
    sockets = [await connectWs(app.port, token('server'))];
    for (const score of [30, 10]) await sockets[0]!.request('submit', { user_id: 5, score, game_mode: 'new' });
    expect(((await sockets[0]!.request('rank', { board: 'mode:new', user_id: 5 })) as { total_score: number }).total_score).toBe(10);
  });

  it('refuses a file that is not valid, naming what is wrong', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ boards: [{ board: 'mode:x', write_mode: 'median' }, { board: 'nope', write_mode: 'sum' }] }));
    await expect(startTestApp(stores, { BOARDS_CONFIG: bad })).rejects.toThrow(/boards\.0\.write_mode.*boards\.1\.board/);
    await expect(startTestApp(stores, { BOARDS_CONFIG: join(dir, 'missing.json') })).rejects.toThrow(/cannot use BOARDS_CONFIG/);
  });
});
