/**
 * A MessagePack writer for the commonest reply: a flat map of scalars (a rank, a submit's result,
 * a pong). It writes the bytes msgpackr writes for the same map (a map16 header, the shortest
 * integer form, int64 for whole numbers beyond 32 bits, float64 otherwise), without msgpackr's
 * per-call setup and without the copy a `{ ...payload, op, rid }` spread makes. Anything else (a
 * nested value, a long or unusual frame) returns undefined and goes the general way.
 *
 * Replies are written one after another into a shared chunk and returned as views of it; a full
 * chunk is left to the views still holding it and a new one is started, so a view is never
 * overwritten (msgpackr manages its buffer the same way).
 */

const CHUNK_BYTES = 64 * 1024;
/** Frames larger than this (an upper bound, before writing) go the general way. */
const MAX_FLAT_BYTES = 4096;

let chunk = new Uint8Array(CHUNK_BYTES);
let view = new DataView(chunk.buffer);
let pos = 0;

const utf8 = new TextEncoder();
const TWO_32 = 2 ** 32;

/** An upper bound of the bytes `value` takes, or -1 when it is not a scalar this writer takes. */
function bound(value: unknown): number {
  switch (typeof value) {
    case 'number':
      return 9;
    case 'string':
      return 5 + 3 * value.length;
    case 'boolean':
      return 1;
    case 'undefined':
      return 0;
    case 'object':
      return value === null ? 1 : -1;
    default:
      return -1;
  }
}

function writeString(s: string): void {
  const n = s.length;
  // ASCII (names, board ids): one byte a character, so the header is known before writing; a
  // non-ASCII character rewinds and the string goes through the UTF-8 encoder.
  const start = pos;
  writeStringHeader(n);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      pos = start;
      const bytes = utf8.encode(s);
      writeStringHeader(bytes.length);
      chunk.set(bytes, pos);
      pos += bytes.length;
      return;
    }
    chunk[pos++] = c;
  }
}

/** Keys and ops, encoded once: bounded, and emptied when full, so made-up keys cannot grow it. */
const keyBytes = new Map<string, Uint8Array>();
const KEYS_KEPT = 1024;

function writeKey(s: string): void {
  let bytes = keyBytes.get(s);
  if (!bytes) {
    const start = pos;
    writeString(s);
    bytes = chunk.slice(start, pos);
    if (keyBytes.size >= KEYS_KEPT) keyBytes.clear();
    keyBytes.set(s, bytes);
    return;
  }
  for (let i = 0; i < bytes.length; i++) chunk[pos++] = bytes[i]!;
}

function writeStringHeader(n: number): void {
  if (n < 0x20) chunk[pos++] = 0xa0 | n;
  else if (n < 0x100) {
    chunk[pos++] = 0xd9;
    chunk[pos++] = n;
  } else {
    chunk[pos++] = 0xda;
    chunk[pos++] = n >> 8;
    chunk[pos++] = n & 0xff;
  }
}

function writeNumber(v: number): void {
  if (v >>> 0 === v) {
    if (v < 0x80) chunk[pos++] = v;
    else if (v < 0x100) {
      chunk[pos++] = 0xcc;
      chunk[pos++] = v;
    } else if (v < 0x10000) {
      chunk[pos++] = 0xcd;
      chunk[pos++] = v >> 8;
      chunk[pos++] = v & 0xff;
    } else {
      chunk[pos++] = 0xce;
      view.setUint32(pos, v);
      pos += 4;
    }
  } else if (v >> 0 === v) {
    if (v >= -0x20) chunk[pos++] = v & 0xff;
    else if (v >= -0x80) {
      chunk[pos++] = 0xd0;
      chunk[pos++] = v & 0xff;
    } else if (v >= -0x8000) {
      chunk[pos++] = 0xd1;
      view.setInt16(pos, v);
      pos += 2;
    } else {
      chunk[pos++] = 0xd2;
      view.setInt32(pos, v);
      pos += 4;
    }
  } else if (Number.isSafeInteger(v)) {
    // Beyond 32 bits: int64, as codec.ts's widen makes msgpackr write it.
    const hi = Math.floor(v / TWO_32);
    chunk[pos++] = 0xd3;
    view.setInt32(pos, hi);
    view.setUint32(pos + 4, v - hi * TWO_32);
    pos += 8;
  } else {
    chunk[pos++] = 0xcb;
    view.setFloat64(pos, v);
    pos += 8;
  }
}

function writeScalar(v: unknown): void {
  if (typeof v === 'number') writeNumber(v);
  else if (typeof v === 'string') writeString(v);
  else if (v === true) chunk[pos++] = 0xc3;
  else if (v === false) chunk[pos++] = 0xc2;
  else chunk[pos++] = 0xc0;
}

/**
 * The bytes of `{ ...payload, op, rid }` (rid left out when undefined; keys whose value is
 * undefined left out), or undefined when the payload is not a flat map of scalars this writer
 * takes (then the caller encodes it the general way).
 */
export function packFlatReply(payload: object, op: string, rid: number | undefined): Uint8Array | undefined {
  const fields = payload as Record<string, unknown>;
  let size = 3 + bound(op) + 3 + (rid === undefined ? 0 : 13);
  let count = rid === undefined ? 1 : 2;
  for (const key in fields) {
    if (key === 'op' || key === 'rid') return undefined;
    const v = fields[key];
    const b = bound(v);
    if (b < 0) return undefined;
    if (v === undefined) continue;
    size += 5 + 3 * key.length + b;
    count++;
  }
  if (size > MAX_FLAT_BYTES) return undefined;
  if (pos + size > chunk.length) {
    chunk = new Uint8Array(CHUNK_BYTES);
    view = new DataView(chunk.buffer);
    pos = 0;
  }
  const start = pos;
  chunk[pos++] = 0xde;
  chunk[pos++] = count >> 8;
  chunk[pos++] = count & 0xff;
  for (const key in fields) {
    const v = fields[key];
    if (v === undefined) continue;
    writeKey(key);
    writeScalar(v);
  }
  writeKey('op');
  writeKey(op);
  if (rid !== undefined) {
    writeKey('rid');
    writeNumber(rid);
  }
  return chunk.subarray(start, pos);
}
