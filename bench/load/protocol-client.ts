/**
 * The load generator's request makers: real protocol frames (through protocol/), with the random
 * choices a game's traffic would make. Pure apart from the random source passed in.
 */
import { encode } from '../../protocol/index.ts';

/**
 * `leader`: submit number `seq` makes a new user with score leaderBase + seq, a new leader each time.
 * `ping`: the cheapest request there is, the ceiling for every other op on the same sockets.
 */
export type LoadOp = 'submit' | 'rank' | 'top' | 'around' | 'leader' | 'ping';

export interface RequestMix {
  op: LoadOp;
  /** Users are drawn from [userBase, userBase + users). */
  userBase: number;
  users: number;
  gameModes: string[];
  leaderBase?: number;
}

export function makeFrame(mix: RequestMix, rid: number, rand: () => number, uniq: string, seq: number): Uint8Array {
  const user_id = mix.userBase + Math.floor(rand() * mix.users);
  switch (mix.op) {
    case 'leader':
      return encode({ op: 'submit', rid, user_id: mix.userBase + seq, score: (mix.leaderBase ?? 0) + seq, game_mode: mix.gameModes[0]! });
    case 'submit':
      return encode({
        op: 'submit',
        rid,
        user_id,
        score: Math.floor(rand() * 1000),
        game_mode: mix.gameModes[Math.floor(rand() * mix.gameModes.length)]!,
        submission_id: uniq,
      });
    case 'rank':
      return encode({ op: 'rank', rid, user_id });
    case 'around':
      return encode({ op: 'around', rid, user_id, radius: 5 });
    case 'top':
      return encode({ op: 'top', rid, limit: 10 });
    case 'ping':
      return encode({ op: 'ping', rid });
  }
}

/** A small fast PRNG (mulberry32) so each worker's traffic is reproducible from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Reads `rid` and whether the reply is an error from a reply frame without decoding all of it:
 * the generator must not spend its CPU decoding top-10 lists it does not look at.
 * Replies are maps whose keys the server writes in a fixed order; this scans for the "rid" key.
 */
export function peekRid(bytes: Uint8Array): number | undefined {
  // "rid" as a fixstr key: a3 72 69 64, followed by a positive fixint, uint8/16/32. Replies end
  // with it (the server writes rid last): look there first, so a long reply is not scanned whole.
  for (let i = Math.max(0, bytes.length - 9); i + 4 < bytes.length; i++) {
    if (bytes[i] === 0xa3 && bytes[i + 1] === 0x72 && bytes[i + 2] === 0x69 && bytes[i + 3] === 0x64) {
      const b = bytes[i + 4]!;
      const end = b <= 0x7f ? i + 5 : b === 0xcc ? i + 6 : b === 0xcd ? i + 7 : b === 0xce ? i + 9 : -1;
      if (end === bytes.length) return ridAt(bytes, i + 4);
    }
  }
  for (let i = 0; i + 4 < bytes.length; i++) {
    if (bytes[i] === 0xa3 && bytes[i + 1] === 0x72 && bytes[i + 2] === 0x69 && bytes[i + 3] === 0x64) {
      const b = bytes[i + 4]!;
      if (b <= 0x7f) return b;
      if (b === 0xcc) return bytes[i + 5];
      if (b === 0xcd) return (bytes[i + 5]! << 8) | bytes[i + 6]!;
      if (b === 0xce) return ((bytes[i + 5]! << 24) >>> 0) + ((bytes[i + 6]! << 16) | (bytes[i + 7]! << 8) | bytes[i + 8]!);
    }
  }
  return undefined;
}

function ridAt(bytes: Uint8Array, at: number): number | undefined {
  const b = bytes[at]!;
  if (b <= 0x7f) return b;
  if (b === 0xcc) return bytes[at + 1];
  if (b === 0xcd) return (bytes[at + 1]! << 8) | bytes[at + 2]!;
  return ((bytes[at + 1]! << 24) >>> 0) + ((bytes[at + 2]! << 16) | (bytes[at + 3]! << 8) | bytes[at + 4]!);
}

const ERROR_OP = Uint8Array.from([0xa2, 0x6f, 0x70, 0xa5, 0x65, 0x72, 0x72, 0x6f, 0x72]); // "op": "error"

/** Whether a reply is an error frame: the server writes `op` first in those (toErrorFrame). */
export function isErrorReply(bytes: Uint8Array): boolean {
  // After a fixmap (1 byte) or map16 (3 bytes) header.
  const at = bytes[0]! >= 0x80 && bytes[0]! <= 0x8f ? 1 : bytes[0] === 0xde ? 3 : -1;
  if (at < 0) return false;
  for (let j = 0; j < ERROR_OP.length; j++) if (bytes[at + j] !== ERROR_OP[j]) return false;
  return true;
}
