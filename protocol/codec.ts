/**
 * The MessagePack codec: standard types only (no msgpackr records, structures or extensions), so
 * clients in any language can speak it. Integers beyond 32 bits are written as int64, not float64,
 * because strict decoders (Go, C#) refuse a float where they expect an integer.
 */
import { Packr } from 'msgpackr';
import { packFlatReply } from './flat-pack.ts';
import { checkStandardMessagePack } from './msgpack-scan.ts';

// int64AsType 'auto': 64-bit integers that fit in a double's safe range decode as numbers; larger
// ones decode as BigInt, which every schema then refuses as out of range. ('auto' is supported by
// msgpackr 2.x but missing from its type declarations.)
const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'auto' as 'number',
  bundleStrings: false,
});

const INT32_MIN = -0x8000_0000;
const UINT32_MAX = 0xffff_ffff;

function widen(value: unknown): unknown {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && (value > UINT32_MAX || value < INT32_MIN) ? BigInt(value) : value;
  }
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const w = widen(value[i]);
      if (w !== value[i]) (out ??= value.slice())[i] = w;
    }
    return out ?? value;
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    let out: Record<string, unknown> | undefined;
    for (const key in value) {
      const v = (value as Record<string, unknown>)[key];
      const w = widen(v);
      if (w !== v) (out ??= { ...(value as Record<string, unknown>) })[key] = w;
    }
    return out ?? value;
  }
  return value;
}

/** Values sent many times unchanged: encoded once, on first use (see encodeOnce). */
const reused = new WeakMap<object, Uint8Array | null>();

/**
 * Marks an object or array that many frames will carry unchanged (a board's top rows): the first
 * frame that carries it as one of its fields encodes it, later frames copy those bytes. The value
 * must not be mutated afterwards.
 */
export function encodeOnce<T extends object>(value: T): T {
  if (!reused.has(value)) reused.set(value, null);
  return value;
}

export function encode(value: unknown): Uint8Array {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const key in value) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== null && typeof v === 'object' && reused.has(v)) return encodeReusing(value as Record<string, unknown>);
    }
  }
  return packr.pack(widen(value));
}

/**
 * Short strings a frame repeats (its keys, op names, board ids), encoded once: bounded, and
 * emptied when full, so made-up board names cannot grow it.
 */
const shortStrings = new Map<string, Uint8Array>();
const SHORT_STRING_MAX = 64;
const SHORT_STRINGS_KEPT = 1024;

/** `v` as packr.pack writes it, without a pack call for a short string or a small whole number. */
function packScalar(v: unknown): Uint8Array {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff) {
    // Positive fixint, uint8, uint16: the forms msgpackr picks for these.
    if (v < 0x80) return Uint8Array.of(v);
    if (v < 0x100) return Uint8Array.of(0xcc, v);
    return Uint8Array.of(0xcd, v >> 8, v & 0xff);
  }
  if (typeof v === 'string' && v.length <= SHORT_STRING_MAX) {
    let bytes = shortStrings.get(v);
    if (!bytes) {
      if (shortStrings.size >= SHORT_STRINGS_KEPT) shortStrings.clear();
      bytes = packr.pack(v).slice() as Uint8Array;
      shortStrings.set(v, bytes);
    }
    return bytes;
  }
  return packr.pack(widen(v));
}

/** A map frame with some fields already encoded: the same bytes `packr.pack` would write. */
function encodeReusing(frame: Record<string, unknown>): Uint8Array {
  const keys = Object.keys(frame).filter((k) => frame[k] !== undefined);
  // A map16 header, as msgpackr writes for every object.
  const parts: Uint8Array[] = [Uint8Array.of(0xde, keys.length >> 8, keys.length & 0xff)];
  for (const key of keys) {
    parts.push(packScalar(key));
    const v = frame[key];
    if (v !== null && typeof v === 'object' && reused.has(v)) {
      let bytes = reused.get(v);
      if (!bytes) {
        // Typed here: without Node's types (the SDK's browser build) msgpackr's Buffer is unknown.
        bytes = packr.pack(widen(v)).slice() as Uint8Array;
        reused.set(v, bytes);
      }
      parts.push(bytes);
    } else {
      parts.push(packScalar(v));
    }
  }
  return concat(parts);
}

/** Encodings of a marked reply payload with its op (and the rid key), by `op` and whether a rid follows. */
const replyHeads = new WeakMap<object, Map<string, Uint8Array>>();

/**
 * The bytes of `{ ...payload, op, rid }` (rid left out when undefined), as `encode` writes them.
 * A payload marked with encodeOnce (a `top` reply many requests share) is encoded once with its op
 * and the rid key, and each reply only appends its rid.
 */
export function encodeReply(payload: object, op: string, rid: number | undefined): Uint8Array {
  if (!reused.has(payload)) return packFlatReply(payload, op, rid) ?? encode(rid === undefined ? { ...payload, op } : { ...payload, op, rid });
  if (rid !== undefined && !(Number.isInteger(rid) && rid >= 0 && rid <= 0xffff)) return encode({ ...payload, op, rid });
  let heads = replyHeads.get(payload);
  if (!heads) replyHeads.set(payload, (heads = new Map()));
  const which = rid === undefined ? op : `${op}\u0000rid`;
  let head = heads.get(which);
  if (!head) {
    const fields = { ...(payload as Record<string, unknown>), op } as Record<string, unknown>;
    const whole = encodeReusing(rid === undefined ? fields : { ...fields, rid: 0 });
    // Everything but the rid's value, which is the last byte for rid 0 (a positive fixint).
    head = rid === undefined ? whole : whole.slice(0, whole.length - 1);
    heads.set(which, head);
  }
  return rid === undefined ? head : concat([head, packScalar(rid)]);
}

/** Buffer.concat without Buffer: the codec also runs in browsers (the client SDK). */
function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export class DecodeError extends Error {}

/**
 * Decodes exactly one standard MessagePack value; trailing bytes, truncation, extension types and
 * the unused byte 0xc1 throw DecodeError.
 */
export function decode(bytes: Uint8Array): unknown {
  const problem = checkStandardMessagePack(bytes);
  if (problem) throw new DecodeError(problem);
  try {
    return packr.unpack(bytes);
  } catch (err) {
    throw new DecodeError(err instanceof Error ? err.message : String(err));
  }
}

/** True for a decoded MessagePack map (as opposed to an array, scalar, binary or null). */
export function isMap(value: unknown): value is Record<string, unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}
