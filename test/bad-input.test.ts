/**
 * Every bad-input class of the contract, over raw WebSocket frames and HTTP: the right error code,
 * the rid echoed only when it was valid, exactly one reply, and nothing committed.
 */
import { Packr } from 'msgpackr';
import postgres from 'postgres';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, encode, httpError, isMap } from '../protocol/index.ts';
import type { RunningApp } from '../server/app.ts';
import { http } from './support/http.ts';
import { startTestApp, token } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

type Frame = Record<string, unknown>;

// Packs anything msgpackr can (floats, NaN, nil, arrays) without the codec's int64 widening.
const packr = new Packr({ useRecords: false });
const pack = (v: unknown) => packr.pack(v);

/** A fixmap (< 16 keys) whose values are given as raw bytes, for encodings no encoder here produces. */
function rawMap(entries: [string, Uint8Array | number[]][]): Buffer {
  const parts: Buffer[] = [Buffer.from([0x80 | entries.length])];
  for (const [k, v] of entries) parts.push(pack(k), Buffer.from(v));
  return Buffer.concat(parts);
}
const u64 = (hi: number, lo: number) => [0xcf, ...be32(hi), ...be32(lo)];
const i64 = (hi: number, lo: number) => [0xd3, ...be32(hi), ...be32(lo)];
function be32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/** A raw `ws` client that sees every frame, including replies without a rid. */
class RawSocket {
  private readonly frames: Frame[] = [];
  private wake: (() => void) | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const f = isBinary ? decode(data) : { unexpected_text: data.toString() };
      this.frames.push(isMap(f) ? f : { not_a_map: f });
      this.wake?.();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static open(port: number, tok?: string): Promise<RawSocket> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${tok ? `?token=${tok}` : ''}`);
    const s = new RawSocket(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(s));
      // `on`, not `once`: an error after the open must not go unhandled; the close code tells the story.
      ws.on('error', reject);
    });
  }

  send(data: Uint8Array | string, binary = typeof data !== 'string'): void {
    this.ws.send(data, { binary });
  }

  async next(): Promise<Frame> {
    while (this.frames.length === 0) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no frame within 10 s')), 10_000);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.frames.shift()!;
  }

  /**
   * Sends `data`, then a ping with a sentinel rid, and returns every frame that is not that pong:
   * exactly one is expected. A second reply to an earlier frame would show up here too.
   */
  async exchange(data: Uint8Array | string, binary?: boolean): Promise<Frame[]> {
    const sentinel = 4_000_000_000 + ++RawSocket.pings;
    this.send(data, binary);
    this.send(encode({ op: 'ping', rid: sentinel }));
    const others: Frame[] = [];
    for (let pong = false; !pong || others.length === 0; ) {
      const f = await this.next();
      if (f.op === 'pong' && f.rid === sentinel) pong = true;
      else others.push(f);
    }
    return others;
  }
  private static pings = 0;
}

let stores: FreshStores;
let app: RunningApp;
let sock: RawSocket;
const serverToken = token('server');

beforeAll(async () => {
  stores = await freshStores();
  app = await startTestApp(stores);
  sock = await RawSocket.open(app.port, serverToken);
});

afterAll(async () => {
  sock?.ws.close();
  await app?.close();
  await stores?.cleanup();
});

const hex = (b: Uint8Array | string) => (typeof b === 'string' ? JSON.stringify(b) : Buffer.from(b).toString('hex'));

async function expectBadRequest(data: Uint8Array | string, rid: number | undefined, binary?: boolean): Promise<void> {
  const replies = await sock.exchange(data, binary);
  expect(replies, `reply to ${hex(data)}`).toHaveLength(1);
  const r = replies[0]!;
  expect(r, `reply to ${hex(data)}`).toMatchObject({ op: 'error', code: 'bad_request' });
  expect(typeof r.message).toBe('string');
  if (rid === undefined) expect('rid' in r, `reply to ${hex(data)} must carry no rid: ${JSON.stringify(r)}`).toBe(false);
  else expect(r.rid, `reply to ${hex(data)}`).toBe(rid);
}

describe('frames that are not a MessagePack map', () => {
  it('a text frame is bad_request without rid', async () => {
    await expectBadRequest(JSON.stringify({ op: 'ping', rid: 1 }), undefined);
    await expectBadRequest('', undefined);
  });

  it.each([
    ['not MessagePack (0xc1 is never used)', Buffer.from([0xc1])],
    ['empty', Buffer.alloc(0)],
    ['truncated map', Buffer.from(pack({ op: 'ping', rid: 5 })).subarray(0, 6)],
    ['truncated string', Buffer.from([0x81, 0xa2, 0x6f])],
    ['trailing bytes', Buffer.concat([pack({ op: 'ping', rid: 5 }), Buffer.from([0x00])])],
    ['two maps', Buffer.concat([pack({ op: 'ping', rid: 5 }), pack({ op: 'ping', rid: 6 })])],
    ['array', pack([{ op: 'ping', rid: 5 }])],
    ['string', pack('ping')],
    ['nil', Buffer.from([0xc0])],
    ['integer', pack(5)],
    ['binary', Buffer.from([0xc4, 0x01, 0x80])],
    // 0xc1 is "never used" in MessagePack: a map holding it, even in an unknown field, is not MessagePack.
    ['a map with the reserved byte 0xc1 as a value', rawMap([['op', pack('ping')], ['rid', pack(6)], ['x', [0xc1]]])],
  ])('%s is bad_request without rid', async (_label, bytes) => {
    await expectBadRequest(bytes, undefined);
  });
});

describe('extension types (the contract allows only standard MessagePack types)', () => {
  it.each([
    ['fixext1 type 0', [0xd4, 0x00, 0x00]],
    ['fixext1 type 5', [0xd4, 0x05, 0x00]],
    ['ext8 type 9', [0xc7, 0x01, 0x09, 0x00]],
  ])('a frame that is %s is bad_request', async (_label, bytes) => {
    await expectBadRequest(Buffer.from(bytes), undefined);
  });

  it('a msgpackr record (fixext 0x72 definition) is not accepted as a map', async () => {
    const record = Buffer.concat([Buffer.from([0xd4, 0x72, 0x40]), pack(['op', 'rid']), pack('ping'), pack(11)]);
    await expectBadRequest(record, undefined);
  });

  it('a msgpackr structured-clone id extension (0x69) wrapping a map is not accepted', async () => {
    const wrapped = Buffer.concat([Buffer.from([0xd6, 0x69, 0, 0, 0, 1]), pack({ op: 'ping', rid: 12 })]);
    await expectBadRequest(wrapped, undefined);
  });

  // msgpackr decodes fixext type 0 as `undefined`: a known field carrying it must not read as absent
  // (an ignored submission_id would count a retried submit twice). A frame that is not standard
  // MessagePack is refused whole, so not even its rid is trusted.
  const ext0 = [0xd4, 0x00, 0x00];
  it.each([
    ['limit', rawMap([['op', pack('top')], ['rid', pack(13)], ['limit', ext0]])],
    ['rid', rawMap([['op', pack('top')], ['rid', ext0]])],
    ['submission_id', rawMap([['op', pack('submit')], ['rid', pack(14)], ['user_id', pack(901)], ['score', pack(10)],
      ['game_mode', pack('ranked')], ['submission_id', ext0]])],
  ] as const)('an extension value as %s is bad_request, not a missing field', async (_label, frame) => {
    await expectBadRequest(frame, undefined);
  });

  it('an extension value in an unknown field is bad_request too', async () => {
    await expectBadRequest(rawMap([['op', pack('top')], ['rid', pack(15)], ['extra', [0xc7, 0x01, 0x73, 0x00]]]), undefined);
  });
});

describe('frame size', () => {
  function pingOfSize(size: number): Uint8Array {
    for (let n = size - 40; n < size; n++) {
      const b = encode({ op: 'ping', rid: 21, pad: 'x'.repeat(n) });
      if (b.length === size) return b;
    }
    throw new Error(`cannot build a ${size}-byte frame`);
  }

  it('a frame of exactly 4096 bytes is served', async () => {
    const s = await RawSocket.open(app.port);
    s.send(pingOfSize(4096));
    expect(await s.next()).toMatchObject({ op: 'pong', rid: 21 });
    s.ws.close();
  });

  it.each([
    ['4097-byte binary', () => pingOfSize(4097), true],
    ['4097-byte text', () => 'x'.repeat(4097), false],
    // Past uWS's own payload limit (64 KiB) too, where uWS would cut the connection itself.
    ['65537-byte binary', () => new Uint8Array(65537), true],
    ['100 KiB binary', () => encode({ op: 'ping', rid: 22, pad: 'x'.repeat(100 * 1024) }), true],
  ] as const)('a %s frame closes the socket with 1009', async (_label, build, binary) => {
    const s = await RawSocket.open(app.port);
    s.send(build(), binary);
    expect((await s.closed).code).toBe(1009);
  });
});

describe('op and rid', () => {
  it('missing, unknown or non-string op is bad_request with the rid echoed', async () => {
    await expectBadRequest(pack({ rid: 31 }), 31);
    await expectBadRequest(pack({ op: 'delete', rid: 32 }), 32);
    await expectBadRequest(pack({ op: 'PING', rid: 33 }), 33);
    await expectBadRequest(pack({ op: 'pong', rid: 34 }), 34);
    await expectBadRequest(pack({ op: 7, rid: 35 }), 35);
    await expectBadRequest(pack({ op: ['ping'], rid: 36 }), 36);
    await expectBadRequest(pack({ op: null, rid: 37 }), 37);
  });

  it.each([
    ['negative', pack(-1)],
    ['2^32', pack(2 ** 32)],
    ['2^32 as uint64', u64(1, 0)],
    ['2^64-1 as uint64', u64(0xffffffff, 0xffffffff)],
    ['negative int64', i64(0xffffffff, 0xffffffff)],
    ['float', pack(1.5)],
    ['NaN', pack(NaN)],
    ['string', pack('7')],
    ['boolean', pack(true)],
    ['nil', pack(null)],
  ])('a %s rid gets bad_request with no rid', async (_label, ridBytes) => {
    await expectBadRequest(rawMap([['op', pack('ping')], ['rid', ridBytes]]), undefined);
  });

  it('rid bounds 0 and 2^32-1 are echoed, in any integer encoding', async () => {
    for (const [ridBytes, rid] of [
      [pack(0), 0],
      [pack(0xffffffff), 0xffffffff],
      [u64(0, 0xffffffff), 0xffffffff],
      [i64(0, 41), 41],
    ] as const) {
      sock.send(rawMap([['op', pack('ping')], ['rid', ridBytes]]));
      expect(await sock.next()).toMatchObject({ op: 'pong', rid });
    }
  });
});

describe('field violations are bad_request with the rid', () => {
  const submit = { op: 'submit', user_id: 900, score: 10, game_mode: 'ranked' };
  const show = (v: unknown) => (typeof v === 'number' ? String(v) : JSON.stringify(v));
  const vary = (base: Frame, field: string, values: unknown[]): [string, Frame][] =>
    values.map((v) => [`${String(base.op)} ${field} ${show(v)}`, { ...base, [field]: v }]);
  const without = (base: Frame, field: string): [string, Frame] => {
    const { [field]: _dropped, ...rest } = base;
    return [`${String(base.op)} without ${field}`, rest];
  };
  const cp33 = 'a'.repeat(33);
  const cases: [string, Frame][] = [
    ...vary(submit, 'user_id', [0, -1, 2 ** 53, 1.5, '5', null, true]),
    ...vary(submit, 'score', [-1, 1e9 + 1, 1.5, NaN, Infinity, -Infinity, '10']),
    ...vary(submit, 'game_mode', ['Ranked', cp33, '', 'two words', 'mode:x', 5]),
    ...vary(submit, 'username', ['', cp33, '😀'.repeat(33), 'bell\u0007', 'line\nbreak', 'nul\u0000', 'c1\u0085', 42, null]),
    ...vary(submit, 'submission_id', ['', 'x'.repeat(65), '😀'.repeat(65), 7]),
    ...['user_id', 'score', 'game_mode'].map((f) => without(submit, f)),
    ...['top', 'rank', 'around', 'subscribe', 'unsubscribe'].flatMap((op) =>
      vary({ op, user_id: 900 }, 'board', ['mode:', 'MODE:x', 'weekly', 'mode:UP', 'Global', 'global ', `mode:${cp33}`, 3]),
    ),
    ['rank without user_id or username', { op: 'rank' }],
    ...vary({ op: 'rank' }, 'username', ['', cp33]),
    ...vary({ op: 'top' }, 'limit', [0, 101, 1.5, '10']),
    ...vary({ op: 'subscribe' }, 'limit', [0, 101]),
    ...vary({ op: 'around', user_id: 900 }, 'radius', [-1, 51, 2.5]),
    ...vary({ op: 'history', user_id: 900 }, 'limit', [0, 101]),
    ...vary({ op: 'history', user_id: 900 }, 'offset', [-1, 0.5, '0']),
    ['around without user_id', { op: 'around' }],
    ['history without user_id', { op: 'history' }],
  ];

  it.each(cases.map(([label, frame], i) => [label, frame, 100 + i] as const))('%s', async (_label, frame, rid) => {
    await expectBadRequest(pack({ ...frame, rid }), rid);
  });

  it.each([
    ['2^53 as uint64', u64(0x200000, 0)],
    ['2^63 as uint64', u64(0x80000000, 0)],
    ['2^64-1 as uint64', u64(0xffffffff, 0xffffffff)],
    ['-1 as int64', i64(0xffffffff, 0xffffffff)],
    ['-2^63 as int64', i64(0x80000000, 0)],
  ])('user_id %s is bad_request', async (_label, idBytes) => {
    const frame = rawMap([['op', pack('submit')], ['rid', pack(77)], ['user_id', idBytes], ['score', pack(1)], ['game_mode', pack('ranked')]]);
    await expectBadRequest(frame, 77);
  });
});

describe('valid edge cases are accepted', () => {
  it('a username of 32 astral code points (64 UTF-16 units) and a 64-code-point submission_id', async () => {
    const name = '😀'.repeat(32);
    expect(name.length).toBe(64);
    sock.send(encode({ op: 'submit', rid: 1, user_id: 1, score: 5, game_mode: 'ranked', username: name, submission_id: '🎮'.repeat(64) }));
    expect(await sock.next()).toMatchObject({ op: 'submit', rid: 1, user_id: 1, total_score: 5, duplicate: false });
    sock.send(encode({ op: 'rank', rid: 2, user_id: 1 }));
    expect(await sock.next()).toMatchObject({ op: 'rank', rid: 2, username: name });
  });

  it('unknown extra fields are ignored', async () => {
    sock.send(encode({ op: 'submit', rid: 3, user_id: 2, score: 7, game_mode: 'extras', colour: 'red', nested: { a: [1, null] } }));
    expect(await sock.next()).toMatchObject({ op: 'submit', rid: 3, user_id: 2, total_score: 7 });
    sock.send(encode({ op: 'top', rid: 4, board: 'mode:extras', limit: 1, future_field: 1.5 }));
    const top = await sock.next();
    expect(top).toMatchObject({ op: 'top', rid: 4, board: 'mode:extras' });
    expect((top.entries as Frame[]).map((e) => e.user_id)).toEqual([2]);
  });

  it('integers arrive in any MessagePack integer encoding', async () => {
    const encodings = [[0x02], [0xcc, 2], [0xcd, 0, 2], [0xce, 0, 0, 0, 2], u64(0, 2), [0xd0, 2], [0xd1, 0, 2], [0xd2, 0, 0, 0, 2], i64(0, 2)];
    for (const [i, idBytes] of encodings.entries()) {
      sock.send(rawMap([['op', pack('rank')], ['rid', pack(50 + i)], ['user_id', idBytes]]));
      expect(await sock.next(), `encoding ${hex(Buffer.from(idBytes))}`).toMatchObject({ op: 'rank', rid: 50 + i, user_id: 2 });
    }
  });
});

describe('HTTP', () => {
  function expectHttpError(res: { status: number; body: unknown }, status: number, code: string): void {
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(httpError.safeParse(res.body).success, JSON.stringify(res.body)).toBe(true);
    expect(res.body).toMatchObject({ error: { code } });
  }
  const post = (raw: string) => http(app.port, 'POST', '/api/leaderboard/submit', { raw, token: serverToken });

  it.each(['{"user_id": 900,', 'not json', '', '[{"user_id":900,"score":1,"game_mode":"ranked"}]', '"x"', '5', 'null', 'true'])(
    'a body that is not a JSON object (%j) is 400',
    async (raw) => {
      expectHttpError(await post(raw), 400, 'bad_request');
    },
  );

  it('a body over 16 KiB is 400 even when otherwise valid', async () => {
    const raw = JSON.stringify({ user_id: 902, score: 1, game_mode: 'ranked', pad: 'x'.repeat(16 * 1024) });
    expectHttpError(await post(raw), 400, 'bad_request');
  });

  it('field violations in the body are 400', async () => {
    for (const body of [
      { user_id: 900, score: -1, game_mode: 'ranked' },
      { user_id: '900', score: 1, game_mode: 'ranked' },
      { user_id: 900, score: 1, game_mode: 'Ranked' },
      { user_id: 900, score: 1, game_mode: 'ranked', username: 'a\u0007' },
      { user_id: 900, score: 1.5, game_mode: 'ranked' },
    ]) {
      expectHttpError(await http(app.port, 'POST', '/api/leaderboard/submit', { body, token: serverToken }), 400, 'bad_request');
    }
  });

  it.each([
    '/api/leaderboard/top?limit=abc',
    '/api/leaderboard/top?limit=0',
    '/api/leaderboard/top?limit=101',
    '/api/leaderboard/top?limit=1.5',
    '/api/leaderboard/top?board=weekly',
    '/api/leaderboard/top?board=mode%3A',
    '/api/leaderboard/rank/abc',
    '/api/leaderboard/rank/0',
    '/api/leaderboard/rank/-1',
    '/api/leaderboard/rank/9007199254740992',
    '/api/leaderboard/around/1?radius=51',
    '/api/leaderboard/around/1?radius=-1',
    '/api/users/abc/history',
    '/api/users/1/history?offset=-1',
    '/api/users/1/history?limit=0',
  ])('GET %s is 400', async (path) => {
    expectHttpError(await http(app.port, 'GET', path), 400, 'bad_request');
  });

  it.each([
    ['GET', '/api/leaderboard/nope'],
    ['GET', '/api/nope'],
    ['POST', '/api/leaderboard/top'],
    ['DELETE', '/api/leaderboard/submit'],
  ])('%s %s is 404 not_found', async (method, path) => {
    expectHttpError(await http(app.port, method, path), 404, 'not_found');
  });
});

describe('nothing was committed', () => {
  // Runs last: every refused request above used user ids other than 1 and 2.
  it('the database holds only the valid submits', async () => {
    const sql = postgres(stores.databaseUrl, { max: 1, onnotice: () => undefined });
    try {
      const users = await sql`SELECT user_id::text AS id, username FROM users ORDER BY user_id`;
      expect(users.map((u) => ({ ...u }))).toEqual([
        { id: '1', username: '😀'.repeat(32) },
        { id: '2', username: 'player2' },
      ]);
      const sessions = await sql`SELECT user_id::text AS id, score::int, game_mode FROM game_sessions ORDER BY game_sessions.id`;
      expect(sessions.map((s) => ({ ...s }))).toEqual([
        { id: '1', score: 5, game_mode: 'ranked' },
        { id: '2', score: 7, game_mode: 'extras' },
      ]);
      const boards = await sql`SELECT board FROM boards WHERE board !~ ':(daily|weekly|monthly):' ORDER BY board`; // all-time boards
      expect(boards.map((b) => b.board)).toEqual(['global', 'mode:extras', 'mode:ranked']);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});
