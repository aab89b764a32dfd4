/**
 * A structural check of MessagePack bytes before they are decoded: exactly one value, nothing
 * truncated or trailing, and only standard types. msgpackr alone would accept its own records,
 * structured-clone wrappers and extensions (some decoding to `undefined`, which a schema would take
 * for an absent field) and the never-used byte 0xc1; this refuses all of them.
 */

/** Returns a reason the bytes are not one standard MessagePack value, or undefined when they are. */
export function checkStandardMessagePack(bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = scanValues(bytes, view, 0, 1);
  if (typeof end === 'string') return end;
  if (end !== bytes.byteLength) return `trailing bytes after the MessagePack value (${bytes.byteLength - end})`;
  return undefined;
}

/**
 * Moves past `pending` standard MessagePack values from `pos` (nested ones included, without
 * recursion): the position after them, or a reason they are not standard or not all there.
 * `view` is a DataView over exactly `bytes`.
 */
export function scanValues(bytes: Uint8Array, view: DataView, pos: number, pending: number): number | string {
  const end = bytes.byteLength;
  // Every value takes at least one byte, so this loop is bounded by the length of the input.
  while (pending > 0) {
    if (pos >= end) return 'truncated MessagePack data';
    const b = bytes[pos++]!;
    pending--;
    let skip = 0;
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) {
      skip = 0; // fixints, nil, booleans
    } else if (b <= 0x8f) {
      pending += 2 * (b & 0x0f);
    } else if (b <= 0x9f) {
      pending += b & 0x0f;
    } else if (b <= 0xbf) {
      skip = b & 0x1f;
    } else {
      switch (b) {
        case 0xc4: case 0xd9: // bin 8, str 8
          if (pos + 1 > end) return 'truncated MessagePack data';
          skip = view.getUint8(pos); pos += 1; break;
        case 0xc5: case 0xda: // bin 16, str 16
          if (pos + 2 > end) return 'truncated MessagePack data';
          skip = view.getUint16(pos); pos += 2; break;
        case 0xc6: case 0xdb: // bin 32, str 32
          if (pos + 4 > end) return 'truncated MessagePack data';
          skip = view.getUint32(pos); pos += 4; break;
        case 0xca: skip = 4; break; // float 32
        case 0xcb: skip = 8; break; // float 64
        case 0xcc: case 0xd0: skip = 1; break;
        case 0xcd: case 0xd1: skip = 2; break;
        case 0xce: case 0xd2: skip = 4; break;
        case 0xcf: case 0xd3: skip = 8; break;
        case 0xdc: case 0xde: // array 16, map 16
          if (pos + 2 > end) return 'truncated MessagePack data';
          pending += view.getUint16(pos) * (b === 0xde ? 2 : 1); pos += 2; break;
        case 0xdd: case 0xdf: // array 32, map 32
          if (pos + 4 > end) return 'truncated MessagePack data';
          pending += view.getUint32(pos) * (b === 0xdf ? 2 : 1); pos += 4; break;
        case 0xc1:
          return 'byte 0xc1 is never used in MessagePack';
        default: // 0xc7-0xc9, 0xd4-0xd8: extension types
          return `extension types are not accepted (type byte 0x${b.toString(16)})`;
      }
    }
    pos += skip;
    if (pos > end) return 'truncated MessagePack data';
  }
  return pos;
}
