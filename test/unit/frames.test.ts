/** parseFrame, the front of the socket pipeline: rid and op first, then the op's schema with defaults. */
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { encode } from '../../protocol/index.ts';
import { parseFrame, type ParsedFrame } from '../../server/frames.ts';

const packr = new Packr({ useRecords: false });
const parse = (v: unknown) => parseFrame(packr.pack(v), true);
// Through the protocol codec, as the SDK encodes.
const encodeAndParse = (v: Record<string, unknown>) => parseFrame(encode(v), true);

function expectOk(p: ParsedFrame) {
  if (!p.ok) throw new Error(`expected ok, got ${p.error.code}: ${p.error.message}`);
  return p;
}
function expectBad(p: ParsedFrame, rid: number | undefined): string {
  if (p.ok) throw new Error(`expected bad_request, got ok ${JSON.stringify(p.req)}`);
  expect(p.error.code).toBe('bad_request');
  expect(p.rid).toBe(rid);
  return p.error.message;
}

describe('defaults', () => {
  it.each([
    ['top', {}, { limit: 10, board: 'global' }],
    ['top', { limit: 100, board: 'mode:x' }, { limit: 100, board: 'mode:x' }],
    ['around', { user_id: 3 }, { user_id: 3, radius: 5, board: 'global' }],
    ['around', { user_id: 3, radius: 0 }, { user_id: 3, radius: 0, board: 'global' }],
    ['history', { user_id: 3 }, { user_id: 3, limit: 20, offset: 0 }],
    ['subscribe', {}, { limit: 10, board: 'global' }],
    ['unsubscribe', {}, { board: 'global' }],
    ['rank', { username: 'bob' }, { username: 'bob', board: 'global' }],
    ['ping', {}, {}],
    ['submit', { user_id: 1, score: 0, game_mode: 'a' }, { user_id: 1, score: 0, game_mode: 'a' }],
  ] as const)('%s %j parses to %j', (op, fields, req) => {
    const p = expectOk(encodeAndParse({ ...fields, op, rid: 9 }));
    expect(p).toEqual({ ok: true, rid: 9, op, req });
  });
});

describe('rid', () => {
  it('is optional', () => {
    expect(expectOk(parse({ op: 'ping' })).rid).toBeUndefined();
  });

  it.each([0, 1, 0xffff_ffff])('%d is kept', (rid) => {
    expect(expectOk(encodeAndParse({ op: 'ping', rid })).rid).toBe(rid);
  });

  it.each([-1, 2 ** 32, 0.5, '1', null, true, [1]])('%j is refused with no rid, before op is looked at', (rid) => {
    expectBad(parse({ op: 'ping', rid }), undefined);
    expectBad(parse({ op: 'nope', rid }), undefined);
  });

  it('is not part of the request passed on, and neither is op or an unknown field', () => {
    const p = expectOk(parse({ op: 'top', rid: 4, limit: 3, extra: 'x' }));
    expect(p.req).toEqual({ limit: 3, board: 'global' });
  });
});

describe('op', () => {
  it.each([undefined, 'nope', 'Ping', 'pong', 'error', 'diff', '', 5, null, ['ping']])('%j is refused, keeping the rid', (op) => {
    const message = expectBad(parse(op === undefined ? { rid: 6 } : { op, rid: 6 }), 6);
    expect(message).toMatch(/^op:/);
  });

  it('is checked before the fields', () => {
    expect(expectBad(parse({ op: 'nope', rid: 6, limit: -1 }), 6)).toMatch(/^op:/);
  });
});

describe('fields', () => {
  it.each([
    ['submit', { user_id: 0, score: 1, game_mode: 'a' }, /user_id/],
    ['submit', { user_id: 1, score: 1e9 + 1, game_mode: 'a' }, /score/],
    ['submit', { user_id: 1, score: 1, game_mode: 'A' }, /game_mode/],
    ['submit', { user_id: 1, score: 1, game_mode: 'a', username: 'x'.repeat(33) }, /username/],
    ['submit', { user_id: 1, score: 1, game_mode: 'a', submission_id: '' }, /submission_id/],
    ['rank', {}, /user_id/],
    ['top', { limit: 101 }, /limit/],
    ['top', { board: 'mode:' }, /board/],
    ['around', { user_id: 1, radius: 51 }, /radius/],
    ['history', { user_id: 1, offset: -1 }, /offset/],
  ] as const)('%s %j is refused naming the field', (op, fields, name) => {
    expect(expectBad(parse({ ...fields, op, rid: 8 }), 8)).toMatch(name);
  });

  it('accepts the bounds', () => {
    // Through the codec: it writes 2^53 - 1 as int64, where a plain msgpackr would write a float64.
    expectOk(encodeAndParse({ op: 'submit', user_id: 2 ** 53 - 1, score: 1e9, game_mode: 'a'.repeat(32), username: '😀'.repeat(32), submission_id: '😀'.repeat(64) }));
    expectOk(parse({ op: 'top', limit: 1 }));
    expectOk(parse({ op: 'around', user_id: 1, radius: 50 }));
    expectOk(encodeAndParse({ op: 'history', user_id: 1, limit: 100, offset: 2 ** 40 }));
  });
});

describe('frames that are not maps', () => {
  it('a text frame is refused whatever it holds', () => {
    expectBad(parseFrame(encode({ op: 'ping', rid: 1 }), false), undefined);
  });

  it.each([
    ['array', packr.pack([1])],
    ['nil', Uint8Array.of(0xc0)],
    ['integer', Uint8Array.of(0x05)],
    ['garbage', Uint8Array.of(0xc1, 0xc1)],
    ['truncated', packr.pack({ op: 'ping' }).subarray(0, 3)],
    ['trailing', Uint8Array.of(0x80, 0x80)],
    ['empty', new Uint8Array(0)],
  ])('%s is refused with no rid', (_label, b) => {
    expectBad(parseFrame(b, true), undefined);
  });
});

describe('non-standard MessagePack', () => {
  const str = (s: string) => packr.pack(s);
  it('a msgpackr record is refused although it decodes to an object', () => {
    const record = Buffer.concat([Uint8Array.of(0xd4, 0x72, 0x40), packr.pack(['op', 'rid']), str('ping'), Uint8Array.of(3)]);
    expectBad(parseFrame(record, true), undefined);
  });

  it('an extension value (fixext type 0, which msgpackr reads as undefined) in a known field is refused', () => {
    const frame = Buffer.concat([Uint8Array.of(0x83), str('op'), str('top'), str('rid'), Uint8Array.of(4), str('limit'), Uint8Array.of(0xd4, 0, 0)]);
    expect(parseFrame(frame, true).ok).toBe(false);
  });
});

describe('integers mean integers', () => {
  const f32 = (x: number) => {
    const b = Buffer.alloc(5);
    b[0] = 0xca;
    b.writeFloatBE(x, 1);
    return b;
  };
  const f64 = (x: number) => {
    const b = Buffer.alloc(9);
    b[0] = 0xcb;
    b.writeDoubleBE(x, 1);
    return b;
  };
  /** A fixmap whose values are raw bytes. */
  const rawMap = (entries: [Uint8Array, Uint8Array][]) => Buffer.concat([Buffer.of(0x80 | entries.length), ...entries.flat()]);
  const key = (k: string) => packr.pack(k);

  it.each([
    ['score', { op: 'submit', user_id: 1, game_mode: 'm' }],
    ['user_id', { op: 'submit', score: 5, game_mode: 'm' }],
    ['limit', { op: 'top' }],
    ['radius', { op: 'around', user_id: 1 }],
  ] as const)('a whole-number float for %s is refused, as float32 and as float64', (field, rest) => {
    for (const float of [f32(5), f64(5)]) {
      const entries: [Uint8Array, Uint8Array][] = Object.entries({ ...rest, rid: 9 }).map(([k, v]) => [key(k), packr.pack(v)]);
      entries.push([key(field), float]);
      expect(expectBad(parseFrame(rawMap(entries), true), 9)).toBe(`${field}: must be an integer (sent as a MessagePack float)`);
    }
  });

  it('a float rid is refused, with no rid to answer under', () => {
    expect(expectBad(parseFrame(rawMap([[key('op'), key('ping')], [key('rid'), f64(3)]]), true), undefined)).toMatch(/^rid: must be an integer/);
  });

  it('a float inside a known field is refused, one in an unknown field ignored', () => {
    const userIds = Buffer.concat([Buffer.of(0x92, 0x01), f64(2)]);
    expect(expectBad(parseFrame(rawMap([[key('op'), key('ranks')], [key('rid'), Buffer.of(4)], [key('user_ids'), userIds]]), true), 4)).toBe(
      'user_ids.1: must be an integer (sent as a MessagePack float)',
    );
    expectOk(parseFrame(rawMap([[key('op'), key('top')], [key('later'), f64(1.5)], [key('x'), Buffer.concat([Buffer.of(0x81), key('y'), f32(2)])]]), true));
  });

  it('map entries whose key is not a string are unknown fields: ignored, the frame served', () => {
    const binKey = Buffer.of(0xc4, 0x02, 0x6f, 0x70); // bin "op"
    const mapKey = Buffer.concat([Buffer.of(0x81), key('a'), Buffer.of(1)]);
    const p = expectOk(
      parseFrame(rawMap([[key('op'), key('top')], [key('rid'), Buffer.of(5)], [binKey, key('submit')], [mapKey, Buffer.of(2)], [Buffer.of(7), Buffer.of(3)], [Buffer.of(0xc0), Buffer.of(0xc3)]]), true),
    );
    expect(p).toMatchObject({ op: 'top', rid: 5, req: { limit: 10, board: 'global' } });
  });

  it('a __proto__ key is an unknown field, not a prototype', () => {
    const p = expectOk(parseFrame(rawMap([[key('op'), key('top')], [key('__proto__'), Buffer.concat([Buffer.of(0x81), key('limit'), Buffer.of(99)])]]), true));
    expect(p.req).toEqual({ limit: 10, board: 'global' });
  });

  it('a string that is not UTF-8 is refused with our reason, never a decoder internal', () => {
    const bad = Buffer.of(0xa2, 0xc3, 0x28);
    const msg = expectBad(parseFrame(rawMap([[key('op'), key('top')], [key('board'), bad]]), true), undefined);
    expect(msg).toBe('frame is not standard MessagePack: a string is not valid UTF-8');
  });
});

describe('deep nesting', () => {
  /** A fixmap of three entries: op, rid, and `field` holding `depth` nested one-element arrays around nil. */
  const deep = (op: string, rid: number, field: string, depth: number) =>
    Buffer.concat([Buffer.of(0x83), encode('op'), encode(op), encode('rid'), encode(rid), encode(field), Buffer.alloc(depth, 0x91), Buffer.of(0xc0)]);
  /** Runs `f` under `n` more frames of stack (a handler's call stack, cold code, a busy process). */
  const under = <T>(n: number, f: () => T): T => (n === 0 ? f() : under(n - 1, f));

  it('serves thousands of levels in an unknown field however deep the stack it is parsed on', () => {
    for (const stack of [0, 2_000, 6_000]) {
      expect(under(stack, () => parseFrame(deep('ping', 1, 'x', 4_000), true)), `stack ${stack}`).toMatchObject({ ok: true, op: 'ping', rid: 1 });
    }
  });

  it('refuses the same nesting as a known field, and as the frame itself', () => {
    expect(expectBad(parseFrame(deep('ranks', 2, 'user_ids', 4_000), true), 2)).toMatch(/user_ids/);
    expect(parseFrame(Buffer.concat([Buffer.alloc(4_000, 0x91), Buffer.of(0xc0)]), true).ok).toBe(false);
  });
});
