/**
 * The strict MessagePack decoder for what clients send. Standard types only; exactly one value,
 * nothing truncated or trailing (checkStandardMessagePack runs first). Unlike a general decoder it
 * keeps two facts a schema needs and a JavaScript number loses:
 *   - where a float was sent (`floats`, as paths like "score" or "after.total_score"), so a field
 *     the contract says is an integer can refuse `5.0` even though 5.0 === 5 once decoded;
 *   - that a map key was not a string: such an entry cannot name a field of the contract, so it is
 *     dropped as any unknown field is (a bin or map key must not fail the whole frame).
 * Strings must be valid UTF-8. Errors never carry a third-party decoder's internal message.
 *
 * Nesting deeper than MAX_DEPTH is not decoded but skipped, without recursion, and stands as
 * TOO_DEEP, which no schema accepts: a frame may nest thousands deep within its 4096 bytes, and
 * decoding that by recursion would overflow the stack or not depending on how far the JIT has
 * optimised the decoder (the same frame served once and refused the next time). The contract has
 * nothing nested that deep, so a known field holding it is refused and an unknown one dropped.
 */
import { DecodeError } from './codec.ts';
import { checkStandardMessagePack, scanValues } from './msgpack-scan.ts';

export interface Decoded {
  value: unknown;
  /** Paths (dot-joined keys and indexes) of every float in the value, in the order met. */
  floats: string[];
}

// ignoreBOM: a leading U+FEFF is part of the string as sent, not a byte-order mark to drop.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Keys that would reach an object's prototype if assigned; dropped like any unknown field. */
const UNSAFE_KEYS = new Set(['__proto__']);
/** Containers nested deeper than this are skipped (see above); far below any stack limit. */
const MAX_DEPTH = 64;
/** What a value nested past MAX_DEPTH decodes to: not a value any schema takes. */
export const TOO_DEEP: unique symbol = Symbol('nested too deeply');

class Reader {
  pos = 0;
  readonly floats: string[] = [];
  private depth = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** One value at `path` (undefined when a path is not worth tracking: inside a dropped entry). */
  value(path: string | undefined): unknown {
    const b = this.bytes[this.pos++]!;
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b <= 0x8f) return this.map(b & 0x0f, path);
    if (b <= 0x9f) return this.array(b & 0x0f, path);
    if (b <= 0xbf) return this.str(b & 0x1f);
    const v = this.view;
    const p = this.pos;
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return this.bin(v.getUint8(p), 1);
      case 0xc5: return this.bin(v.getUint16(p), 2);
      case 0xc6: return this.bin(v.getUint32(p), 4);
      case 0xca: this.pos += 4; return this.float(v.getFloat32(p), path);
      case 0xcb: this.pos += 8; return this.float(v.getFloat64(p), path);
      case 0xcc: this.pos += 1; return v.getUint8(p);
      case 0xcd: this.pos += 2; return v.getUint16(p);
      case 0xce: this.pos += 4; return v.getUint32(p);
      case 0xcf: this.pos += 8; return safe(v.getBigUint64(p));
      case 0xd0: this.pos += 1; return v.getInt8(p);
      case 0xd1: this.pos += 2; return v.getInt16(p);
      case 0xd2: this.pos += 4; return v.getInt32(p);
      case 0xd3: this.pos += 8; return safe(v.getBigInt64(p));
      case 0xd9: this.pos += 1; return this.str(v.getUint8(p));
      case 0xda: this.pos += 2; return this.str(v.getUint16(p));
      case 0xdb: this.pos += 4; return this.str(v.getUint32(p));
      case 0xdc: this.pos += 2; return this.array(v.getUint16(p), path);
      case 0xdd: this.pos += 4; return this.array(v.getUint32(p), path);
      case 0xde: this.pos += 2; return this.map(v.getUint16(p), path);
      case 0xdf: this.pos += 4; return this.map(v.getUint32(p), path);
      default:
        // checkStandardMessagePack refused these before decoding began.
        throw new DecodeError(`unexpected type byte 0x${b.toString(16)}`);
    }
  }

  private float(x: number, path: string | undefined): number {
    if (path !== undefined) this.floats.push(path);
    return x;
  }

  private str(n: number): string {
    const s = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    try {
      return utf8.decode(s);
    } catch {
      throw new DecodeError('a string is not valid UTF-8');
    }
  }

  private bin(n: number, header: number): Uint8Array {
    this.pos += header;
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private array(n: number, path: string | undefined): unknown[] | typeof TOO_DEEP {
    if (this.depth >= MAX_DEPTH) return this.skip(n);
    this.depth++;
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = this.value(path === undefined ? undefined : join(path, String(i)));
    this.depth--;
    return out;
  }

  private map(n: number, path: string | undefined): Record<string, unknown> | typeof TOO_DEEP {
    if (this.depth >= MAX_DEPTH) return this.skip(2 * n);
    this.depth++;
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const kb = this.bytes[this.pos]!;
      const stringKey = (kb >= 0xa0 && kb <= 0xbf) || kb === 0xd9 || kb === 0xda || kb === 0xdb;
      const key = this.value(undefined);
      const keep = stringKey && !UNSAFE_KEYS.has(key as string);
      const v = this.value(keep && path !== undefined ? join(path, key as string) : undefined);
      if (keep) out[key as string] = v;
    }
    this.depth--;
    return out;
  }

  /** Moves past `pending` values, nested ones included, without recursion (see scanValues). */
  private skip(pending: number): typeof TOO_DEEP {
    const end = scanValues(this.bytes, this.view, this.pos, pending);
    // checkStandardMessagePack passed these bytes whole, so this cannot fail.
    if (typeof end === 'string') throw new DecodeError(end);
    this.pos = end;
    return TOO_DEEP;
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** 64-bit integers within a double's safe range are numbers; others stay BigInt, which every schema refuses. */
function safe(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

export function decodeStrict(bytes: Uint8Array): Decoded {
  const problem = checkStandardMessagePack(bytes);
  if (problem) throw new DecodeError(problem);
  const r = new Reader(bytes);
  const value = r.value('');
  return { value, floats: r.floats };
}
