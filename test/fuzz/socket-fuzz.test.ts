/**
 * Socket-level fuzz against a real in-process server: 20 sockets (half with a server token, half
 * anonymous) send random, hand-built and mutated frames with valid requests mixed in, bounded by
 * count and time. Every frame gets exactly one reply, every frame the server sends is a valid
 * frame and none is `internal`; the server logs no error; afterwards it still answers correctly,
 * holds no socket or subscription of the run, and the database holds exactly the valid submits.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { pino } from 'pino';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES, OPS, REPLY_SCHEMAS, decode, diffFrame, encode, errorFrame, isMap, snapshotFrame, type Op } from '../../protocol/index.ts';
import { startApp, type RunningApp } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { parseFrame, type ParsedFrame } from '../../server/frames.ts';
import type { Sql } from '../../server/store/db.ts';
import { cat, encodeFrame, frameLike, mutate, mutation, rawStr, rawValue, validFrame } from '../support/frame-arbitraries.ts';
import { openSql } from '../support/index-state.ts';
import { connectWs, eventually, storeEnv, token } from '../support/servers.ts';
import { freshStores, type FreshStores } from '../support/stores.ts';

const SOCKETS = 20;
const MAX_FRAMES = 300_000;
const MAX_MS = 15_000;
/** Frames each socket keeps in flight. */
const WINDOW = 32;
/** One frame in this many is a valid request of ours; fuzz frames never use rids from here up. */
const VALID_EVERY = 10;
const OUR_RIDS = 3_000_000_000;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);

interface Probe {
  data: Uint8Array | string;
  parsed: ParsedFrame;
}
interface Ours {
  op: Op;
  expect: (frame: Record<string, unknown>) => string | undefined;
  submit?: { user_id: number; score: number; game_mode: string; submission_id: string };
}

/** A fuzz frame may be sent unless it is a valid submit (only our own submits may write) or uses our rids. */
function probe(data: Uint8Array | string): Probe | undefined {
  if (typeof data !== 'string' && data.length > MAX_FRAME_BYTES) return undefined;
  const parsed = parseFrame(typeof data === 'string' ? Buffer.from(data) : data, typeof data !== 'string');
  if ((parsed.ok && parsed.op === 'submit') || (parsed.rid ?? 0) >= OUR_RIDS) return undefined;
  return { data, parsed };
}

function corpus(): Probe[] {
  const opts = (numRuns: number) => ({ numRuns, seed: SEED });
  const frames: (Uint8Array | string)[] = [
    ...fc.sample(frameLike, opts(4000)),
    ...fc.sample(fc.tuple(validFrame, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([f, ms]) => mutate(encodeFrame(f), ms)), opts(4000)),
    ...fc.sample(validFrame.map(encodeFrame), opts(1500)),
    ...fc.sample(rawValue, opts(800)),
    ...fc.sample(fc.uint8Array({ maxLength: 200 }), opts(800)),
    ...fc.sample(fc.string({ unit: 'binary', maxLength: 60 }), opts(300)), // text frames
    // Deep nesting in an unknown field (served) and as the frame itself (refused).
    ...[10, 500, 2000, 4000].flatMap((d) => [cat([0x83], rawStr('op', 0), rawStr('ping', 0), rawStr('rid', 0), [1], rawStr('x', 0), Buffer.alloc(d, 0x91), [0xc0]), Buffer.alloc(d, 0x91)]),
  ];
  return frames.map(probe).filter((p): p is Probe => p !== undefined);
}

/** Checks one frame from the server; returns what it was ('push', an error code or an op), or throws. */
function classify(frame: unknown): { kind: string; rid: number | undefined } {
  if (!isMap(frame)) throw new Error(`not a map: ${JSON.stringify(frame)}`);
  const { op, rid, ...payload } = frame;
  const ok = (r: { success: boolean; error?: unknown }) => {
    if (!r.success) throw new Error(`invalid ${String(op)} frame ${JSON.stringify(frame)}: ${JSON.stringify(r.error)}`);
  };
  if (op === 'diff' || op === 'snapshot') {
    ok((op === 'diff' ? diffFrame : snapshotFrame).safeParse(frame));
    return { kind: 'push', rid: undefined };
  }
  if (op === 'error') {
    ok(errorFrame.safeParse(frame));
    return { kind: String(frame.code), rid: rid as number | undefined };
  }
  const replyOp = op === 'pong' ? 'ping' : (op as Op);
  if (op === 'ping' || !(OPS as readonly unknown[]).includes(replyOp)) throw new Error(`unknown op in ${JSON.stringify(frame)}`);
  ok(REPLY_SCHEMAS[replyOp].safeParse(payload));
  if (rid !== undefined && !(Number.isInteger(rid) && (rid as number) >= 0 && (rid as number) <= 0xffff_ffff)) throw new Error(`bad rid in ${JSON.stringify(frame)}`);
  return { kind: replyOp, rid: rid as number | undefined };
}

/** One cheap random mutation (a flipped bit, a truncation or an inserted byte), for frames on the way out. */
function quickMutate(b: Uint8Array): Uint8Array {
  const at = Math.floor(Math.random() * (b.length + 1));
  const roll = Math.random();
  if (roll < 0.4 && b.length > 0) {
    const c = Uint8Array.from(b);
    c[at % b.length]! ^= 1 << Math.floor(Math.random() * 8);
    return c;
  }
  if (roll < 0.7) return b.subarray(0, at);
  return cat(b.subarray(0, at), [Math.floor(Math.random() * 256)], b.subarray(at));
}

class FuzzSocket {
  sent = 0;
  replies = 0;
  predictedBad = 0;
  readonly kinds = new Map<string, number>();
  readonly problems: string[] = [];
  readonly ours = new Map<number, Ours>();
  /**
   * Fuzz frames parseFrame accepted, by rid (the last few of each: fuzz rids repeat): a
   * bad_request under such a rid is reported with the bytes of every frame it may answer.
   */
  private readonly acceptedByRid = new Map<number, (Uint8Array | string)[]>();
  readonly surprises: string[] = [];
  /** Every frame sent that parseFrame accepted, in order: written out when the refusal count is off. */
  readonly acceptedSent: (Uint8Array | string)[] = [];
  closeCode: number | undefined;
  private running = true;

  constructor(
    readonly ws: WebSocket,
    readonly trusted: boolean,
    private readonly run: Run,
  ) {
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(data, isBinary));
    ws.on('close', (code) => (this.closeCode = code));
  }

  static open(port: number, tok: string | undefined, run: Run): Promise<FuzzSocket> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${tok ? `?token=${tok}` : ''}`);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new FuzzSocket(ws, tok !== undefined, run)));
      ws.once('error', reject);
    });
  }

  get outstanding(): number {
    return this.sent - this.replies;
  }

  stop(): void {
    this.running = false;
  }

  pump(): void {
    while (this.running && this.closeCode === undefined && this.outstanding < WINDOW && this.run.take()) {
      if (this.sent % VALID_EVERY === 0) this.sendOurs();
      else this.sendFuzz();
    }
  }

  private sendFuzz(): void {
    let p: Probe | undefined;
    while (!p) {
      const base = this.run.pick();
      // A third of the frames get one more random mutation on the way out.
      p = typeof base.data === 'string' || Math.random() > 0.33 ? base : probe(quickMutate(base.data));
    }
    if (!p.parsed.ok) this.predictedBad++;
    else this.acceptedSent.push(p.data);
    if (p.parsed.ok && p.parsed.rid !== undefined) {
      const seen = this.acceptedByRid.get(p.parsed.rid) ?? [];
      seen.push(p.data);
      this.acceptedByRid.set(p.parsed.rid, seen.slice(-4));
    }
    this.ws.send(p.data, { binary: typeof p.data !== 'string' });
    this.sent++;
  }

  private sendOurs(): void {
    const rid = this.run.nextRid();
    const n = rid - OUR_RIDS;
    const user_id = 1 + (n % 40);
    const roll = Math.random();
    let ours: Ours;
    if (roll < 0.5) {
      const submit = { user_id, score: n % 1000, game_mode: n % 3 ? 'fuzz' : 'fuzz_b', submission_id: `fz-${n}` };
      const want = this.trusted ? 'submit' : 'unauthorized';
      const expect = (f: Record<string, unknown>) => {
        const got = f.op === 'error' ? String(f.code) : f.op === 'submit' && f.user_id === user_id && f.duplicate === false ? 'submit' : `op ${String(f.op)}`;
        return got === want ? undefined : `wanted ${want}`;
      };
      ours = { op: 'submit', submit, expect };
      if (this.trusted) this.run.submitted.push(submit);
      this.ws.send(encode({ op: 'submit', rid, ...submit }));
    } else {
      const [op, fields]: [Op, object] = roll < 0.7 ? ['top', { board: 'mode:fuzz', limit: 5 }] : roll < 0.85 ? ['rank', { user_id }] : ['ping', {}];
      const want = op === 'ping' ? 'pong' : op;
      ours = { op, expect: (f) => (f.op === want || (op === 'rank' && f.code === 'not_found') ? undefined : `wanted ${want}`) };
      this.ws.send(encode({ ...fields, op, rid }));
    }
    this.ours.set(rid, ours);
    this.sent++;
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    try {
      if (!isBinary) throw new Error(`a text frame: ${data.toString().slice(0, 80)}`);
      const frame = decode(data);
      const { kind, rid } = classify(frame);
      this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
      if (kind === 'push') return;
      this.replies++;
      const accepted = rid === undefined ? undefined : this.acceptedByRid.get(rid);
      if (kind === 'bad_request' && accepted !== undefined && this.surprises.length < 5) {
        const bytes = accepted.map((a) => (typeof a === 'string' ? `text ${JSON.stringify(a)}` : Buffer.from(a).toString('hex')));
        this.surprises.push(`rid ${rid}: ${bytes.join(' or ')} -> ${JSON.stringify(frame)}`);
      }
      const ours = rid === undefined ? undefined : this.ours.get(rid);
      if (ours) {
        this.ours.delete(rid!);
        const wrong = ours.expect(frame as Record<string, unknown>);
        if (wrong) this.problems.push(`${ours.op} rid ${rid}: ${wrong}, got ${JSON.stringify(frame)}`);
        else if (ours.submit && this.trusted) this.run.acked.push(ours.submit);
      }
    } catch (err) {
      this.replies++;
      if (this.problems.length < 20) this.problems.push((err as Error).message.slice(0, 400));
    }
    this.pump();
  }
}

/** Writes a socket's accepted frames (hex, or JSON for text frames, one a line) under test-artifacts/; returns the path. */
function keepAccepted(i: number, s: FuzzSocket): string {
  const dir = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir}socket-fuzz-${SEED}-socket${i}${s.trusted ? '-trusted' : ''}.txt`;
  writeFileSync(file, s.acceptedSent.map((d) => (typeof d === 'string' ? JSON.stringify(d) : Buffer.from(d).toString('hex'))).join('\n') + '\n');
  return file;
}

/** Heap in use after a full collection (gc made callable for this measurement only). */
function liveHeap(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

class Run {
  total = 0;
  private rid = OUR_RIDS;
  readonly submitted: NonNullable<Ours['submit']>[] = [];
  readonly acked: NonNullable<Ours['submit']>[] = [];
  constructor(
    private readonly probes: Probe[],
    private readonly deadline: number,
  ) {}
  take(): boolean {
    if (this.total >= MAX_FRAMES || Date.now() > this.deadline) return false;
    this.total++;
    return true;
  }
  pick(): Probe {
    return this.probes[Math.floor(Math.random() * this.probes.length)]!;
  }
  nextRid(): number {
    return this.rid++;
  }
}

let stores: FreshStores;
let app: RunningApp;
let sql: Sql;
const logged: { level: number; msg: string }[] = [];

beforeAll(async () => {
  stores = await freshStores();
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logged.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  // Warnings and errors are kept to be checked; the limits stay off as in every test server (storeEnv).
  app = await startApp(loadConfig(storeEnv(stores)), pino({ level: 'warn' }, sink));
  await app.indexReady;
  sql = openSql(stores.databaseUrl);
});

afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await app?.close();
  await stores?.cleanup();
});

describe(`socket fuzz (seed ${SEED})`, () => {
  it('every frame gets one valid reply, never internal; afterwards the server is clean and correct', async () => {
    const probes = corpus();
    const [rssBefore, heapBefore] = [process.memoryUsage().rss, liveHeap()];
    const run = new Run(probes, Date.now() + MAX_MS);
    const socks = await Promise.all(Array.from({ length: SOCKETS }, (_, i) => FuzzSocket.open(app.port, i % 2 ? token('server', `fuzz-${i}`) : undefined, run)));
    const started = Date.now();
    for (const s of socks) s.pump();
    await eventually('the fuzz budget is spent', () => run.total >= MAX_FRAMES || Date.now() > started + MAX_MS, MAX_MS + 5000);
    for (const s of socks) s.stop();
    await eventually('every frame answered', () => socks.every((s) => s.outstanding === 0 || s.closeCode !== undefined), 20_000);
    const ms = Date.now() - started;

    const kinds = new Map<string, number>();
    for (const s of socks) for (const [k, n] of s.kinds) kinds.set(k, (kinds.get(k) ?? 0) + n);
    const sent = socks.reduce((a, s) => a + s.sent, 0);
    console.info(
      `socket fuzz: ${sent} frames over ${SOCKETS} sockets in ${ms} ms (${Math.round((sent * 1000) / ms)}/s), ${probes.length} distinct probes, ` +
        `${run.acked.length} valid submits acknowledged; replies by kind: ${JSON.stringify(Object.fromEntries([...kinds].sort((a, b) => b[1] - a[1])))}`,
    );
    expect(sent).toBeGreaterThan(20_000);
    for (const [i, s] of socks.entries()) {
      expect(s.closeCode, `socket ${i} closed during the run`).toBeUndefined();
      expect(s.problems, `socket ${i}`).toEqual([]);
      expect(s.replies, `socket ${i}: one reply per frame`).toBe(s.sent);
      const refused = s.kinds.get('bad_request') ?? 0;
      const why = () => `socket ${i}: bad_request for ${refused} frames, parseFrame refuses ${s.predictedBad}; accepted frames answered bad_request: ${s.surprises.join('; ') || 'none with a rid'}; the ${s.acceptedSent.length} accepted frames are in ${keepAccepted(i, s)}`;
      // (The frames are kept for replay: the one such case seen, a deep unknown field refused when
      // its decoding overflowed the stack, depended on the JIT, so it did not replay.)
      if (refused !== s.predictedBad) expect.fail(why());
      expect([...s.ours.keys()], `socket ${i}: our requests without a reply`).toEqual([]);
    }
    expect(kinds.get('internal') ?? 0).toBe(0);
    expect(run.acked).toHaveLength(run.submitted.length);

    // The server logged no error, counted no internal error, and let go of every socket and subscription.
    expect(logged.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([]);
    expect(await app.metrics.registry.getSingleMetricAsString('leaderboard_errors_total')).not.toMatch(/code="internal"/);
    for (const s of socks) s.ws.close();
    await eventually('sockets and subscriptions released', () => app.sockets.sockets.size === 0 && app.live.subscriptionCount === 0);
    const [rssAfter, heapAfter] = [process.memoryUsage().rss, liveHeap()];
    const mib = (n: number) => `${Math.round(n / 2 ** 20)} MiB`;
    console.info(`live heap ${mib(heapBefore)} before, ${mib(heapAfter)} after; rss ${mib(rssBefore)} before, ${mib(rssAfter)} after; ${logged.length} warnings logged`);
    // Server and clients share this process: what the run left reachable must be small.
    expect(heapAfter - heapBefore).toBeLessThan(32 * 2 ** 20);

    // Still correct.
    const c = await connectWs(app.port, token('server'));
    try {
      const pong = await c.request('ping', {});
      expect(Math.abs(pong.time - Date.now())).toBeLessThan(5000);
      expect(await c.request('submit', { user_id: 999, score: 5, game_mode: 'after_fuzz', submission_id: 'after' })).toMatchObject({
        user_id: 999,
        total_score: 5,
        games_played: 1,
        duplicate: false,
      });
      expect(await c.request('top', { board: 'mode:after_fuzz' })).toEqual({
        board: 'mode:after_fuzz',
        entries: [{ rank: 1, user_id: 999, username: 'player999', total_score: 5, games_played: 1 }],
      });
    } finally {
      c.close();
    }

    // Only our valid submits were written, each once, and the totals are their sums.
    const rows = await sql<{ submission_id: string; user_id: number; score: number; game_mode: string }[]>`
      SELECT submission_id, user_id, score, game_mode FROM game_sessions WHERE submission_id IS DISTINCT FROM 'after'`;
    const byId = (a: { submission_id: string }, b: { submission_id: string }) => (a.submission_id < b.submission_id ? -1 : 1);
    expect([...rows].sort(byId)).toEqual([...run.acked].sort(byId));
    const totals = await sql<{ user_id: number; total_score: number }[]>`
      SELECT user_id, total_score FROM leaderboard WHERE board = 'global' AND user_id <> 999 ORDER BY user_id`;
    const sums = new Map<number, number>();
    for (const a of run.acked) sums.set(a.user_id, (sums.get(a.user_id) ?? 0) + a.score);
    expect(totals).toEqual([...sums].sort((a, b) => a[0] - b[0]).map(([user_id, total_score]) => ({ user_id, total_score })));
    // No board, and no Redis key, for any of the made-up boards the fuzz read or followed.
    const boards = ['global', 'mode:after_fuzz', 'mode:fuzz', 'mode:fuzz_b'];
    expect((await sql<{ board: string }[]>`SELECT board FROM boards WHERE board !~ ':(daily|weekly|monthly):' ORDER BY board`).map((b) => b.board)).toEqual(boards);
    const keyBoards = new Set((await app.redis.keys(`${stores.redisPrefix}:*`)).map((k) => /:\{([^}]*)\}:/.exec(k)?.[1]).filter((b) => b !== undefined));
    // (The window boards of real boards have keys too: their family is one of the boards above.)
    const familyOf = (b: string) => b.replace(/:(daily|weekly|monthly):.*$/, '');
    keyBoards.delete('instances'); // the instance registry's hash tag, not a board
    expect([...keyBoards].filter((b) => !boards.includes(familyOf(b)))).toEqual([]);
  });
});
