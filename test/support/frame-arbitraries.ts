/**
 * fast-check arbitraries for MessagePack frames, shared by the property tests and the socket fuzz:
 * a raw writer that can produce every encoding (including ones no encoder here emits: every
 * integer width, float32, str8/16/32, map32, extension types, the reserved 0xc1), arbitrary values
 * and request-shaped maps built from it, valid requests of every op, and byte-level mutations.
 */
import fc from 'fast-check';
import { MAX_RID, OPS, encode, type Op } from '../../protocol/index.ts';

// ---- raw MessagePack writer: every encoding, including ones no encoder here produces -------------

export type Bytes = Uint8Array;
export const cat = (...parts: (Bytes | number[])[]): Bytes => Buffer.concat(parts.map((p) => Buffer.from(p)));
export const be = (n: bigint, bytes: number): number[] =>
  Array.from({ length: bytes }, (_, i) => Number((BigInt.asUintN(bytes * 8, n) >> BigInt(8 * (bytes - 1 - i))) & 0xffn));

/** An integer in one encoding chosen by `pick` among those that hold it. */
export function rawInt(n: bigint, pick: number): Bytes {
  const fits: number[][] = [];
  if (n >= 0n && n <= 0x7fn) fits.push([Number(n)]);
  if (n >= -32n && n < 0n) fits.push([0xe0 | Number(n + 32n)]);
  const widths: [number, number, bigint, bigint][] = [
    [0xcc, 1, 0n, 0xffn], [0xcd, 2, 0n, 0xffffn], [0xce, 4, 0n, 0xffff_ffffn], [0xcf, 8, 0n, 2n ** 64n - 1n],
    [0xd0, 1, -(2n ** 7n), 2n ** 7n - 1n], [0xd1, 2, -(2n ** 15n), 2n ** 15n - 1n],
    [0xd2, 4, -(2n ** 31n), 2n ** 31n - 1n], [0xd3, 8, -(2n ** 63n), 2n ** 63n - 1n],
  ];
  for (const [tag, size, min, max] of widths) if (n >= min && n <= max) fits.push([tag, ...be(n, size)]);
  return Uint8Array.from(fits[pick % fits.length]!);
}

export function rawFloat(x: number, bits: 32 | 64): Bytes {
  const b = Buffer.alloc(bits / 8);
  if (bits === 32) b.writeFloatBE(x);
  else b.writeDoubleBE(x);
  return cat([bits === 32 ? 0xca : 0xcb], b);
}

export function rawStr(s: string, pick: number): Bytes {
  const b = Buffer.from(s, 'utf8');
  const heads: number[][] = [];
  if (b.length < 32) heads.push([0xa0 | b.length]);
  if (b.length < 256) heads.push([0xd9, b.length]);
  heads.push([0xda, ...be(BigInt(b.length), 2)], [0xdb, ...be(BigInt(b.length), 4)]);
  return cat(heads[pick % heads.length]!, b);
}

export function rawContainer(kind: 'array' | 'map', count: number, body: Bytes, pick: number): Bytes {
  const heads: number[][] = [];
  if (count < 16) heads.push([(kind === 'array' ? 0x90 : 0x80) | count]);
  heads.push([kind === 'array' ? 0xdc : 0xde, ...be(BigInt(count), 2)], [kind === 'array' ? 0xdd : 0xdf, ...be(BigInt(count), 4)]);
  return cat(heads[pick % heads.length]!, body);
}

export function rawExt(type: number, data: Bytes): Bytes {
  const fixed: Record<number, number> = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 };
  const t = type & 0xff;
  if (fixed[data.length] !== undefined) return cat([fixed[data.length]!, t], data);
  return cat([0xc7, data.length, t], data);
}

// ---- arbitraries -------------------------------------------------------------------------------

export const pick = fc.nat(7);
/** Integers a schema sees at its edges: bounds, 2^31/2^32/2^53/2^63/2^64 neighbours. */
export const edgeInt = fc.constantFrom(
  0n, 1n, -1n, 100n, 101n, 1_000_000_000n, 1_000_000_001n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n,
  2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n, -(2n ** 31n), -(2n ** 63n),
);
export const anyInt = fc.oneof(edgeInt, fc.bigInt(-(2n ** 63n), 2n ** 64n - 1n), fc.bigInt(-40n, 200n));
export const specialFloat = fc.constantFrom(NaN, -0, Infinity, -Infinity, 0.5, 1.5, 1e9 + 0.5, 2 ** 53, Number.MAX_VALUE, Number.MIN_VALUE);
export const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'binary-ascii', maxLength: 70 }),
  fc.constantFrom('', 'global', 'mode:ranked', 'ranked', 'Ranked', 'ping', 'submit', '__proto__', 'a'.repeat(33)),
);

/** One scalar of any type; extension values (always refused) are the rarer case so more frames reach the schemas. */
export const scalar: fc.Arbitrary<Bytes> = fc.oneof(
  { arbitrary: fc.constantFrom(Uint8Array.of(0xc0), Uint8Array.of(0xc2), Uint8Array.of(0xc3), Uint8Array.of(0xc1)), weight: 2 },
  { arbitrary: fc.tuple(anyInt, pick).map(([n, p]) => rawInt(n, p)), weight: 4 },
  { arbitrary: fc.tuple(fc.oneof(specialFloat, fc.double()), fc.constantFrom(32 as const, 64 as const)).map(([x, b]) => rawFloat(x, b)), weight: 3 },
  { arbitrary: fc.tuple(anyString, pick).map(([s, p]) => rawStr(s, p)), weight: 4 },
  { arbitrary: fc.uint8Array({ maxLength: 8 }).map((b) => cat([0xc4, b.length], b)), weight: 1 },
  { arbitrary: fc.tuple(fc.integer({ min: -128, max: 127 }), fc.uint8Array({ maxLength: 17 })).map(([t, d]) => rawExt(t, d)), weight: 1 },
);

export const { value: rawValue } = fc.letrec<{ value: Bytes; array: Bytes; map: Bytes }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('map')),
  array: fc.tuple(fc.array(tie('value'), { maxLength: 4 }), pick).map(([items, p]) => rawContainer('array', items.length, cat(...items), p)),
  map: fc
    .tuple(fc.array(fc.tuple(fc.oneof(fc.tuple(anyString, pick).map(([s, p]) => rawStr(s, p)), tie('value')), tie('value')), { maxLength: 4 }), pick)
    .map(([entries, p]) => rawContainer('map', entries.length, cat(...entries.flat()), p)),
}));

export const FIELDS = ['user_id', 'score', 'game_mode', 'username', 'submission_id', 'board', 'limit', 'radius', 'offset'];
/** A map shaped like a request (real op names and field names), each value of any type and encoding. */
export const frameLike: fc.Arbitrary<Bytes> = fc
  .tuple(
    fc.oneof(fc.constantFrom(...OPS, 'pong', 'error', 'PING').map((op) => rawStr(op, 0)), rawValue),
    fc.option(fc.oneof(fc.tuple(fc.integer({ min: 0, max: MAX_RID }).map(BigInt), pick).map(([n, p]) => rawInt(n, p)), rawValue), { nil: undefined }),
    fc.array(fc.tuple(fc.constantFrom(...FIELDS, '__proto__', 'constructor', 'toString', 'rid', 'op', 'x'), rawValue), { maxLength: 6 }),
    pick,
  )
  .map(([op, rid, fields, p]) => {
    const entries: Bytes[] = [rawStr('op', 0), op];
    if (rid) entries.push(rawStr('rid', 0), rid);
    for (const [k, v] of fields) entries.push(rawStr(k, 0), v);
    return rawContainer('map', entries.length / 2, cat(...entries), p);
  });

export const gameMode = fc.stringMatching(/^[a-z0-9_-]{1,32}$/);
export const board = fc.oneof(fc.constant('global'), gameMode.map((m) => `mode:${m}`));
/**
 * Names that may be taken: random text with what names refuse taken out (control, format,
 * private-use, unassigned and invisible characters; whitespace at either end).
 */
export const username = fc
  .oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 32 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }))
  .map((s) => s.replace(/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u2800]/gu, '').replace(/^\s+|\s+$/gu, ''))
  .filter((s) => s.length > 0 && [...s].length <= 32);
/** Valid ids: any well-formed text without NUL (PostgreSQL text cannot hold it). */
export const submissionId = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 64 })
  .filter((s) => !s.includes('\u0000') && !/[\uD800-\uDFFF]/u.test(s));
export const userId = fc.oneof(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(1, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER));
export const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

/** Valid fields of each op (undefined: omitted). */
export const VALID: { [O in Op]: fc.Arbitrary<Record<string, unknown>> } = {
  submit: fc.record({ user_id: userId, score: fc.integer({ min: 0, max: 1e9 }), game_mode: gameMode, username: opt(username), submission_id: opt(submissionId) }),
  rank: fc.oneof(
    fc.record({ user_id: userId, username: opt(username), board: opt(board) }),
    fc.record({ username, board: opt(board) }),
  ),
  top: fc.record({ limit: opt(fc.integer({ min: 1, max: 100 })), board: opt(board) }),
  around: fc.record({ user_id: userId, radius: opt(fc.integer({ min: 0, max: 50 })), board: opt(board) }),
  history: fc.record({ user_id: userId, limit: opt(fc.integer({ min: 1, max: 100 })), offset: opt(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })) }),
  ping: fc.constant({}),
  subscribe: fc.record({ board: opt(board), limit: opt(fc.integer({ min: 1, max: 100 })) }),
  unsubscribe: fc.record({ board: opt(board) }),
  boards: fc.constant({}),
  ranks: fc.record({ user_ids: fc.uniqueArray(userId, { minLength: 1, maxLength: 100 }), board: opt(board) }),
  page: fc.record({
    board: opt(board),
    limit: opt(fc.integer({ min: 1, max: 100 })),
    after: opt(fc.record({ total_score: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), user_id: userId })),
  }),
};
export const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** A valid request frame: op, maybe a rid, the op's fields, and unknown extras. */
export const validFrame = fc
  .constantFrom(...OPS)
  .chain((op) =>
    fc.record({
      op: fc.constant(op),
      rid: opt(fc.oneof(fc.integer({ min: 0, max: MAX_RID }), fc.constantFrom(0, MAX_RID))),
      fields: VALID[op].map(defined),
      extra: fc.dictionary(fc.string({ maxLength: 6 }).map((k) => `x_${k}`), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
    }),
  );

export type Mutation = { kind: 'flip' | 'truncate' | 'insert' | 'delete' | 'set'; at: number; bytes: Bytes };
export const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('flip', 'truncate', 'insert', 'delete', 'set'),
  at: fc.nat(),
  bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }),
});
export function mutate(input: Bytes, ms: readonly Mutation[]): Bytes {
  let b = Buffer.from(input);
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    if (m.kind === 'flip' && b.length > 0) b[at % b.length]! ^= 1 << (m.bytes[0]! & 7);
    if (m.kind === 'truncate') b = b.subarray(0, at);
    if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
    if (m.kind === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.bytes.length)]);
    if (m.kind === 'set' && b.length > 0) b[at % b.length] = m.bytes[0]!;
  }
  return b;
}

/** A valid request frame's bytes: its extras, fields, op and rid. */
export function encodeFrame(f: { op: Op; rid: number | undefined; fields: Record<string, unknown>; extra: Record<string, unknown> }): Bytes {
  return encode({ ...f.extra, ...f.fields, op: f.op, ...(f.rid === undefined ? {} : { rid: f.rid }) });
}
