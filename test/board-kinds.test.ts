/**
 * Board kinds (BOARDS_CONFIG): `asc` boards (lower is better) beside `desc` ones, and the write
 * modes `min` and `max` beside `sum`, `best` and `latest`. A reference model takes random submits;
 * every board, all-time and its current day, is then read over the socket and HTTP (`top`, `rank`,
 * `around`, `ranks`, a whole `page` walk) from the rank index, from PostgreSQL while the index is
 * not trusted, and from the rebuilt index, and must equal the model each time. Then `boards`
 * lists each definition, and a spectator of an `asc` board sees a new best time climb into it.
 * All of it on a single Redis and on a 3-master Redis Cluster.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../client/sdk/connection.ts';
import { percentile, type Entry } from '../protocol/index.ts';
import type { RunningApp } from '../server/app.ts';
import { OffsetClock } from '../server/clock.ts';
import { boardKeys } from '../server/rank-index/keys.ts';
import type { Sql } from '../server/store/db.ts';
import { http } from './support/http.ts';
import { openSql, waitForIndex } from './support/index-state.ts';
import { connectWs, eventually, startTestApp, token } from './support/servers.ts';
import { Spectator } from './support/spectator.ts';
import { RedisCluster } from './support/redis-cluster.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

type Order = 'desc' | 'asc';
type Mode = 'sum' | 'best' | 'latest' | 'min' | 'max';
const KINDS: Record<string, { order: Order; mode: Mode }> = {
  global: { order: 'desc', mode: 'sum' },
  'mode:lap': { order: 'asc', mode: 'best' }, // lap times: the lowest is kept and ranks first
  'mode:golf': { order: 'asc', mode: 'sum' }, // strokes over rounds
  'mode:floor': { order: 'desc', mode: 'min' }, // a player's worst run counts, higher is better
  'mode:worst': { order: 'asc', mode: 'max' }, // a player's slowest lap counts, lower is better
  'mode:plain': { order: 'desc', mode: 'sum' },
};
const GAME_MODES = ['lap', 'golf', 'floor', 'worst', 'plain'];
/**
 * The server stands at today's midday (UTC), so every submit of the test counts in one day
 * whatever the time it runs; today's, since the index keys of a day expire by the real clock.
 */
const NOON = Math.floor(Date.now() / 86_400_000) * 86_400_000 + 43_200_000;
const DAY = new Date(NOON).toISOString().slice(0, 10);

class KindsModel {
  readonly boards = new Map<string, Map<number, { total: number; games: number }>>();
  submit(user: number, score: number, gameMode: string): void {
    for (const family of ['global', `mode:${gameMode}`]) {
      for (const board of [family, `${family}:daily:${DAY}`]) {
        const rows = this.boards.get(board) ?? new Map<number, { total: number; games: number }>();
        this.boards.set(board, rows);
        const prev = rows.get(user);
        const { order, mode } = KINDS[family]!;
        const best = order === 'desc' ? Math.max : Math.min;
        const total = !prev
          ? score
          : mode === 'sum'
            ? prev.total + score
            : mode === 'latest'
              ? score
              : mode === 'best'
                ? best(prev.total, score)
                : mode === 'min'
                  ? Math.min(prev.total, score)
                  : Math.max(prev.total, score);
        rows.set(user, { total, games: (prev?.games ?? 0) + 1 });
      }
    }
  }
  listing(board: string): Entry[] {
    const order = KINDS[board.split(':daily:')[0]!]!.order;
    const better = (a: number, b: number) => (order === 'desc' ? a > b : a < b);
    const rows = [...(this.boards.get(board) ?? new Map<number, { total: number; games: number }>()).entries()];
    return rows
      .map(([user_id, r]) => ({
        rank: 1 + rows.filter(([, o]) => better(o.total, r.total)).length,
        user_id,
        username: `player${user_id}`,
        total_score: r.total,
        games_played: r.games,
      }))
      .sort((x, y) => x.rank - y.rank || x.user_id - y.user_id);
  }
}

let stores: FreshStores;
let dir: string;
let app: RunningApp;
let sql: Sql;
let redis: Redis | Cluster;
let cluster: RedisCluster | undefined;
let sockets: Connection[] = [];
let model = new KindsModel();
const clock = new OffsetClock(NOON - Date.now());

const boardsUnderTest = () => [...model.boards.keys()].sort();
/** The id a client asks for: the current-period alias for the day boards. */
const asked = (board: string) => board.replace(`:daily:${DAY}`, ':daily');

async function get<T>(path: string): Promise<T> {
  const res = await http<T>(app.port, 'GET', path);
  expect(res.status, path).toBe(200);
  return res.body;
}

/** Walks a whole board with `page` (socket) and checks it against the listing, page by page. */
async function walk(board: string, want: Entry[]): Promise<void> {
  const seen: Entry[] = [];
  let after: { total_score: number; user_id: number } | null | undefined;
  for (let n = 0; n < 50; n++) {
    const reply = (await sockets[2]!.request('page', { board: asked(board), limit: 7, ...(after ? { after } : {}) })) as {
      entries: Entry[];
      next: typeof after;
    };
    seen.push(...reply.entries);
    after = reply.next;
    if (after === null) break;
    expect(after, `${board}: next is the last entry's total and user`).toEqual({
      total_score: reply.entries.at(-1)!.total_score,
      user_id: reply.entries.at(-1)!.user_id,
    });
  }
  expect(seen, `page walk of ${board}`).toEqual(want);
  // The same walk's second page over HTTP, from the first page's cursor.
  if (want.length > 7) {
    const cur = want[6]!;
    const page = await get<{ entries: Entry[] }>(`/api/leaderboard/page?board=${asked(board)}&limit=7&after_total=${cur.total_score}&after_user_id=${cur.user_id}`);
    expect(page.entries, `HTTP page 2 of ${board}`).toEqual(want.slice(7, 14));
  }
}

/** Every board through every read, against the model. */
async function expectModel(where: string): Promise<void> {
  for (const board of boardsUnderTest()) {
    const want = model.listing(board);
    const label = `${where}: ${board}`;
    const top = (await sockets[0]!.request('top', { board: asked(board), limit: 100 })) as { board: string; entries: Entry[] };
    expect(top.entries, `top ${label}`).toEqual(want.slice(0, 100));
    expect(top.board, `the period answered for (${label})`).toBe(board);
    const viaHttp = await get<{ top_players: Entry[] }>(`/api/leaderboard/top?board=${asked(board)}&limit=10`);
    expect(viaHttp.top_players, `HTTP top ${label}`).toEqual(want.slice(0, 10));
    for (const e of [want[0]!, want[Math.floor(want.length / 2)]!, want.at(-1)!]) {
      const r = await sockets[1]!.request('rank', { board: asked(board), user_id: e.user_id });
      expect(r, `rank of ${e.user_id} on ${label}`).toEqual({
        board,
        ...e,
        percentile: percentile(e.rank, want.length),
        total_players: want.length,
      });
    }
    const mid = want[Math.floor(want.length / 2)]!;
    const i = want.indexOf(mid);
    const around = (await sockets[1]!.request('around', { board: asked(board), user_id: mid.user_id, radius: 2 })) as { entries: Entry[] };
    expect(around.entries, `around ${label}`).toEqual(want.slice(Math.max(0, i - 2), i + 3));
    const ids = [want.at(-1)!.user_id, want[0]!.user_id, 9_999];
    const ranks = (await sockets[1]!.request('ranks', { board: asked(board), user_ids: ids })) as { entries: Entry[]; missing: number[] };
    expect(ranks, `ranks ${label}`).toEqual({ board, entries: [want[0]!, want.at(-1)!].filter((e, k, a) => a.indexOf(e) === k), missing: [9_999] });
    await walk(board, want);
  }
}

// The same checks on a single Redis and on a 3-master Redis Cluster started on loopback ports.
describe.each([
  ['a single Redis', false],
  ['a Redis Cluster', true],
] as const)('on %s', (_label, clustered) => {
  beforeAll(async () => {
    if (clustered) cluster = await RedisCluster.start(3);
    model = new KindsModel();
    sockets = [];
    stores = await freshStores();
    dir = await mkdtemp(join(tmpdir(), 'lb-kinds-'));
    const path = join(dir, 'boards.json');
    await writeFile(
      path,
      JSON.stringify({
        boards: [
          { board: 'mode:lap', sort_order: 'asc', write_mode: 'best', display: { format: 'time_ms' } },
          { board: 'mode:golf', sort_order: 'asc', display: { format: 'points', unit: 'strokes' } },
          { board: 'mode:floor', write_mode: 'min' },
          { board: 'mode:worst', sort_order: 'asc', write_mode: 'max', display: { format: 'distance', unit: 'km', decimals: 2 } },
        ],
      }),
    );
    const env = { BOARDS_CONFIG: path, DIFF_TICK_MS: '20', INDEX_CHECK_INTERVAL_MS: '3600000' };
    app = await startTestApp(stores, cluster ? { ...env, REDIS_CLUSTER_NODES: cluster.seeds } : env, clock);
    sql = openSql(stores.databaseUrl);
    redis = cluster ? cluster.client() : new Redis(stores.redisUrl);
    for (let i = 0; i < 3; i++) sockets.push(await connectWs(app.port, token('server')));
  }, 60_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    await app?.close();
    await sql?.end({ timeout: 5 });
    redis?.disconnect();
    await cluster?.deleteKeys(stores.redisPrefix);
    await stores?.cleanup();
    await cluster?.stop();
    cluster = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  describe('asc and desc boards, with every write mode', () => {
    it('answer as the model from the rank index, after a concurrent burst and one-by-one submits', async () => {
      let seed = 11;
      const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
      const sent: Promise<unknown>[] = [];
      for (let n = 0; n < 600; n++) {
        const user = 1 + Math.floor(rand() * 40);
        // Few distinct scores, so ties are common on every board.
        const score = 1000 + 100 * Math.floor(rand() * 12);
        const game_mode = GAME_MODES[Math.floor(rand() * GAME_MODES.length)]!;
        model.submit(user, score, game_mode);
        // A user's submits go through one socket, so they commit in the order the model applies them.
        sent.push(sockets[user % 2]!.request('submit', { user_id: user, score, game_mode }));
      }
      await Promise.all(sent);
      for (const [score, game_mode] of [[900, 'lap'], [2000, 'lap'], [900, 'lap'], [0, 'worst'], [5000, 'worst'], [10, 'floor']] as const) {
        model.submit(77, score, game_mode);
        const reply = (await sockets[0]!.request('submit', { user_id: 77, score, game_mode })) as { total_score: number; rank: number };
        const global = model.listing('global').find((e) => e.user_id === 77)!;
        expect({ total: reply.total_score, rank: reply.rank }, 'the submit reply: global total and rank').toEqual({ total: global.total_score, rank: global.rank });
      }
      expect(model.listing('mode:lap')[0]).toMatchObject({ user_id: 77, total_score: 900, rank: 1 });
      await expectModel('index');
    });

    it('answer the same from PostgreSQL while no index is trusted, and from the rebuilt index', async () => {
      for (const board of boardsUnderTest()) await redis.del(boardKeys(stores.redisPrefix, board).epoch);
      const before = await app.metrics.registry.getSingleMetricAsString('leaderboard_index_reads_total');
      await expectModel('PostgreSQL');
      const after = await app.metrics.registry.getSingleMetricAsString('leaderboard_index_reads_total');
      const pg = (t: string) => Number(/source="postgres"\} (\d+)/.exec(t)?.[1] ?? 0);
      expect(pg(after), 'the reads came from PostgreSQL').toBeGreaterThan(pg(before));
      expect(await waitForIndex(redis as never, sql, stores.redisPrefix, 20_000)).toEqual([]);
      await expectModel('rebuilt index');
    });

    it('are stored as sort keys, and board_totals shows them as totals', async () => {
      const lap = model.listing('mode:lap');
      const rows = await sql<{ user_id: number; total_score: number }[]>`
        SELECT user_id, total_score FROM leaderboard WHERE board = 'mode:lap' ORDER BY total_score DESC, user_id LIMIT 3`;
      expect(rows.map((r) => [r.user_id, -r.total_score])).toEqual(lap.slice(0, 3).map((e) => [e.user_id, e.total_score]));
      const shown = await sql<{ user_id: number; total_score: number; sort_order: string }[]>`
        SELECT user_id, total_score, sort_order FROM board_totals WHERE board = ${`mode:lap:daily:${DAY}`} ORDER BY total_score, user_id LIMIT 3`;
      expect(shown.map((r) => [r.user_id, r.total_score, r.sort_order])).toEqual(lap.slice(0, 3).map((e) => [e.user_id, e.total_score, 'asc']));
    });
  });

  describe('boards', () => {
    it('lists each board with its definition, windows and players, over the socket and HTTP', async () => {
      const reply = await sockets[0]!.request('boards', {});
      expect(reply.boards).toEqual(['global', 'mode:floor', 'mode:golf', 'mode:lap', 'mode:plain', 'mode:worst']);
      const byBoard = Object.fromEntries(reply.definitions.map((d) => [d.board, d]));
      const windows = ['daily', 'weekly', 'monthly'];
      expect(byBoard['mode:lap']).toEqual({
        board: 'mode:lap',
        sort_order: 'asc',
        write_mode: 'best',
        display: { format: 'time_ms', unit: '', decimals: 0 },
        windows,
        players: model.listing('mode:lap').length,
      });
      expect(byBoard['mode:worst']).toMatchObject({ sort_order: 'asc', write_mode: 'max', display: { format: 'distance', unit: 'km', decimals: 2 } });
      expect(byBoard['global']).toMatchObject({ sort_order: 'desc', write_mode: 'sum', display: { format: 'points', unit: '', decimals: 0 } });
      expect(reply.definitions.map((d) => d.board)).toEqual(reply.boards);
      expect(await get('/api/leaderboard/boards')).toEqual(reply);
    });
  });

  describe('a spectator of an asc board', () => {
    it('sees a new best time climb to the top, in order', async () => {
      const spectator = await Spectator.follow(app.port, 'mode:lap', 5);
      try {
        expect(spectator.entries).toEqual(model.listing('mode:lap').slice(0, 5));
        const user = 901;
        for (const score of [5000, 100]) {
          model.submit(user, score, 'lap');
          await sockets[0]!.request('submit', { user_id: user, score, game_mode: 'lap' });
        }
        const want = model.listing('mode:lap').slice(0, 5);
        expect(want[0]).toMatchObject({ user_id: user, total_score: 100 });
        await eventually('the spectator sees the new best', () => JSON.stringify(spectator.entries) === JSON.stringify(want));
        expect(spectator.gaps).toEqual([]);
      } finally {
        spectator.close();
      }
    });
  });
});
