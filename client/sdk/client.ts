/**
 * LeaderboardClient: the SDK's front door. One WebSocket with automatic reconnect (exponential
 * backoff with jitter), typed request methods, and live subscriptions that keep a top N current,
 * resync on a gap or a new epoch, and re-subscribe after a reconnect.
 */
import type { ReplyOf, RequestInput, SnapshotFrame, DiffFrame } from '../../protocol/wire.ts';
import { Connection, type ConnectOptions } from './connection.ts';
import { LeaderboardError } from './errors.ts';
import { LiveView, type ViewUpdate } from './live-view.ts';

export type Status = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ReconnectOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  /** 0..1: each delay is multiplied by a random factor in [1 - jitter, 1]. */
  jitter: number;
}

export interface ClientOptions extends ConnectOptions {
  /** false disables reconnecting. */
  reconnect?: Partial<ReconnectOptions> | false;
  onStatus?: (status: Status) => void;
  /** Errors that have no caller to reject (a failed re-subscribe, say). */
  onError?: (err: LeaderboardError) => void;
}

export interface Subscription {
  readonly board: string;
  readonly limit: number;
  /** The current top N (empty until the first snapshot). */
  readonly entries: ViewUpdate['entries'];
  close(): void;
}

interface LiveSub {
  board: string;
  limit: number;
  view: LiveView;
  onChange: (update: ViewUpdate) => void;
  active: boolean;
  resyncing: boolean;
}

const DEFAULT_RECONNECT: ReconnectOptions = { initialDelayMs: 250, maxDelayMs: 10_000, jitter: 0.5 };

export class LeaderboardClient {
  private conn: Connection | undefined;
  private current: Status = 'connecting';
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly subs = new Map<string, LiveSub>();
  private readonly waiters: (() => void)[] = [];
  private readonly reconnect: ReconnectOptions | false;

  constructor(
    private readonly url: string,
    private readonly opts: ClientOptions = {},
  ) {
    this.reconnect = opts.reconnect === false ? false : { ...DEFAULT_RECONNECT, ...opts.reconnect };
    void this.dial();
  }

  get status(): Status {
    return this.current;
  }

  /** Resolves once connected (immediately if already). */
  ready(): Promise<void> {
    if (this.current === 'open') return Promise.resolve();
    if (this.current === 'closed') return Promise.reject(new LeaderboardError('disconnected', 'client is closed'));
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  request<O extends Parameters<Connection['request']>[0]>(op: O, fields: RequestInput<O>): Promise<ReplyOf<O>> {
    if (!this.conn || this.current !== 'open') return Promise.reject(new LeaderboardError('disconnected', 'not connected'));
    return this.conn.request(op, fields);
  }

  submit = (r: RequestInput<'submit'>) => this.request('submit', r);
  rank = (r: RequestInput<'rank'>) => this.request('rank', r);
  top = (r: RequestInput<'top'> = {}) => this.request('top', r);
  around = (r: RequestInput<'around'>) => this.request('around', r);
  history = (r: RequestInput<'history'>) => this.request('history', r);
  ping = () => this.request('ping', {});
  // Additions to v1 (protocol/extensions.md).
  boards = () => this.request('boards', {});
  /** The entries of up to 100 listed users (a friends list) on a board, and which of them are not on it. */
  ranks = (r: RequestInput<'ranks'>) => this.request('ranks', r);
  /**
   * One page of a board in listing order; pass the reply's `next` as `after` for the following
   * page, until it is null. Users whose total does not change during the walk are seen exactly once.
   * A missing cursor is left out of the frame, not sent as `undefined` (which MessagePack cannot carry).
   */
  page = ({ after, ...r }: RequestInput<'page'> = {}) => this.request('page', after ? { ...r, after } : r);

  /**
   * Follows a board's top `limit`. `onChange` gets the whole current view and what moved, after
   * every snapshot and diff. One subscription per board: subscribing again replaces it.
   */
  subscribe(board: string, limit: number, onChange: (update: ViewUpdate) => void): Subscription {
    this.subs.get(board)?.view.invalidate();
    const sub: LiveSub = { board, limit, view: new LiveView(), onChange, active: true, resyncing: false };
    this.subs.set(board, sub);
    if (this.current === 'open') this.resync(sub);
    return {
      board,
      limit,
      get entries() {
        return sub.view.entries;
      },
      close: () => {
        if (!sub.active) return;
        sub.active = false;
        if (this.subs.get(board) === sub) {
          this.subs.delete(board);
          if (this.current === 'open') this.request('unsubscribe', { board }).catch((e: LeaderboardError) => this.opts.onError?.(e));
        }
      },
    };
  }

  close(): void {
    this.setStatus('closed');
    clearTimeout(this.retryTimer);
    this.conn?.close();
    this.conn = undefined;
  }

  private setStatus(s: Status): void {
    if (this.current === s || this.current === 'closed') return;
    this.current = s;
    this.opts.onStatus?.(s);
    if (s === 'open') this.waiters.splice(0).forEach((w) => w());
  }

  private async dial(): Promise<void> {
    if (this.current === 'closed') return;
    try {
      const conn = await Connection.open(this.url, this.opts);
      // close() may have been called while the connection was being opened.
      if ((this.current as Status) === 'closed') {
        conn.close();
        return;
      }
      this.conn = conn;
      this.attempt = 0;
      conn.onPush = (frame) => this.onPush(frame);
      conn.onClose = () => this.lost();
      this.setStatus('open');
      for (const sub of this.subs.values()) this.resync(sub);
    } catch {
      // The failure is the reason to retry; its detail is the close code, which says nothing more.
      this.lost();
    }
  }

  private lost(): void {
    this.conn = undefined;
    if (this.current === 'closed') return;
    for (const sub of this.subs.values()) sub.view.invalidate();
    if (this.reconnect === false) {
      this.setStatus('closed');
      return;
    }
    this.setStatus('reconnecting');
    const r = this.reconnect;
    const base = Math.min(r.maxDelayMs, r.initialDelayMs * 2 ** this.attempt++);
    const delay = base * (1 - r.jitter * Math.random());
    this.retryTimer = setTimeout(() => void this.dial(), delay);
  }

  private resync(sub: LiveSub): void {
    if (sub.resyncing || !sub.active) return;
    sub.resyncing = true;
    sub.view.invalidate();
    this.request('subscribe', { board: sub.board, limit: sub.limit }).then(
      (snapshot) => {
        sub.resyncing = false;
        if (sub.active && this.subs.get(sub.board) === sub) sub.onChange(sub.view.reset(snapshot));
      },
      (err: LeaderboardError) => {
        sub.resyncing = false;
        this.opts.onError?.(err);
        // Retry while connected (a reconnect re-subscribes anyway).
        if (sub.active && this.current === 'open') setTimeout(() => this.resync(sub), 1000);
      },
    );
  }

  private onPush(frame: Record<string, unknown>): void {
    const sub = this.subs.get(frame.board as string);
    if (!sub || sub.resyncing) return;
    if (frame.op === 'snapshot') {
      sub.onChange(sub.view.reset(frame as unknown as SnapshotFrame));
      return;
    }
    const result = sub.view.apply(frame as unknown as DiffFrame);
    if (result === 'resync') this.resync(sub);
    else sub.onChange(result);
  }
}
