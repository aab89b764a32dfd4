/**
 * The MessagePack codec: what it writes must be readable by strict decoders in other languages,
 * and what it reads must be exactly one standard value.
 */
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { DecodeError, decode, encode, encodeOnce, encodeReply, isMap } from '../../protocol/codec.ts';

const bytes = (...b: number[]) => Uint8Array.from(b);
const be64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt.asUintN(64, n));
  return [...b];
};

describe('encode/decode', () => {
  it('round-trips a reply frame', () => {
    const frame = {
      op: 'top',
      rid: 0xffff_ffff,
      board: 'mode:blitz_2v2',
      entries: [
        { rank: 1, user_id: 2 ** 53 - 1, username: '李雷 ☃ 😀', total_score: 4_000_000_000, games_played: 4 },
        { rank: 2, user_id: 1, username: '', total_score: 0, games_played: 0 },
      ],
      removed: [],
      nothing: null,
      flag: true,
      ratio: 66.67,
    };
    expect(decode(encode(frame))).toEqual(frame);
  });

  it.each([
    ['2^32', 2 ** 32, 0xd3],
    ['2^53-1', 2 ** 53 - 1, 0xd3],
    ['-(2^31)-1', -(2 ** 31) - 1, 0xd3],
    ['-(2^53-1)', -(2 ** 53 - 1), 0xd3],
  ])('writes %s as a 64-bit integer, not float64', (_label, n, marker) => {
    const b = encode(n);
    expect(b.length).toBe(9);
    expect(b[0]).toBe(marker);
    expect(Buffer.from(b.subarray(1)).readBigInt64BE()).toBe(BigInt(n));
    expect(decode(b)).toBe(n);
  });

  it('widens integers nested in maps and arrays, leaving the input untouched', () => {
    const input = { entries: [{ total_score: 2 ** 40 }], ids: [2 ** 33, 5] };
    const b = encode(input);
    expect(Buffer.from(b).includes(0xcb)).toBe(false);
    expect(Buffer.from(b).includes(Buffer.from([0xd3, ...be64(2n ** 40n)]))).toBe(true);
    expect(Buffer.from(b).includes(Buffer.from([0xd3, ...be64(2n ** 33n)]))).toBe(true);
    expect(input).toEqual({ entries: [{ total_score: 2 ** 40 }], ids: [2 ** 33, 5] });
    expect(decode(b)).toEqual(input);
  });

  it('keeps 32-bit integers compact and non-integers as floats', () => {
    expect([...encode(2 ** 32 - 1)]).toEqual([0xce, 0xff, 0xff, 0xff, 0xff]);
    expect([...encode(-(2 ** 31))]).toEqual([0xd2, 0x80, 0, 0, 0]);
    expect(encode(1.5)[0]).toBe(0xcb);
    // Unsafe integers cannot be represented exactly as int64 from a double: they stay floats.
    expect(encode(2 ** 53)[0]).toBe(0xcb);
  });

  it('reads small values written as uint64/int64 as numbers', () => {
    expect(decode(bytes(0xcf, ...be64(5n)))).toBe(5);
    expect(decode(bytes(0xd3, ...be64(5n)))).toBe(5);
    expect(decode(bytes(0xd3, ...be64(-1n)))).toBe(-1);
    expect(decode(bytes(0xcf, ...be64(2n ** 53n - 1n)))).toBe(2 ** 53 - 1);
  });

  it('reads values beyond the safe range as something no schema takes for an integer', () => {
    const v = decode(bytes(0xcf, ...be64(2n ** 64n - 1n)));
    expect(typeof v).toBe('bigint');
    expect(Number.isSafeInteger(v)).toBe(false);
    expect(Number.isSafeInteger(decode(bytes(0xcf, ...be64(2n ** 60n))))).toBe(false);
  });

  it.each([
    ['truncated', bytes(0x82, 0xa1, 0x61)],
    ['empty', bytes()],
    ['trailing bytes', bytes(0x80, 0x00)],
    ['reserved byte 0xc1 inside a map', bytes(0x81, 0xa1, 0x61, 0xc1)],
    ['unknown extension', bytes(0xd4, 0x05, 0x00)],
  ])('throws DecodeError on %s', (_label, b) => {
    expect(() => decode(b)).toThrow(DecodeError);
  });

  it('writes no msgpackr records for repeated shapes', () => {
    const rows = Array.from({ length: 3 }, (_, i) => ({ rank: i + 1, user_id: i + 1 }));
    const b = Buffer.from(encode({ entries: rows }));
    expect(b.includes(Buffer.from([0xd4, 0x72]))).toBe(false);
    // A plain standard decoder (no record support needed) reads the same value.
    expect(new Packr({ useRecords: false, mapsAsObjects: true }).unpack(b)).toEqual({ entries: rows });
  });
});

describe('isMap', () => {
  it('accepts decoded maps only', () => {
    expect(isMap(decode(encode({ op: 'ping' })))).toBe(true);
    expect(isMap(decode(bytes(0x80)))).toBe(true);
    expect(isMap({})).toBe(true);
  });

  it.each([
    ['array', []],
    ['null', null],
    ['undefined', undefined],
    ['string', 'x'],
    ['number', 1],
    ['binary', new Uint8Array(2)],
    ['Buffer', Buffer.alloc(1)],
    ['Map', new Map()],
    ['Date', new Date(0)],
    ['Set', new Set()],
    ['null-prototype object', Object.create(null) as object],
    ['class instance', new (class Foo {})()],
  ])('rejects %s', (_label, v) => {
    expect(isMap(v)).toBe(false);
  });
});

describe('encodeOnce', () => {
  const rows = () =>
    Array.from({ length: 10 }, (_, i) => ({ rank: i + 1, user_id: 2 ** 40 + i, username: `näme ${i} 😀`, total_score: 10_000 - i, games_played: i }));

  it('writes the same bytes as encoding the frame whole, reusing the marked field', () => {
    const plain = rows();
    const shared = encodeOnce(rows());
    for (const rid of [0, 7, 127, 128, 255, 256, 65_535, 65_536, 2 ** 31, 2 ** 40, -1]) {
      const a = encode({ board: 'global', entries: plain, op: 'top', rid });
      const b = encode({ board: 'global', entries: shared, op: 'top', rid });
      expect(Buffer.from(b).equals(Buffer.from(a)), `rid ${rid}`).toBe(true);
      expect(decode(b)).toEqual({ board: 'global', entries: plain, op: 'top', rid });
    }
  });

  it('writes the same bytes for the other fields whatever their form (short strings, long ones, non-ASCII, floats)', () => {
    const shared = encodeOnce(rows());
    for (const board of ['global', 'mode:x', 'é'.repeat(40), 'b'.repeat(64), 'b'.repeat(65), 'c'.repeat(300), '']) {
      for (const extra of [1.5, null, true, 'x', -200, 70_000]) {
        const a = encode({ board, entries: rows(), op: 'top', extra });
        const b = encode({ board, entries: shared, op: 'top', extra });
        expect(Buffer.from(b).equals(Buffer.from(a)), `${board.slice(0, 8)} ${String(extra)}`).toBe(true);
      }
    }
  });

  it('keeps the first encoding of a marked value (it must not change afterwards)', () => {
    const shared = encodeOnce(rows());
    const first = encode({ op: 'top', entries: shared });
    encode({ op: 'other', big: 'x'.repeat(100_000) }); // later frames do not disturb the kept bytes
    expect(Buffer.from(encode({ op: 'top', entries: shared })).equals(Buffer.from(first))).toBe(true);
  });

  it('encodes a reply the same whether its payload is marked (head reused) or not, for every rid', () => {
    const payload = { board: 'mode:x', entries: encodeOnce(rows()) };
    const marked = encodeOnce({ ...payload });
    for (const rid of [undefined, 0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 40]) {
      for (const op of ['top', 'other']) {
        const want = encode(rid === undefined ? { ...payload, op } : { ...payload, op, rid });
        for (let twice = 0; twice < 2; twice++) {
          expect(Buffer.from(encodeReply(marked, op, rid)).equals(Buffer.from(want)), `${op} rid ${rid} (${twice ? 'cached' : 'first'})`).toBe(true);
          expect(Buffer.from(encodeReply(payload, op, rid)).equals(Buffer.from(want)), `unmarked ${op} rid ${rid}`).toBe(true);
        }
      }
    }
    expect(decode(encodeReply(marked, 'top', 9))).toEqual({ ...payload, op: 'top', rid: 9 });
  });
});
