/** The load generator's reply peeking, on frames as the server writes them. */
import { describe, expect, it } from 'vitest';
import { encode, encodeOnce, encodeReply } from '../../protocol/index.ts';
import { AppError, toErrorFrame } from '../../server/errors.ts';
import { isErrorReply, peekRid } from '../../bench/load/protocol-client.ts';

const entries = encodeOnce(Array.from({ length: 10 }, (_, i) => ({ rank: i + 1, user_id: 7 + i, username: `rid${i}`, total_score: 100 - i, games_played: 1 })));

describe('peekRid and isErrorReply', () => {
  it('read the rid of replies and errors, and tell errors apart, for every rid width', () => {
    for (const rid of [0, 1, 127, 128, 255, 256, 65_535, 65_536, 4_000_000_000]) {
      const top = encodeReply(encodeOnce({ board: 'global', entries }), 'top', rid);
      expect(peekRid(top), `top rid ${rid}`).toBe(rid);
      expect(isErrorReply(top)).toBe(false);
      const pong = encodeReply({ time: 1_800_000_000_000 }, 'pong', rid);
      expect(peekRid(pong), `pong rid ${rid}`).toBe(rid);
      expect(isErrorReply(pong)).toBe(false);
      for (const err of [new AppError('not_found', 'no'), new AppError('rate_limited', 'slow down', { retryAfterMs: 250 })]) {
        const frame = encode(toErrorFrame(err, rid));
        expect(peekRid(frame), `${err.code} rid ${rid}`).toBe(rid);
        expect(isErrorReply(frame)).toBe(true);
      }
    }
  });

  it('find no rid in a pushed frame', () => {
    expect(peekRid(encode({ op: 'diff', board: 'global', epoch: 'e', seq: 3, entries, removed: [] }))).toBeUndefined();
  });
});
