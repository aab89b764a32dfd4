/**
 * A typed request/reply connection to the leaderboard server over one WebSocket. Works in browsers
 * (global WebSocket) and in Node (pass `ws`'s WebSocket). Imports only protocol/wire.ts (no zod).
 */
import {
  decode,
  encode,
  ERROR_CODES,
  type ErrorCode,
  type ErrorFrame,
  isMap,
  MAX_RID,
  type Op,
  type ReplyOf,
  type RequestInput,
  tokenSubprotocols,
} from '../../protocol/wire.ts';
import { LeaderboardError } from './errors.ts';

/** The part of the WebSocket API the SDK uses (browser WebSocket and `ws` both provide it). */
export interface WebSocketLike {
  binaryType: string;
  readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketCtor = new (url: string, protocols?: string[]) => WebSocketLike;

export interface ConnectOptions {
  /** JWT for submits; reads need none. */
  token?: string;
  /**
   * How the token travels: `protocol` (default) in the Sec-WebSocket-Protocol header, out of the
   * URL and so out of access logs; `query` as `?token=`, for servers older than that.
   */
  tokenIn?: 'protocol' | 'query';
  /** WebSocket implementation; defaults to globalThis.WebSocket. */
  WebSocket?: WebSocketCtor;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
}

interface Pending {
  op: Op;
  resolve: (v: unknown) => void;
  reject: (e: LeaderboardError) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** A pushed frame (no rid): `diff` or `snapshot`. */
export type PushHandler = (frame: Record<string, unknown>) => void;

function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return undefined;
}

/**
 * The fields of an error frame, or undefined when they break the contract (the `errorFrame` schema
 * of protocol/replies.ts, checked here without zod so the SDK does not ship it).
 */
function readError(frame: Record<string, unknown>): Pick<ErrorFrame, 'code' | 'message' | 'retry_after_ms'> | undefined {
  const { code, message, retry_after_ms } = frame;
  if (typeof code !== 'string' || !Object.hasOwn(ERROR_CODES, code) || typeof message !== 'string') return undefined;
  const retry = retry_after_ms === undefined || (Number.isSafeInteger(retry_after_ms) && (retry_after_ms as number) >= 0);
  return retry ? { code: code as ErrorCode, message, retry_after_ms: retry_after_ms as number | undefined } : undefined;
}

export function wsUrl(base: string, token?: string): string {
  const url = new URL(base);
  if (token) url.searchParams.set('token', token);
  return url.toString();
}

export class Connection {
  private readonly pending = new Map<number, Pending>();
  private nextRid = 1;
  onPush: PushHandler | undefined;
  onClose: ((code: number, reason: string) => void) | undefined;

  private constructor(
    private readonly socket: WebSocketLike,
    private readonly timeoutMs: number,
  ) {
    socket.onmessage = (ev) => this.onMessage(ev.data);
    socket.onclose = (ev) => {
      this.failAll(new LeaderboardError('disconnected', `connection closed (${ev.code})`));
      this.onClose?.(ev.code, ev.reason);
    };
  }

  static open(url: string, opts: ConnectOptions = {}): Promise<Connection> {
    const Ctor = opts.WebSocket ?? (globalThis as unknown as { WebSocket?: WebSocketCtor }).WebSocket;
    if (!Ctor) throw new Error('no WebSocket implementation: pass options.WebSocket');
    const socket = !opts.token
      ? new Ctor(url)
      : opts.tokenIn === 'query'
        ? new Ctor(wsUrl(url, opts.token))
        : new Ctor(url, tokenSubprotocols(opts.token));
    socket.binaryType = 'arraybuffer';
    return new Promise((resolve, reject) => {
      socket.onopen = () => resolve(new Connection(socket, opts.timeoutMs ?? 10_000));
      socket.onerror = () => reject(new LeaderboardError('disconnected', `cannot connect to ${url}`));
      // Browsers do not expose the upgrade's HTTP status: a refused token looks like any failed connect.
      socket.onclose = (ev) => reject(new LeaderboardError('disconnected', `connection refused (${ev.code})`));
    });
  }

  get open(): boolean {
    return this.socket.readyState === 1;
  }

  request<O extends Op>(op: O, fields: RequestInput<O>): Promise<ReplyOf<O>> {
    if (!this.open) return Promise.reject(new LeaderboardError('disconnected', 'not connected'));
    const rid = this.nextRid;
    this.nextRid = this.nextRid >= MAX_RID ? 1 : this.nextRid + 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(rid);
        reject(new LeaderboardError('timeout', `${op} timed out after ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(rid, { op, resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.send(encode({ ...fields, op, rid }));
    });
  }

  /** Sends raw bytes (for tests and tools that probe the server with malformed frames). */
  sendRaw(bytes: Uint8Array): void {
    this.socket.send(bytes);
  }

  close(code = 1000, reason = 'client closing'): void {
    this.socket.close(code, reason);
  }

  private onMessage(data: unknown): void {
    const bytes = toBytes(data);
    if (!bytes) return;
    const frame = decode(bytes);
    if (!isMap(frame)) return;
    const rid = typeof frame.rid === 'number' ? frame.rid : undefined;
    const pending = rid === undefined ? undefined : this.pending.get(rid);
    if (!pending) {
      if (frame.op === 'diff' || frame.op === 'snapshot') this.onPush?.(frame);
      return;
    }
    this.pending.delete(rid!);
    clearTimeout(pending.timer);
    if (frame.op === 'error') {
      const f = readError(frame) ?? { code: 'internal' as const, message: 'malformed error frame', retry_after_ms: undefined };
      pending.reject(new LeaderboardError(f.code, f.message, f.retry_after_ms));
      return;
    }
    const { op: _op, rid: _rid, ...payload } = frame;
    pending.resolve(payload);
  }

  private failAll(err: LeaderboardError): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}
