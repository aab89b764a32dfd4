/**
 * The flat reply writer must write exactly what the general encoder writes for the same frame,
 * for every scalar form, and hand anything else back to it.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../protocol/codec.ts';
import { packFlatReply } from '../../protocol/flat-pack.ts';

/** A small deterministic generator (the same cases every run). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

const NUMBERS = [
  0, -0, 1, 31, 127, 128, 255, 256, 65_535, 65_536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2,
  -1, -31, -32, -33, -128, -129, -32_768, -32_769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 40), Number.MIN_SAFE_INTEGER, 0.5, -2.25, 1e300, NaN, Infinity, -Infinity,
];
const STRINGS = ['', 'a', 'global', 'mode:ranked:daily:2026-12-01', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(255), 'x'.repeat(256), 'é', 'ünïcödé name', '名前', '😀'.repeat(20), 'é'.repeat(11)];

function scalar(next: () => number): unknown {
  const r = next();
  if (r < 0.45) return NUMBERS[Math.floor(next() * NUMBERS.length)];
  if (r < 0.85) return STRINGS[Math.floor(next() * STRINGS.length)];
  if (r < 0.9) return true;
  if (r < 0.95) return false;
  return null;
}

describe('packFlatReply', () => {
  it('writes the bytes encode writes for { ...payload, op, rid }, over many random flat payloads', () => {
    const next = rng(7);
    let written = 0;
    for (let n = 0; n < 2_000; n++) {
      const payload: Record<string, unknown> = {};
      const keys = Math.floor(next() * 12);
      for (let k = 0; k < keys; k++) payload[STRINGS[Math.floor(next() * STRINGS.length)]! + k] = scalar(next);
      const rid = next() < 0.2 ? undefined : (NUMBERS.filter(Number.isSafeInteger)[Math.floor(next() * 20)] as number);
      const op = next() < 0.5 ? 'rank' : 'pong';
      const want = encode(rid === undefined ? { ...payload, op } : { ...payload, op, rid });
      const got = packFlatReply(payload, op, rid);
      // Only a frame near the writer's size bound goes the general way.
      if (got === undefined) expect(want.length, JSON.stringify(payload)).toBeGreaterThan(1_000);
      else expect(Buffer.from(got).toString('hex'), JSON.stringify(payload)).toBe(Buffer.from(want).toString('hex'));
      if (got !== undefined) written++;
    }
    expect(written).toBeGreaterThan(1_500);
  });

  it('keeps earlier replies intact while later ones are written (views of a shared chunk)', () => {
    const replies = Array.from({ length: 5_000 }, (_, i) => ({ i, bytes: packFlatReply({ user_id: i, username: `player-${i}` }, 'rank', i)! }));
    for (const { i, bytes } of replies) expect(decode(bytes)).toEqual({ user_id: i, username: `player-${i}`, op: 'rank', rid: i });
  });

  it('leaves out keys whose value is undefined (never an extension type on the wire)', () => {
    const bytes = packFlatReply({ a: 1, b: undefined, c: 'x' }, 'rank', 3)!;
    expect(decode(bytes)).toEqual({ a: 1, c: 'x', op: 'rank', rid: 3 });
  });

  it('hands back nested values, payloads naming op or rid, functions and large frames', () => {
    expect(packFlatReply({ entries: [] }, 'top', 1)).toBeUndefined();
    expect(packFlatReply({ meta: { a: 1 } }, 'top', 1)).toBeUndefined();
    expect(packFlatReply({ op: 'x' }, 'top', 1)).toBeUndefined();
    expect(packFlatReply({ rid: 2 }, 'top', 1)).toBeUndefined();
    expect(packFlatReply({ f: () => 1 }, 'top', 1)).toBeUndefined();
    expect(packFlatReply({ big: 1n }, 'top', 1)).toBeUndefined();
    expect(packFlatReply({ long: 'x'.repeat(5_000) }, 'top', 1)).toBeUndefined();
  });
});
