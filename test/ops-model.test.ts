/**
 * Every request op over both transports, against the reference model: random submissions with many
 * ties, several boards, renames and repeated submission ids; then every read on every board. All of
 * it twice: on a single Redis, and on a real 3-master Redis Cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GLOBAL_BOARD, REPLY_SCHEMAS, httpTopReply } from '../protocol/index.ts';
import type { RunningApp } from '../server/app.ts';
import type { Connection } from '../client/sdk/connection.ts';
import { Model } from './support/model.ts';
import { http } from './support/http.ts';
import { connectWs, startTestApp, token } from './support/servers.ts';
import { RedisCluster } from './support/redis-cluster.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

const serverToken = token('server');
const MODES = ['ranked', 'casual', 'blitz_2v2'];

// A deterministic generator so a failure reproduces.
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

// The same checks on a single Redis and on a 3-master Redis Cluster started on loopback ports.
describe.each([
  ['a single Redis', false],
  ['a Redis Cluster', true],
] as const)('on %s', (_label, clustered) => {
  let stores: FreshStores;
  let app: RunningApp;
  let ws: Connection;
  let cluster: RedisCluster | undefined;
  let model: Model;

  beforeAll(async () => {
    if (clustered) cluster = await RedisCluster.start(3);
    model = new Model();
    stores = await freshStores();
    // No periodic re-reads of the live views: each is an index read, and one landing in the
    // counted pass of the index-read test would count as a read no request made.
    const env = { LIVE_REFRESH_MS: '600000' };
    app = await startTestApp(stores, cluster ? { ...env, REDIS_CLUSTER_NODES: cluster.seeds } : env);
    ws = await connectWs(app.port, serverToken);
  }, 60_000);

  afterAll(async () => {
    ws?.close();
    await app?.close();
    await cluster?.deleteKeys(stores.redisPrefix);
    await stores?.cleanup();
    await cluster?.stop();
  });

  describe('random submissions over both transports match the model', () => {
    it('submits', async () => {
      const rand = rng(42);
      const names = ['alice', 'bob', 'çarla', '李雷', 'dave ☃', 'eve'];
      for (let i = 0; i < 400; i++) {
        const user_id = 1 + Math.floor(rand() * 60);
        const req: { user_id: number; score: number; game_mode: string; username?: string; submission_id?: string } = {
          user_id,
          score: Math.floor(rand() * 6) * 100, // few distinct values: many ties
          game_mode: MODES[Math.floor(rand() * MODES.length)]!,
        };
        if (rand() < 0.15) req.username = names[Math.floor(rand() * names.length)];
        if (rand() < 0.5) req.submission_id = `s${Math.floor(rand() * 8)}`;
        const expected = model.submit(req);
        const viaWs = i % 2 === 0;
        if (viaWs) {
          const got = await ws.request('submit', req).then(
            (r) => ({ kind: 'ok' as const, reply: REPLY_SCHEMAS.submit.parse(r) }),
            (e: { code: string }) => ({ kind: e.code }),
          );
          expect(got, `submit #${i} ${JSON.stringify(req)}`).toEqual(expected);
        } else {
          const res = await http(app.port, 'POST', '/api/leaderboard/submit', { body: req, token: serverToken });
          if (expected.kind === 'conflict') {
            expect(res.status, `submit #${i}`).toBe(409);
            expect(res.body.error.code).toBe('conflict');
          } else {
            expect(res.status, `submit #${i} ${JSON.stringify(res.body)}`).toBe(200);
            expect(res.body).toEqual({ success: true, ...expected.reply });
          }
        }
      }
    });

    it('answers top, rank, around and history exactly like the model on every board', async () => {
      const boards = [...model.boardIds(), 'mode:never_played'];
      expect(boards.length).toBe(MODES.length + 2);
      for (const board of boards) {
        for (const limit of [1, 3, 10, 100]) {
          const expected = model.top(board, limit);
          const w = REPLY_SCHEMAS.top.parse(await ws.request('top', { board, limit }));
          expect(w).toEqual({ board, entries: expected });
          const h = await http(app.port, 'GET', `/api/leaderboard/top?board=${encodeURIComponent(board)}&limit=${limit}`);
          expect(h.status).toBe(200);
          expect(httpTopReply.parse(h.body)).toEqual({ board, top_players: expected });
        }
        for (const userId of [1, 2, 7, 30, 59, 60, 61]) {
          const expected = model.rank(board, userId);
          const w = await ws.request('rank', { board, user_id: userId }).catch((e: { code: string }) => e.code);
          const h = await http(app.port, 'GET', `/api/leaderboard/rank/${userId}?board=${encodeURIComponent(board)}`);
          if (!expected) {
            expect(w).toBe('not_found');
            expect(h.status).toBe(404);
            continue;
          }
          expect(REPLY_SCHEMAS.rank.parse(w)).toEqual(expected);
          expect(h.body).toEqual(expected);
          for (const radius of [0, 1, 5]) {
            const around = model.around(board, userId, radius)!;
            expect(await ws.request('around', { board, user_id: userId, radius })).toEqual({ board, entries: around });
            const ha = await http(app.port, 'GET', `/api/leaderboard/around/${userId}?board=${encodeURIComponent(board)}&radius=${radius}`);
            expect(ha.body).toEqual({ board, entries: around });
          }
        }
      }
    });

    it('rank by username finds the user', async () => {
      const [id, name] = [...model.names.entries()].find(([, n]) => !n.startsWith('player'))!;
      const reply = await ws.request('rank', { username: name });
      expect(reply).toEqual(model.rank(GLOBAL_BOARD, id));
      await expect(ws.request('rank', { username: 'nobody-has-this' })).rejects.toMatchObject({ code: 'not_found' });
    });

    it('history lists sessions newest first with paging', async () => {
      for (const userId of [1, 7, 30]) {
        const expected = model.history(userId, 5, 2);
        if (!expected) continue;
        const w = REPLY_SCHEMAS.history.parse(await ws.request('history', { user_id: userId, limit: 5, offset: 2 }));
        expect(w.total_sessions).toBe(expected.total_sessions);
        expect(w.sessions.map((s) => ({ score: s.score, game_mode: s.game_mode }))).toEqual(expected.sessions);
        const ids = w.sessions.map((s) => s.id);
        expect([...ids].sort((a, b) => b - a)).toEqual(ids);
        const stamps = w.sessions.map((s) => s.timestamp);
        expect([...stamps].sort((a, b) => b - a)).toEqual(stamps);
        const h = await http(app.port, 'GET', `/api/users/${userId}/history?limit=5&offset=2`);
        expect(h.body).toEqual(w);
      }
      await expect(ws.request('history', { user_id: 999_999 })).rejects.toMatchObject({ code: 'not_found' });
    });

    it('boards lists global first, then every mode scored in (a v1 addition)', async () => {
      const boards = ['global', ...MODES.map((m) => `mode:${m}`).sort()];
      const reply = REPLY_SCHEMAS.boards.parse(await ws.request('boards', {}));
      expect(reply.boards).toEqual(boards);
      // Unconfigured boards: v1's kind, each with its windows and (the index serving it) its size.
      const kind = { sort_order: 'desc', write_mode: 'sum', display: { format: 'points', unit: '', decimals: 0 }, windows: ['daily', 'weekly', 'monthly'] };
      expect(reply.definitions).toEqual(boards.map((board) => ({ board, ...kind, players: reply.definitions.find((d) => d.board === board)!.players })));
      for (const d of reply.definitions) if (d.players !== undefined) expect(d.players, d.board).toBe(model.boards.get(d.board)?.size ?? 0);
      const h = await http(app.port, 'GET', '/api/leaderboard/boards');
      expect(h.status).toBe(200);
      expect(h.body).toEqual(reply);
    });

    it('ping answers pong with the server time', async () => {
      const before = Date.now();
      const reply = await ws.request('ping', {});
      expect(reply.time).toBeGreaterThanOrEqual(before - 1000);
      expect(reply.time).toBeLessThanOrEqual(Date.now() + 1000);
    });

    it('serves boards that exist from Redis, not the PostgreSQL fallback, when Redis is healthy', async () => {
      const reads = async () => {
        const text = await app.metrics.registry.getSingleMetricAsString('leaderboard_index_reads_total');
        return {
          // `memory`: top from the live view, itself read from the index (TOP_CACHE).
          redis: Number(/source="redis"} (\d+)/.exec(text)?.[1] ?? 0) + Number(/source="memory"} (\d+)/.exec(text)?.[1] ?? 0),
          postgres: Number(/source="postgres"} (\d+)/.exec(text)?.[1] ?? 0),
        };
      };
      const pass = async () => {
        for (const board of model.boardIds()) {
          await ws.request('top', { board });
          await ws.request('rank', { board, user_id: model.top(board, 1)[0]!.user_id });
        }
      };
      // A first pass gives every board its live view (a `top` read starts one, which reads the
      // index once more); views nobody reads for a while are dropped, so whether earlier tests'
      // are still there depends on timing. The second pass is counted.
      await pass();
      await new Promise((r) => setTimeout(r, 300));
      const before = await reads();
      await pass();
      const after = await reads();
      expect(after.redis - before.redis).toBe(2 * model.boardIds().length);
      expect(after.postgres - before.postgres).toBe(0);
    });
  });
});
