/**
 * RankIndex against the real Redis, without PostgreSQL: it reads an index written by hand in the
 * layout keys.ts describes (so one written by an earlier version of the server), and it announces
 * a board's new generation, and applied changes, with the notices the channel parser reads.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseChangeNotices, type ChangeNotice } from '../server/rank-index/keys.ts';
import { RankIndex, UNTRUSTED } from '../server/rank-index/rank-index.ts';
import { REDIS_URL, deleteKeys } from './support/stores.ts';

const prefix = `lbt_${randomBytes(5).toString('hex')}`;
let redis: Redis;
let index: RankIndex;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
  index = new RankIndex(redis, prefix);
});

afterAll(async () => {
  redis?.disconnect();
  await deleteKeys(REDIS_URL, prefix);
});

const member = (userId: number) => String(userId).padStart(16, '0');

describe('an index as stored', () => {
  beforeAll(async () => {
    const board = `${prefix}:{global}:`;
    await redis.set(board + 'epoch', 'g1');
    await redis.zadd(board + 'z', -300, member(1), -200, member(2), -200, member(3));
    await redis.hset(board + 'h', member(1), 4, member(2), 3, member(3), 2);
    await redis.hset(`${prefix}:{names}`, member(1), '9:alice', member(2), '3:bo:b', member(3), '2:cy');
    // A board recorded empty ('~'), and one whose sorted set is gone under its epoch (evicted).
    await redis.set(`${prefix}:{mode:empty}:epoch`, 'g2~');
    await redis.set(`${prefix}:{mode:lost}:epoch`, 'g3');
    await redis.hset(`${prefix}:{mode:lost}:h`, member(1), 1);
  });

  const alice = { rank: 1, user_id: 1, username: 'alice', total_score: 300, games_played: 4 };
  const bob = { rank: 2, user_id: 2, username: 'bo:b', total_score: 200, games_played: 3 };
  const cy = { rank: 2, user_id: 3, username: 'cy', total_score: 200, games_played: 2 };

  it('answers top, around, rank, ranks and page from it', async () => {
    expect(await index.trusted('global')).toBe(true);
    expect(await index.top('global', 10)).toEqual({ epoch: 'g1', entries: [alice, bob, cy] });
    expect(await index.top('global', 1)).toEqual({ epoch: 'g1', entries: [alice] });
    expect(await index.around('global', 3, 1)).toEqual([bob, cy]);
    expect(await index.around('global', 99, 1)).toBeUndefined();
    expect(await index.rank('global', 2)).toEqual({ entry: bob, totalPlayers: 3 });
    expect(await index.rank('global', 99)).toBeUndefined();
    expect(await index.ranks('global', [3, 99, 1])).toEqual([alice, cy]);
    expect(await index.page('global', undefined, 2)).toEqual([alice, bob]);
    expect(await index.page('global', { total_score: 200, user_id: 2 }, 5)).toEqual([cy]);
    // A cursor whose user has scored since: the rows ordered after where it was.
    expect(await index.page('global', { total_score: 250, user_id: 7 }, 5)).toEqual([bob, cy]);
  });

  it('answers an empty board as empty and a board that lost its set as untrusted', async () => {
    expect(await index.trusted('mode:empty')).toBe(true);
    expect(await index.top('mode:empty', 10)).toEqual({ epoch: 'g2', entries: [] });
    expect(await index.trusted('mode:lost')).toBe(false);
    expect(await index.top('mode:lost', 10)).toBe(UNTRUSTED);
    expect(await index.rank('mode:lost', 1)).toBe(UNTRUSTED);
    expect(await index.ranks('mode:lost', [1])).toBe(UNTRUSTED);
    expect(await index.page('mode:lost', undefined, 5)).toBe(UNTRUSTED);
    expect(await index.around('mode:lost', 1, 5)).toBe(UNTRUSTED);
  });
});

describe('notices', () => {
  let subscriber: Redis;
  const heard = new Map<string, ChangeNotice[][]>();

  /** Resolves with the notices of the next message on `board`'s channel. */
  const next = (board: string) =>
    new Promise<ChangeNotice[]>((resolve) => {
      const channel = `${prefix}:{${board}}:changes`;
      const poll = () => {
        const got = heard.get(channel)?.shift();
        if (got) resolve(got);
        else setTimeout(poll, 5);
      };
      poll();
    });

  beforeAll(async () => {
    subscriber = redis.duplicate();
    subscriber.on('smessage', (channel: string, message: string) => {
      const list = heard.get(channel) ?? [];
      list.push(parseChangeNotices(message));
      heard.set(channel, list);
    });
    await subscriber.ssubscribe(`${prefix}:{mode:live}:changes`);
  });

  afterAll(() => subscriber?.disconnect());

  it('announces applied changes, and a new generation when the board is invalidated or cannot take a commit', async () => {
    const applied = await index.apply([{ board: 'mode:live', userId: 5, total: 40, games: 1, newBoard: true, ranked: true }], [{ userId: 5, version: 1, name: 'eve' }]);
    expect(applied.outcomes).toEqual([{ applied: true, rank: 1, epoch: expect.any(String) }]);
    expect(await next('mode:live')).toEqual([{ userId: 5, total: 40, games: 1 }]);

    await index.invalidate('mode:live');
    expect(await next('mode:live')).toEqual([{ userId: 0, total: 0, games: 0, generation: true }]);
    expect(await index.trusted('mode:live')).toBe(false);

    const refused = await index.apply([{ board: 'mode:live', userId: 5, total: 70, games: 2, newBoard: false }]);
    expect(refused.outcomes).toEqual([{ applied: false }]);
    expect(await next('mode:live')).toEqual([{ userId: 0, total: 0, games: 0, generation: true }]);
  });
});
