/**
 * Property tests of the socket pipeline's front (fast-check, no server): `decode` and `parseFrame`
 * over random bytes, mutated valid frames, hand-built MessagePack of every type (NaN, -0, Infinity,
 * int64 beyond 2^53, extension types, deep nesting), and every request schema over generated valid
 * and out-of-range values. parseFrame never throws: it yields a request its schema accepts again,
 * or a bad_request that encodes as a valid error frame.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DecodeError,
  MAX_FRAME_BYTES,
  MAX_RID,
  OPS,
  REQUEST_SCHEMAS,
  decode,
  encode,
  errorFrame,
  type Op,
} from '../../protocol/index.ts';
import { toErrorFrame } from '../../server/errors.ts';
import { parseFrame, type ParsedFrame } from '../../server/frames.ts';
import {
  VALID,
  board,
  cat,
  defined,
  encodeFrame,
  frameLike,
  mutate,
  mutation,
  opt,
  pick,
  rawContainer,
  rawExt,
  rawInt,
  rawStr,
  rawValue,
  userId,
  validFrame,
  type Bytes,
} from '../support/frame-arbitraries.ts';

const validRid = (rid: unknown) => rid === undefined || (Number.isInteger(rid) && (rid as number) >= 0 && (rid as number) <= MAX_RID);

/** parseFrame's contract for any input: no throw; a request its own schema accepts again, or bad_request. */
function checkParse(bytes: Bytes, isBinary = true): ParsedFrame {
  const p = parseFrame(bytes, isBinary);
  expect(validRid(p.rid)).toBe(true);
  if (p.ok) {
    expect(OPS).toContain(p.op);
    const again = REQUEST_SCHEMAS[p.op].safeParse(p.req);
    expect(again.success, JSON.stringify(again.error?.issues)).toBe(true);
    expect(again.data).toEqual(p.req);
  } else {
    expect(p.error.code).toBe('bad_request');
    const frame = decode(encode(toErrorFrame(p.error, p.rid)));
    expect(errorFrame.safeParse(frame).success).toBe(true);
  }
  return p;
}

/** decode either returns a value or throws DecodeError, never anything else. */
function checkDecode(bytes: Bytes): void {
  try {
    decode(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError);
  }
}

/** Runs a property a bounded number of times (the whole file stays within a few seconds). */
function run<Ts>(numRuns: number, prop: fc.IProperty<Ts>): void {
  fc.assert(prop, { numRuns });
}

describe('decode and parseFrame on arbitrary input', () => {
  it('random bytes', () => {
    run(3000, fc.property(fc.uint8Array({ maxLength: 300 }), (b) => (checkDecode(b), void checkParse(b))));
    run(100, fc.property(fc.uint8Array({ minLength: 3000, maxLength: MAX_FRAME_BYTES }), (b) => void checkParse(b)));
  });

  it('anything sent as a text frame is bad_request', () => {
    run(300, fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
      expect(checkParse(b, false).ok).toBe(false);
    }));
  });

  it('hand-built MessagePack of any type and encoding, alone and shaped like a request', () => {
    run(2000, fc.property(rawValue, (b) => (checkDecode(b), void checkParse(b))));
    run(4000, fc.property(frameLike, (b) => (checkDecode(b), void checkParse(b))));
  });

  it('mutated valid frames (bit flips, truncation, insertion, deletion, overwrites)', () => {
    run(4000, fc.property(validFrame, fc.array(mutation, { minLength: 1, maxLength: 4 }), (f, ms) => {
      const b = mutate(encodeFrame(f), ms);
      checkDecode(b);
      checkParse(b);
    }));
  });

  it('an extension type anywhere makes the whole frame bad_request without a rid', () => {
    run(500, fc.property(fc.integer({ min: -128, max: 127 }), fc.uint8Array({ maxLength: 20 }), fc.constantFrom('rid', 'limit', 'x'), (t, d, field) => {
      const b = rawContainer('map', 3, cat(rawStr('op', 0), rawStr('top', 0), rawStr('rid', 0), [7], rawStr(field, 0), rawExt(t, d)), 0);
      const p = checkParse(b);
      expect(p.ok).toBe(false);
      expect(p.rid).toBeUndefined();
    }));
  });

  it('nesting thousands deep within 4096 bytes: ignored in an unknown field, refused as a known field or as the frame', () => {
    run(300, fc.property(fc.integer({ min: 1, max: 4000 }), fc.constantFrom('array', 'map', 'mixed'), fc.constantFrom('x', 'limit', 'frame'), fc.boolean(), (depth, kind, where, truncated) => {
      const levels: number[] = [];
      for (let i = 0; i < depth; i++) {
        const level = kind === 'array' || (kind === 'mixed' && i % 2 === 0) ? [0x91] : [0x81, 0xa1, 0x61];
        if (levels.length + level.length > MAX_FRAME_BYTES - 40) break;
        levels.push(...level);
      }
      const deep = cat(levels, truncated ? [] : [0xc0]);
      const b = where === 'frame' ? deep : cat([0x83], rawStr('op', 0), rawStr('top', 0), rawStr('rid', 0), [9], rawStr(where, 0), deep);
      expect(b.length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
      const p = checkParse(b);
      if (where === 'x' && !truncated) expect(p).toMatchObject({ ok: true, op: 'top', rid: 9 });
      else expect(p.ok).toBe(false);
    }));
  });

  it('keys that could reach Object.prototype pollute nothing', () => {
    const keys = fc.constantFrom('__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf');
    run(500, fc.property(keys, rawValue, (key, v) => {
      const b = cat([0x83], rawStr('op', 0), rawStr('ping', 0), rawStr(key, 0), rawContainer('map', 1, cat(rawStr('polluted', 0), v), 0), rawStr('rid', 0), [3]);
      checkParse(b);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    }));
  });
});

describe('valid requests', () => {
  it('encode then parseFrame gives back every field exactly, defaults filled in, unknown fields dropped', () => {
    run(3000, fc.property(validFrame, (f) => {
      const p = checkParse(encodeFrame(f));
      expect(p.ok).toBe(true);
      if (!p.ok) return;
      expect(p.op).toBe(f.op);
      expect(p.rid).toBe(f.rid);
      expect(p.req).toEqual(REQUEST_SCHEMAS[f.op].parse(f.fields));
      for (const [k, v] of Object.entries(f.fields)) {
        // Lists and cursors (ranks, page) come back as equal copies; every scalar exactly.
        if (typeof v === 'object' && v !== null) expect((p.req as Record<string, unknown>)[k]).toEqual(v);
        else expect((p.req as Record<string, unknown>)[k]).toBe(v);
      }
      for (const k of Object.keys(f.extra)) expect(k in p.req).toBe(false);
    }));
  });

  it('integers read the same in every MessagePack integer encoding', () => {
    run(1000, fc.property(userId, pick, pick, (id, p1, p2) => {
      const frame = (p: number) => cat([0x82], rawStr('op', p), rawStr('rank', p), rawStr('user_id', p), rawInt(BigInt(id), p));
      const [a, b] = [checkParse(frame(p1)), checkParse(frame(p2))];
      expect(a).toMatchObject({ ok: true, req: { user_id: id } });
      expect(b).toEqual(a);
    }));
  });
});

describe('every schema', () => {
  it.each(OPS)('%s accepts what its valid arbitrary generates', (op) => {
    run(300, fc.property(VALID[op], (fields) => {
      expect(REQUEST_SCHEMAS[op].safeParse(fields).success).toBe(true);
    }));
  });

  const notString = fc.oneof(
    fc.constantFrom<unknown>(null, true, false, [], {}, NaN, Infinity, -Infinity, 1.5, -0.5, 0, 7, -(2n ** 63n), 2n ** 64n - 1n),
    fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }),
    fc.double({ noInteger: true }),
    fc.array(fc.integer(), { minLength: 1, maxLength: 2 }),
  );
  const notInt = fc.oneof(notString.filter((v) => typeof v !== 'number' || !Number.isInteger(v)), fc.constantFrom('1', '', '0x10', ' 5'));
  const outside = (min: number, max: number) =>
    fc.oneof(notInt, fc.integer({ min: Number.MIN_SAFE_INTEGER, max: min - 1 }), ...(max < Number.MAX_SAFE_INTEGER ? [fc.integer({ min: max + 1 })] : []));
  const badString = (ok: (s: string) => boolean) =>
    fc.oneof(notString, fc.oneof(fc.string({ unit: 'binary-ascii', maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 })).filter((s) => !ok(s)));
  const cps = (s: string) => [...s].length;
  const usernameOk = (s: string) => cps(s) >= 1 && cps(s) <= 32 && !/\p{Cc}/u.test(s);
  const boardOk = (s: string) => /^(global|mode:[a-z0-9_-]{1,32})$/.test(s);
  const BAD: [Op, string, fc.Arbitrary<unknown>][] = [
    ['submit', 'user_id', outside(1, Number.MAX_SAFE_INTEGER)],
    ['submit', 'score', outside(0, 1e9)],
    ['submit', 'game_mode', badString((s) => /^[a-z0-9_-]{1,32}$/.test(s))],
    ['submit', 'username', badString(usernameOk)],
    ['submit', 'submission_id', badString((s) => cps(s) >= 1 && cps(s) <= 64)],
    ['rank', 'user_id', outside(1, Number.MAX_SAFE_INTEGER)],
    ['rank', 'username', badString(usernameOk)],
    ['rank', 'board', badString(boardOk)],
    ['top', 'limit', outside(1, 100)],
    ['top', 'board', badString(boardOk)],
    ['around', 'user_id', outside(1, Number.MAX_SAFE_INTEGER)],
    ['around', 'radius', outside(0, 50)],
    ['history', 'limit', outside(1, 100)],
    ['history', 'offset', outside(0, Number.MAX_SAFE_INTEGER)],
    ['subscribe', 'limit', outside(1, 100)],
    ['unsubscribe', 'board', badString(boardOk)],
  ];
  it.each(BAD)('%s refuses a bad %s whatever the other fields, directly and through the codec', (op, field, bad) => {
    run(200, fc.property(VALID[op], bad, (fields, v) => {
      const input: Record<string, unknown> = { ...defined(fields), [field]: v };
      if (op === 'rank' && input.user_id === undefined) input.user_id = 1; // only the bad field may fail
      expect(REQUEST_SCHEMAS[op].safeParse(input).success, `${op} ${field}=${String(v)}`).toBe(false);
      const p = checkParse(encode({ ...input, op, rid: 5 }));
      expect(p).toMatchObject({ ok: false, rid: 5 });
    }));
  });

  it('rank without user_id or username is refused', () => {
    run(50, fc.property(fc.record({ board: opt(board) }), (f) => {
      expect(REQUEST_SCHEMAS.rank.safeParse(defined(f)).success).toBe(false);
    }));
  });
});
