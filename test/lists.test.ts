/**
 * Friends and lists (v1 additions, protocol/extensions.md): `ranks` for a list of users and `page`,
 * keyset pagination through a whole board. Both against the reference model, from the Redis index
 * and from the PostgreSQL fallback, over the socket and the HTTP mirror; paging while concurrent
 * submits reshuffle the board keeps its stability promise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { REPLY_SCHEMAS, type PageCursor } from '../protocol/index.ts';
import { LeaderboardClient, type WebSocketCtor } from '../client/sdk/index.ts';
import type { Connection } from '../client/sdk/connection.ts';
import type { RunningApp } from '../server/app.ts';
import { http } from './support/http.ts';
import { Model } from './support/model.ts';
import { checkWalk, walk, type Fetch } from './support/paging.ts';
import { connectWs, startTestApp, token } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

const MODES = ['ranked', 'casual', 'duo'];
const CHURN = 'mode:churn';
/** Ids at the edges of the member encoding (16 zero-padded digits) sit among the small ones. */
const BIG_IDS = [2 ** 32, 10 ** 15, Number.MAX_SAFE_INTEGER];
const USERS = [...Array.from({ length: 90 }, (_, i) => i + 1), ...BIG_IDS];
/** Never submit: a friend list naming them gets them back in `missing`. */
const ABSENT = Array.from({ length: 20 }, (_, i) => 91 + i);
const CHURN_USERS = Array.from({ length: 150 }, (_, i) => 1001 + i);
/** The users that submit while a walk is under way; everyone else on the board stays put. */
const MOVERS = CHURN_USERS.filter((id) => id % 4 === 0);

let stores: FreshStores;
let app: RunningApp;
let ws: Connection;
/** A second socket for the submits that race a walk. */
let writer: Connection;
const model = new Model();
let sent = 0;

// A deterministic generator so a failure reproduces.
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}
const rand = rng(7);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const shuffled = <T>(xs: readonly T[]): T[] => xs.map((x) => [rand(), x] as const).sort((a, b) => a[0] - b[0]).map(([, x]) => x);

type Submit = { user_id: number; score: number; game_mode: string; username?: string; submission_id: string };

/** Submits at once (distinct users), then records them in the model: totals do not depend on commit order. */
async function submitAll(reqs: Submit[], via = ws): Promise<void> {
  await Promise.all(reqs.map((r) => via.request('submit', r)));
  for (const r of reqs) expect(model.submit(r).kind).toBe('ok');
}

const submitOf = (user_id: number, score: number, game_mode: string): Submit => ({ user_id, score, game_mode, submission_id: `s${sent++}` });

beforeAll(async () => {
  stores = await freshStores();
  app = await startTestApp(stores);
  [ws, writer] = await Promise.all([connectWs(app.port, token('server')), connectWs(app.port, token('server'))]);
  await submitAll([{ ...submitOf(1, 100, 'ranked'), username: 'ana' }, { ...submitOf(2, 100, 'casual'), username: 'bo ☃' }]);
  for (let round = 0; round < 24; round++) {
    // Few distinct scores: many ties on every board.
    await submitAll(shuffled(USERS).slice(0, 40).map((u) => submitOf(u, 100 * Math.floor(rand() * 5), pick(MODES))));
  }
  for (const chunk of [CHURN_USERS.slice(0, 75), CHURN_USERS.slice(75)]) {
    await submitAll(chunk.map((u) => submitOf(u, 100 * Math.floor(rand() * 11), 'churn')));
  }
}, 60_000);

afterAll(async () => {
  ws?.close();
  writer?.close();
  await app?.close();
  await stores?.cleanup();
});

const boardsToRead = () => [...model.boardIds(), 'mode:never_played'];

async function indexReads() {
  const text = await app.metrics.registry.getSingleMetricAsString('leaderboard_index_reads_total');
  return { redis: Number(/source="redis"} (\d+)/.exec(text)?.[1] ?? 0), postgres: Number(/source="postgres"} (\d+)/.exec(text)?.[1] ?? 0) };
}

/** Random friend lists: members and absent users mixed, sizes 1..100, the full 100 included. */
function friendLists(count: number): number[][] {
  const pool = [...USERS, ...ABSENT];
  const lists = [shuffled(pool).slice(0, 100), [Number.MAX_SAFE_INTEGER], [ABSENT[0]!]];
  while (lists.length < count) lists.push(shuffled(pool).slice(0, 1 + Math.floor(rand() * 40)));
  return lists;
}

const ranksQuery = (board: string, ids: readonly number[]) => `/api/leaderboard/ranks?user_ids=${ids.join(',')}&board=${encodeURIComponent(board)}`;
const pageQuery = (board: string, limit: number, after?: PageCursor) =>
  `/api/leaderboard/page?board=${encodeURIComponent(board)}&limit=${limit}` + (after ? `&after_total=${after.total_score}&after_user_id=${after.user_id}` : '');

const overWs: Fetch = async (board, limit, after) => REPLY_SCHEMAS.page.parse(await ws.request('page', after ? { board, limit, after } : { board, limit }));
const overHttp: Fetch = async (board, limit, after) => {
  const res = await http(app.port, 'GET', pageQuery(board, limit, after));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return REPLY_SCHEMAS.page.parse(res.body);
};

/** `ranks` for random lists on the boards equals the model; returns the requests made and the tied pairs met. */
async function ranksMatchModel(boards: readonly string[], viaHttpEvery: number): Promise<{ requests: number; ties: number }> {
  let ties = 0;
  let requests = 0;
  for (const board of boards) {
    for (const [i, ids] of friendLists(12).entries()) {
      const expected = model.ranks(board, ids);
      const got = REPLY_SCHEMAS.ranks.parse(await ws.request('ranks', { board, user_ids: ids }));
      requests++;
      expect(got, `${board} ranks ${ids.join(',')}`).toEqual(expected);
      ties += got.entries.filter((e, k) => k > 0 && got.entries[k - 1]!.rank === e.rank).length;
      if (i % viaHttpEvery === 0) {
        const res = await http(app.port, 'GET', ranksQuery(board, ids));
        requests++;
        expect(res.status).toBe(200);
        expect(res.body).toEqual(expected);
      }
    }
  }
  return { requests, ties };
}

/** Every entry of a `ranks` reply is what `rank` answers for that user. */
async function ranksAgreeWithRank(board: string): Promise<void> {
  const ids = shuffled(USERS).slice(0, 30);
  const got = REPLY_SCHEMAS.ranks.parse(await ws.request('ranks', { board, user_ids: ids }));
  for (const e of got.entries) {
    const one = await ws.request('rank', { board, user_id: e.user_id });
    expect(e, `${board} user ${e.user_id}`).toEqual({ rank: one.rank, user_id: one.user_id, username: one.username, total_score: one.total_score, games_played: one.games_played });
  }
}

/** Walks every board at several page sizes, over the socket and HTTP, and tries cursors that are no row. */
async function pagesMatchModel(boards: readonly string[]): Promise<void> {
  for (const board of boards) {
    const listing = model.listing(board);
    for (const limit of [1, 3, 7, 100]) {
      const pages = await walk(overWs, board, limit);
      expect(pages.flatMap((p) => p.entries), `${board} limit ${limit}`).toEqual(listing);
      expect(pages.length).toBe(Math.max(1, Math.ceil(listing.length / limit)));
      let after: PageCursor | undefined;
      for (const p of pages) {
        expect(p).toEqual(model.page(board, limit, after));
        after = p.next ?? undefined;
      }
    }
    expect((await walk(overHttp, board, 9)).flatMap((p) => p.entries)).toEqual(listing);
    // Cursors between rows, inside tie groups, past the ends: the position counts, not the row.
    const totals = [...new Set(listing.map((e) => e.total_score))];
    const cursors: PageCursor[] = [
      { total_score: Number.MAX_SAFE_INTEGER, user_id: 1 },
      { total_score: 0, user_id: Number.MAX_SAFE_INTEGER },
      ...Array.from({ length: 10 }, () => ({ total_score: rand() < 0.7 && totals.length > 0 ? pick(totals) : Math.floor(rand() * 4000), user_id: pick([...USERS, ...ABSENT, 50_000]) })),
    ];
    for (const after of cursors) {
      const limit = pick([1, 5, 100]);
      expect(await overWs(board, limit, after), `${board} after ${JSON.stringify(after)}`).toEqual(model.page(board, limit, after));
    }
  }
}

/**
 * Walks CHURN 7 rows a page while users score: between pages, a burst that always moves the user
 * the cursor names (so that a cursor following its user would go wrong) and a few MOVERS; and a
 * stream of MOVERS' submits racing every page. The promise, checked by checkWalk: a user whose total did not change
 * during the walk is listed exactly once, with a rank between its ranks before and after the walk.
 */
async function walkWhileReshuffling(fetch: Fetch): Promise<void> {
  const before = model.listing(CHURN);
  let racing = true;
  let raced = 0;
  let cursorMoves = 0;
  const stream = (async () => {
    while (racing) {
      await submitAll(shuffled(MOVERS).slice(0, 3).map((u) => submitOf(u, 50 * Math.floor(rand() * 60), 'churn')), writer);
      raced += 3;
    }
  })();
  let pages;
  try {
    pages = await walk(fetch, CHURN, 7, (page) => {
      const cursorUser = page.next!.user_id;
      const burst = [cursorUser, ...shuffled(MOVERS.filter((u) => u !== cursorUser)).slice(0, 3)];
      cursorMoves++;
      return submitAll(burst.map((u) => submitOf(u, 50 + 50 * Math.floor(rand() * 60), 'churn')));
    });
  } finally {
    racing = false;
    await stream;
  }
  const after = model.listing(CHURN);
  expect(raced).toBeGreaterThan(0);
  expect(cursorMoves).toBe(pages.length - 1);
  expect(after.map((e) => e.user_id)).not.toEqual(before.map((e) => e.user_id)); // the board did reshuffle
  checkWalk(pages, before, after, 7);
  // Once quiet, a walk is the listing again.
  expect((await walk(fetch, CHURN, 7)).flatMap((p) => p.entries)).toEqual(after);
}

describe('from the Redis index', () => {
  it('ranks: random friend lists on every board equal the model, ties and missing users included', async () => {
    const before = await indexReads();
    const { requests, ties } = await ranksMatchModel(model.boardIds(), 3);
    expect(ties, 'the lists met tied users').toBeGreaterThan(5);
    const after = await indexReads();
    expect(after.postgres - before.postgres).toBe(0);
    expect(after.redis - before.redis).toBe(requests);
    // A board nobody scored on has no index: it is empty, answered from PostgreSQL.
    await ranksMatchModel(['mode:never_played'], 3);
    for (const board of model.boardIds()) await ranksAgreeWithRank(board);
  }, 30_000);

  it('page: walking every board gives the model\'s listing, page by page, at any cursor', async () => {
    const before = await indexReads();
    await pagesMatchModel(model.boardIds());
    expect((await indexReads()).postgres - before.postgres).toBe(0);
    await pagesMatchModel(['mode:never_played']);
  }, 30_000);

  it('page: concurrent submits reshuffling the board skip or repeat no user that stayed put', async () => {
    await walkWhileReshuffling(overWs);
  }, 30_000);

  it('the SDK client lists boards, reads a friends list and walks a board', async () => {
    const client = new LeaderboardClient(`ws://127.0.0.1:${app.port}/ws`, { WebSocket: WebSocket as unknown as WebSocketCtor, reconnect: false });
    try {
      await client.ready();
      expect((await client.boards()).boards).toEqual(['global', ...[...MODES, 'churn'].map((m) => `mode:${m}`).sort()]);
      const ids = [ABSENT[0]!, 2, 1, Number.MAX_SAFE_INTEGER];
      expect(await client.ranks({ user_ids: ids })).toEqual(model.ranks('global', ids));
      const listed = [];
      let after: PageCursor | undefined;
      do {
        const reply = await client.page({ board: 'mode:ranked', limit: 25, after });
        listed.push(...reply.entries);
        after = reply.next ?? undefined;
      } while (after);
      expect(listed).toEqual(model.listing('mode:ranked'));
    } finally {
      client.close();
    }
  });

  it('bad ranks and page requests are bad_request over both transports and change nothing', async () => {
    const [sessions] = await app.sql<{ n: number }[]>`SELECT count(*)::bigint AS n FROM game_sessions`;
    const bad: [string, Record<string, unknown>][] = [
      ['ranks', { user_ids: [] }],
      ['ranks', { user_ids: Array.from({ length: 101 }, (_, i) => i + 1) }],
      ['ranks', { user_ids: [1, 2, 1] }],
      ['ranks', { user_ids: [0] }],
      ['ranks', { user_ids: [-3] }],
      ['ranks', { user_ids: [1.5] }],
      ['ranks', { user_ids: ['1'] }],
      ['ranks', { user_ids: [2 ** 53] }],
      ['ranks', { user_ids: 5 }],
      ['ranks', {}],
      ['ranks', { user_ids: [1], board: 'mode:NOPE' }],
      ['page', { limit: 0 }],
      ['page', { limit: 101 }],
      ['page', { after: { total_score: 5 } }],
      ['page', { after: { total_score: -1, user_id: 1 } }],
      ['page', { after: { total_score: 5, user_id: 0 } }],
      ['page', { after: [5, 1] }],
      ['page', { board: 'mode:' }],
    ];
    for (const [op, fields] of bad) {
      await expect(ws.request(op as 'ranks', fields as never), `${op} ${JSON.stringify(fields)}`).rejects.toMatchObject({ code: 'bad_request' });
    }
    const badHttp = [
      '/api/leaderboard/ranks',
      '/api/leaderboard/ranks?user_ids=',
      '/api/leaderboard/ranks?user_ids=1,2,1',
      '/api/leaderboard/ranks?user_ids=1,,2',
      '/api/leaderboard/ranks?user_ids=0',
      '/api/leaderboard/ranks?user_ids=abc',
      `/api/leaderboard/ranks?user_ids=${Array.from({ length: 101 }, (_, i) => i + 1).join(',')}`,
      '/api/leaderboard/page?limit=0',
      '/api/leaderboard/page?after_total=100',
      '/api/leaderboard/page?after_user_id=3',
      '/api/leaderboard/page?after_total=-1&after_user_id=3',
      '/api/leaderboard/page?after_total=100&after_user_id=x',
    ];
    for (const path of badHttp) {
      const res = await http(app.port, 'GET', path);
      expect(res.status, path).toBe(400);
      expect(res.body.error.code, path).toBe('bad_request');
    }
    const [after] = await app.sql<{ n: number }[]>`SELECT count(*)::bigint AS n FROM game_sessions`;
    expect(after!.n).toBe(sessions!.n);
    for (const board of boardsToRead()) expect(await ws.request('top', { board, limit: 100 })).toEqual({ board, entries: model.top(board, 100) });
  }, 30_000);
});

describe('metrics', () => {
  it('the per-op metrics count ranks and page on both transports, and their store calls', async () => {
    const requests = await app.metrics.registry.getSingleMetricAsString('leaderboard_requests_total');
    const latency = await app.metrics.registry.getSingleMetricAsString('leaderboard_request_duration_seconds');
    const store = await app.metrics.registry.getSingleMetricAsString('leaderboard_store_call_duration_seconds');
    for (const op of ['ranks', 'page']) {
      for (const transport of ['ws', 'http']) {
        expect(requests).toMatch(new RegExp(`\\{op="${op}",transport="${transport}",outcome="ok"\\} [1-9]`));
        expect(latency).toMatch(new RegExp(`_count\\{op="${op}",transport="${transport}"\\} [1-9]`));
      }
      expect(requests).toMatch(new RegExp(`\\{op="${op}",transport="http",outcome="bad_request"\\} [1-9]`));
      expect(store).toMatch(new RegExp(`_count\\{store="redis",call="${op}"\\} [1-9]`));
    }
  });
});

describe('from PostgreSQL, while the index is not trusted', () => {
  beforeAll(async () => {
    // Nothing may rebuild the index under these tests: without the maintainer, a board whose epoch
    // is gone stays untrusted, and every read of it is answered from PostgreSQL.
    await app.maintainer.stop();
    await Promise.all(model.boardIds().map((b) => app.redis.del(app.index.keys(b).epoch)));
  });

  it('ranks: random friend lists on every board equal the model and agree with rank', async () => {
    const before = await indexReads();
    const { requests } = await ranksMatchModel(boardsToRead(), 4);
    for (const board of model.boardIds()) await ranksAgreeWithRank(board);
    const after = await indexReads();
    expect(after.redis - before.redis).toBe(0);
    expect(after.postgres - before.postgres).toBeGreaterThanOrEqual(requests);
    expect(await app.metrics.registry.getSingleMetricAsString('leaderboard_store_call_duration_seconds')).toMatch(/_count\{store="postgres",call="ranks"\} [1-9]/);
  }, 30_000);

  it('page: walks and cursors equal the model', async () => {
    const before = await indexReads();
    await pagesMatchModel(boardsToRead());
    expect((await indexReads()).redis - before.redis).toBe(0);
  }, 30_000);

  it('page: concurrent submits reshuffling the board skip or repeat no user that stayed put', async () => {
    const before = await indexReads();
    await walkWhileReshuffling(overHttp);
    expect((await indexReads()).redis - before.redis).toBe(0);
  }, 30_000);
});
