/**
 * A submit's rank while the rank index cannot give it (Redis stopped): PostgreSQL counts at most
 * SUBMIT_RANK_COUNT_CAP players ahead, so the rank is exact near the top and a flagged lower bound
 * below it; no submit costs work that grows with the number of players.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBMIT_RANK_COUNT_CAP, submitReply } from '../protocol/index.ts';
import type { RunningApp } from '../server/app.ts';
import { http } from './support/http.ts';
import { PrivateRedis, stopAllRedis } from './support/redis-server.ts';
import { startTestApp, token } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

let stores: FreshStores;
let redis: PrivateRedis;
let app: RunningApp;
const auth = token('server');
const submit = (user_id: number, score: number, submission_id: string) =>
  http(app.port, 'POST', '/api/leaderboard/submit', { token: auth, body: { user_id, score, game_mode: 'r', submission_id } });

beforeAll(async () => {
  redis = await PrivateRedis.start();
  stores = await freshStores(redis.url);
  app = await startTestApp(stores, { REDIS_COMMAND_TIMEOUT_MS: '200' });
  // 150 players with totals 1000..1149 (user 1 highest).
  for (let i = 0; i < 150; i++) expect((await submit(1 + i, 1149 - i, `seed-${i}`)).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await app?.close();
  await stores?.cleanup();
  await stopAllRedis();
});

describe('with the rank index away', () => {
  it('gives exact ranks near the top and a flagged lower bound further down', async () => {
    const before = await submit(500, 1, 'before');
    expect(before.body).toMatchObject({ rank: 151 });
    expect(before.body.rank_exact).toBeUndefined();

    await redis.stop();
    const high = await submit(501, 1125, 'high'); // 25 players ahead of it (1126..1149 and ties above)
    expect(high.status).toBe(200);
    expect(submitReply.safeParse(high.body).success).toBe(true);
    expect(high.body).toMatchObject({ total_score: 1125, rank: 25 });
    expect(high.body.rank_exact).toBeUndefined();

    const low = await submit(502, 3, 'low'); // 151 players ahead: past the cap
    expect(low.status).toBe(200);
    expect(submitReply.safeParse(low.body).success).toBe(true);
    expect(low.body).toMatchObject({ total_score: 3, rank: SUBMIT_RANK_COUNT_CAP + 1, rank_exact: false });

    // A duplicate is answered the same way.
    const again = await submit(502, 3, 'low');
    expect(again.body).toMatchObject({ duplicate: true, rank: SUBMIT_RANK_COUNT_CAP + 1, rank_exact: false });
    await redis.restart();
  }, 30_000);
});
