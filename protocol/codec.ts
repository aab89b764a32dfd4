/**
 * The MessagePack codec: standard types only (no msgpackr records, structures or extensions), so
 * clients in any language can speak it. Integers beyond 32 bits are written as int64, not float64,
 * because strict decoders (Go, C#) refuse a float where they expect an integer.
 */
import { Packr } from 'msgpackr';
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

export function encode(value: unknown): Uint8Array {
  return packr.pack(widen(value));
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
