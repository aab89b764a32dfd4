/**
 * Two server processes sharing one fresh database and key prefix, driven through several sockets
 * each with every request in flight at once: one user's submits serialise exactly, a repeated
 * submission_id counts once, first submits racing for a username resolve as the contract says,
 * and the rank index converges on PostgreSQL however its updates interleave.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../client/sdk/connection.ts';
import type { SubmitReply } from '../protocol/index.ts';
import { ensureDatabase, type Sql } from '../server/store/db.ts';
import { Fleet, UNLIMITED } from './support/fleet.ts';
import { indexDiff, openSql, rankReplyOf, truth, waitForIndex } from './support/index-state.ts';
import { storeEnv, token, type ChildServer } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

const SOCKETS_PER_INSTANCE = 4;
const serverToken = token('server');
const fleet = new Fleet();
let stores: FreshStores;
let sql: Sql;
let redis: Redis;
let servers: ChildServer[];
/** Sockets of both instances, interleaved: request i goes to conns[i % conns.length]. */
let conns: Connection[];
/** One socket per instance, for reads. */
let readers: Connection[];

type Settled = { ok: true; reply: SubmitReply } | { ok: false; code: string };
const settle = (p: Promise<SubmitReply>): Promise<Settled> =>
  p.then(
    (reply) => ({ ok: true as const, reply }),
    (err: { code?: string }) => ({ ok: false as const, code: err.code ?? String(err) }),
  );

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

beforeAll(async () => {
  stores = await freshStores();
  // One after the other: starting together on a fresh database is its own test below.
  servers = [await fleet.spawn(storeEnv(stores, UNLIMITED)), await fleet.spawn(storeEnv(stores, UNLIMITED))];
  const [sa, sb] = await Promise.all(servers.map((s) => fleet.connect(s, SOCKETS_PER_INSTANCE, serverToken)));
  conns = range(SOCKETS_PER_INSTANCE).flatMap((i) => [sa![i]!, sb![i]!]);
  readers = [sa![0]!, sb![0]!];
  sql = openSql(stores.databaseUrl);
  redis = new Redis(stores.redisUrl);
});

afterAll(async () => {
  await fleet.cleanup();
  await sql?.end({ timeout: 5 });
  redis?.disconnect();
  await stores?.cleanup();
});

describe('one user, many instances, everything in flight at once', () => {
  it('520 concurrent submits of one user over two instances commit one by one, each once', async () => {
    const N = 520;
    const user = 1;
    const modes = ['ranked', 'casual', 'blitz'];
    const scores = range(N).map(() => 1 + Math.floor(Math.random() * 1_000_000_000));
    const replies = await Promise.all(
      scores.map((score, i) =>
        conns[i % conns.length]!.request('submit', { user_id: user, score, game_mode: modes[i % 3]!, submission_id: `burst-${i}` }),
      ),
    );
    const sum = scores.reduce((a, b) => a + b, 0);
    expect(replies.filter((r) => r.duplicate)).toEqual([]);
    expect(Math.max(...replies.map((r) => r.games_played))).toBe(N);
    expect(new Set(replies.map((r) => r.games_played)).size).toBe(N);
    expect(new Set(replies.map((r) => r.total_score)).size).toBe(N); // each commit saw its own state
    expect(replies.find((r) => r.games_played === N)!.total_score).toBe(sum);

    // Each reply is the state right after its own commit: its games_played is its session's place
    // in commit order and its total the sum of the scores committed up to it.
    const sessions = await sql<{ score: number; submission_id: string }[]>`
      SELECT score, submission_id FROM game_sessions WHERE user_id = ${user} ORDER BY id`;
    expect(sessions).toHaveLength(N);
    let running = 0;
    const prefix = sessions.map((s) => (running += s.score));
    replies.forEach((r, i) => {
      expect(sessions[r.games_played - 1]!.submission_id, `reply of burst-${i}`).toBe(`burst-${i}`);
      expect(r.total_score, `reply of burst-${i}`).toBe(prefix[r.games_played - 1]);
    });

    const [row] = await sql<{ total_score: number; games_played: number }[]>`
      SELECT total_score, games_played FROM leaderboard WHERE board = 'global' AND user_id = ${user}`;
    expect(row).toEqual({ total_score: sum, games_played: N });
    for (const r of readers) {
      expect(await r.request('rank', { user_id: user })).toMatchObject({ user_id: user, total_score: sum, games_played: N, rank: 1 });
    }
    const member = String(user).padStart(16, '0');
    const zkey = `${stores.redisPrefix}:{global}:z`;
    const hkey = `${stores.redisPrefix}:{global}:h`;
    const nkey = `${stores.redisPrefix}:{names}`;
    let last: [string | null, string | null, string | null] = [null, null, null];
    const deadline = Date.now() + 10_000;
    do {
      last = await Promise.all([redis.zscore(zkey, member), redis.hget(hkey, member), redis.hget(nkey, member)]);
      if (last[0] !== null && Number(last[0]) === -sum && last[1] === String(N) && last[2]?.startsWith(`${N}:`)) break;
      await new Promise((r) => setTimeout(r, 100));
    } while (Date.now() < deadline);
    expect(Number(last[0])).toBe(-sum);
    expect(last[1]).toBe(String(N));
    expect(last[2]).toBe(`${N}:player${user}`);
  });

  it('one submission_id sent 50 times at once over both instances counts once, and duplicates rename nobody', async () => {
    const user = 2;
    await conns[0]!.request('submit', { user_id: user, score: 5, game_mode: 'idem', username: 'idem-original', submission_id: 'first' });
    // Every copy asks for its own new name: only the one that commits may rename.
    const replies = await Promise.all(
      range(50).map((i) =>
        conns[i % conns.length]!.request('submit', {
          user_id: user,
          score: 1234,
          game_mode: 'idem',
          username: `idem-racer-${i}`,
          submission_id: 'same-sid',
        }),
      ),
    );
    const winners = range(50).filter((i) => !replies[i]!.duplicate);
    expect(winners).toHaveLength(1);
    for (const r of replies) expect({ ...r, duplicate: false }).toEqual(replies[winners[0]!]);
    expect(replies[0]).toMatchObject({ user_id: user, total_score: 1239, games_played: 2 });
    const [count] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM game_sessions WHERE user_id = ${user} AND submission_id = 'same-sid'`;
    expect(count!.n).toBe(1);
    const winnerName = `idem-racer-${winners[0]}`;
    const [u] = await sql<{ username: string }[]>`SELECT username FROM users WHERE user_id = ${user}`;
    expect(u!.username).toBe(winnerName);

    // A duplicate later, with a free new name and a new mode: nothing changes.
    const dup = await conns[1]!.request('submit', { user_id: user, score: 999, game_mode: 'other', username: 'idem-renamed', submission_id: 'same-sid' });
    expect(dup).toMatchObject({ user_id: user, total_score: 1239, games_played: 2, duplicate: true });
    const [after] = await sql<{ username: string }[]>`SELECT username FROM users WHERE user_id = ${user}`;
    expect(after!.username).toBe(winnerName);
    expect(await sql`SELECT 1 FROM boards WHERE board = 'mode:other'`).toHaveLength(0);
    for (const r of readers) {
      expect(await r.request('rank', { user_id: user })).toMatchObject({ username: winnerName, total_score: 1239, games_played: 2 });
      await expect(r.request('rank', { username: 'idem-renamed' })).rejects.toMatchObject({ code: 'not_found' });
    }
  });
});

describe('first submits racing for a username', () => {
  it('two first submits of one new user with the same username never yield conflict', async () => {
    const pairs = 25;
    const results = await Promise.all(
      range(pairs).flatMap((i) =>
        [0, 1].map((side) =>
          settle(
            conns[(2 * i + side) % conns.length]!.request('submit', {
              user_id: 1000 + i,
              score: 10 + side,
              game_mode: 'race',
              username: `twin-${i}`,
              submission_id: `twin-${i}-${side}`,
            }),
          ),
        ),
      ),
    );
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const rows = await sql<{ user_id: number; username: string; games_played: number; total_score: number }[]>`
      SELECT u.user_id, u.username, l.games_played, l.total_score FROM users u JOIN leaderboard l ON l.user_id = u.user_id AND l.board = 'global'
      WHERE u.user_id BETWEEN 1000 AND ${999 + pairs} ORDER BY u.user_id`;
    expect(rows).toEqual(range(pairs).map((i) => ({ user_id: 1000 + i, username: `twin-${i}`, games_played: 2, total_score: 21 })));
  });

  it('two new users racing for one free username: exactly one gets it, the other gets conflict and leaves no row', async () => {
    const pairs = 25;
    const results = await Promise.all(
      range(pairs).flatMap((i) =>
        [0, 1].map((side) =>
          settle(
            conns[(2 * i + side) % conns.length]!.request('submit', {
              user_id: 2000 + 2 * i + side,
              score: 7,
              game_mode: 'race',
              username: `contested-${i}`,
              submission_id: 'only',
            }),
          ),
        ),
      ),
    );
    for (const i of range(pairs)) {
      const pair = [results[2 * i]!, results[2 * i + 1]!];
      expect(pair.filter((r) => r.ok), `pair ${i}`).toHaveLength(1);
      expect(pair.filter((r) => !r.ok).map((r) => (r as { code: string }).code), `pair ${i}`).toEqual(['conflict']);
      const winner = 2000 + 2 * i + (pair[0]!.ok ? 0 : 1);
      const loser = winner % 2 === 0 ? winner + 1 : winner - 1;
      expect(await sql`SELECT username FROM users WHERE user_id = ${winner}`).toEqual([{ username: `contested-${i}` }]);
      expect(await sql`SELECT 1 FROM users WHERE user_id = ${loser}`).toHaveLength(0);
      expect(await sql`SELECT 1 FROM game_sessions WHERE user_id = ${loser}`).toHaveLength(0);
      expect(await sql`SELECT 1 FROM leaderboard WHERE user_id = ${loser}`).toHaveLength(0);
    }
  });
});

describe('the rank index under concurrent writers', () => {
  it('out-of-order index updates from two instances converge on PostgreSQL, names included', async () => {
    const users = [3000, 3001, 3002, 3003, 3004];
    const modes = ['alpha', 'beta', 'gamma'];
    const results = await Promise.all(
      range(400).map((i) => {
        const user = users[i % users.length]!;
        const rename = Math.random() < 0.1 ? { username: `conv-${user}-${i}` } : {};
        return settle(
          conns[i % conns.length]!.request('submit', {
            user_id: user,
            score: Math.floor(Math.random() * 1000),
            game_mode: modes[Math.floor(Math.random() * modes.length)]!,
            submission_id: `conv-${i}`,
            ...rename,
          }),
        );
      }),
    );
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(await waitForIndex(redis, sql, stores.redisPrefix)).toEqual([]);

    // Both instances answer every user on every board exactly as PostgreSQL says.
    for (const [board, rows] of await truth(sql)) {
      for (const row of rows) {
        const expected = rankReplyOf(board, rows, row.user_id);
        for (const r of readers) expect(await r.request('rank', { board, user_id: row.user_id })).toEqual(expected);
      }
    }
    expect(await indexDiff(redis, sql, stores.redisPrefix)).toEqual([]);
  });
});

describe('start-up', () => {
  it('creating the database is safe when instances find it missing at the same moment', async () => {
    const fresh = await freshStores();
    try {
      const created = await Promise.allSettled([0, 1, 2].map(() => ensureDatabase(fresh.databaseUrl, 5)));
      expect(created.filter((c) => c.status === 'rejected').map((c) => String((c as PromiseRejectedResult).reason))).toEqual([]);
      expect(created.filter((c) => c.status === 'fulfilled' && c.value === true)).toHaveLength(1);
    } finally {
      await fresh.cleanup();
    }
  });

  it('three instances starting together on a fresh database all start', async () => {
    const fresh = await freshStores();
    // The race is in creating the database: every instance may find it missing and CREATE it.
    const started = await Promise.allSettled(range(3).map(() => fleet.spawn(storeEnv(fresh, UNLIMITED))));
    try {
      const failures = started.filter((s) => s.status === 'rejected').map((s) => String((s as PromiseRejectedResult).reason).slice(0, 600));
      expect(failures).toEqual([]);
      const check = openSql(fresh.databaseUrl);
      try {
        expect(await check`SELECT board FROM boards`).toEqual([{ board: 'global' }]);
      } finally {
        await check.end({ timeout: 5 });
      }
    } finally {
      for (const s of started) if (s.status === 'fulfilled') fleet.signal(s.value, 'SIGTERM');
      await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.exited : undefined)));
      await fresh.cleanup();
    }
  });
});
