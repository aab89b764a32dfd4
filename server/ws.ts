/**
 * The WebSocket edge. Every frame goes through one fixed pipeline: size limit, decode, validate,
 * (rate limit), dispatch; every request gets exactly one reply carrying its rid. Handlers never
 * see bytes; this module never sees business rules.
 */
import {
  CLOSE_CODES,
  MAX_FRAME_BYTES,
  SERVER_OPS,
  encode,
  encodeReply,
  type SubscribeRequest,
  type UnsubscribeRequest,
} from '../protocol/index.ts';
import type { Apm } from './apm.ts';
import { verifyWithAny, type Keyring } from './auth/jwt.ts';
import { upgradeToken } from './auth/upgrade-token.ts';
import { isTrusted, type Principal } from './auth/policy.ts';
import type { Config } from './config.ts';
import { AppError, toErrorFrame } from './errors.ts';
import { refuseUpgrade } from './http-exchange.ts';
import { parseFrame } from './frames.ts';
import type { Inflight } from './inflight.ts';
import type { Logger } from './log.ts';
import { recordRequest, type Metrics } from './metrics.ts';
import { ConnectionGuard, clientAddress } from './limits/connection-guard.ts';
import { TokenBucket } from './limits/token-bucket.ts';
import type { LiveHub } from './live/hub.ts';
import { isLiveOp, type Handlers, type OpContext } from './ops.ts';
import { endFailedRequest } from './request-end.ts';
import { sendFrame, sendFrames, type Socket, type SocketData } from './socket.ts';
import type { HttpRequest, HttpResponse, TemplatedApp, us_socket_context_t } from './uws.ts';


export interface SocketEdgeDeps {
  config: Config;
  /** The current secret first, then any being rotated out, with the claim policy and public keys. */
  jwtSecrets: Keyring;
  handlers: Handlers;
  inflight: Inflight;
  metrics: Metrics;
  apm: Apm;
  log: Logger;
  /** Live push: subscriptions and their sockets' drain and close. */
  live: LiveHub;
}

/**
 * uWS must accept frames above the contract's 4096 bytes so that we, not uWS, close with 1009.
 * Past this much uWS cuts the connection itself (1006, no close frame) as soon as it reads the
 * frame header; it is also the most a socket can make the server buffer for one frame.
 */
export const UWS_MAX_PAYLOAD = 1024 * 1024;
/**
 * uWS drops sends silently above its own limit; ours (wsMaxBackpressureBytes) is enforced by the
 * live hub before every push, so uWS's sits one large frame above it and never bites first.
 */
const UWS_BACKPRESSURE_MARGIN = 256 * 1024;
/** The window in which WS_ABUSE_CLOSE_AFTER rate_limited replies close a socket. */
const ABUSE_WINDOW_MS = 10_000;

export class SocketEdge {
  readonly sockets = new Set<Socket>();
  private nextId = 1;
  private accepting = true;
  private readonly guard: ConnectionGuard;
  private readonly sweeper: NodeJS.Timeout;
  /** Replies waiting for the end of this turn, by socket (see reply()). */
  private readonly replies = new Map<Socket, Uint8Array[]>();
  private repliesFlush: NodeJS.Immediate | undefined;

  constructor(private readonly d: SocketEdgeDeps) {
    const c = d.config;
    this.guard = new ConnectionGuard({
      maxSockets: c.maxSockets,
      maxPerIp: c.maxConnectionsPerIp,
      upgradeRatePerIp: c.upgradeRatePerIp,
      upgradeBurstPerIp: c.upgradeBurstPerIp,
    });
    this.sweeper = setInterval(() => this.guard.sweep(Date.now()), 10_000);
    this.sweeper.unref();
  }

  mount(app: TemplatedApp): void {
    app.ws<SocketData>('/ws', {
      maxPayloadLength: UWS_MAX_PAYLOAD,
      maxBackpressure: this.d.config.wsMaxBackpressureBytes + UWS_BACKPRESSURE_MARGIN,
      closeOnBackpressureLimit: 0,
      idleTimeout: this.d.config.wsIdleTimeoutS,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        try {
          this.upgrade(res, req, context);
        } catch (err) {
          // Never into uWS, which would end the process (see HttpEdge.guarded).
          refuseUpgrade(res, endFailedRequest(this.d, { op: 'upgrade', transport: 'ws', kind: { fault: 'websocket upgrade failed' } }, err));
        }
      },
      open: (ws) => {
        this.sockets.add(ws);
        this.guard.opened(ws.getUserData().ip);
        this.d.metrics.sockets.inc();
        const u = ws.getUserData();
        this.d.log.info({ socket: u.id, ip: u.ip, role: u.principal?.role ?? 'anonymous' }, 'socket open');
      },
      message: (ws, message, isBinary) => {
        try {
          this.onMessage(ws, message, isBinary);
        } catch (err) {
          const ids = { socket: ws.getUserData().id };
          this.send(ws, toErrorFrame(endFailedRequest(this.d, { op: 'invalid', transport: 'ws', ids, kind: { fault: 'frame handling failed' } }, err), undefined));
        }
      },
      drain: (ws) => this.d.live.onDrain(ws),
      close: (ws, code) => {
        const u = ws.getUserData();
        u.closed = true;
        this.guard.closed(u.ip);
        this.d.live.onClose(ws);
        this.sockets.delete(ws);
        this.d.metrics.sockets.dec();
        this.d.log.info({ socket: u.id, code, subscriptions: u.subs.size }, 'socket closed');
      },
    });
  }

  /** Authenticates and admits one upgrade request, or refuses it with the registry's status. */
  private upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void {
    // Everything needed from req is read before returning: uWS frees it afterwards.
    const key = req.getHeader('sec-websocket-key');
    const extensions = req.getHeader('sec-websocket-extensions');
    const given = upgradeToken(req.getQuery() ?? '', req.getHeader('sec-websocket-protocol'));
    const ip = clientAddress(Buffer.from(res.getRemoteAddressAsText()).toString(), req.getHeader('x-forwarded-for'), this.d.config.trustProxy);
    if (!this.accepting) {
      refuseUpgrade(res, new AppError('unavailable', 'server is shutting down'));
      return;
    }
    const now = Date.now();
    const unauthorized = (reason: string) => {
      this.guard.refused(ip, now);
      this.d.log.info({ ip, reason }, 'websocket upgrade refused');
      refuseUpgrade(res, new AppError('unauthorized', reason));
    };
    const refusing = this.guard.refusing(ip, now);
    if (refusing) {
      refuseUpgrade(res, refusing);
      return;
    }
    if (!given.ok) {
      unauthorized(given.reason);
      return;
    }
    let principal: Principal;
    if (given.token !== undefined) {
      const v = verifyWithAny(given.token, this.d.jwtSecrets);
      if (!v.ok) {
        unauthorized(v.reason);
        return;
      }
      principal = v.claims;
    }
    const trusted = isTrusted(principal);
    const refused = this.guard.check(ip, trusted, Date.now());
    if (refused) {
      this.d.log.info({ ip, code: refused.code }, `websocket upgrade refused: ${refused.message}`);
      refuseUpgrade(res, refused);
      return;
    }
    const rate = this.d.config.wsRatePerSocket;
    const data: SocketData = {
      id: this.nextId++,
      principal,
      ip,
      closed: false,
      subs: new Map(),
      laggingSince: 0,
      bucket: trusted || rate <= 0 ? undefined : new TokenBucket(rate, this.d.config.wsBurstPerSocket, performance.now()),
      limited: 0,
      limitedSince: 0,
    };
    // Never the offered header as is: uWS would answer with its first entry, which may be the token.
    res.upgrade<SocketData>(data, key, given.protocol, extensions, context);
  }

  /** Stops accepting new sockets (upgrades get 503). */
  stopAccepting(): void {
    this.accepting = false;
    clearInterval(this.sweeper);
  }

  /** Closes every socket with `code`, after the replies already made. */
  closeAll(code: number, reason: string): void {
    this.flushReplies();
    for (const ws of [...this.sockets]) {
      if (!ws.getUserData().closed) ws.end(code, reason);
    }
  }

  private onMessage(ws: Socket, message: ArrayBuffer, isBinary: boolean): void {
    if (message.byteLength > MAX_FRAME_BYTES) {
      ws.end(CLOSE_CODES.message_too_big, 'message too big');
      return;
    }
    const started = performance.now();
    const parsed = parseFrame(new Uint8Array(message), isBinary);
    if (!parsed.ok) {
      this.send(ws, toErrorFrame(endFailedRequest(this.d, { op: 'invalid', transport: 'ws', kind: 'refused' }, parsed.error), parsed.rid));
      return;
    }
    const { op, rid, req } = parsed;
    const limited = this.rateLimit(ws, started);
    if (limited) {
      this.send(ws, toErrorFrame(endFailedRequest(this.d, { op, transport: 'ws', kind: 'refused' }, limited), rid));
      return;
    }
    const ctx: OpContext = { principal: ws.getUserData().principal };
    // Live ops send their own success reply (a snapshot must leave before any diff can).
    const work: Promise<object | undefined> = isLiveOp(op)
      ? this.live(ws, op, rid, req)
      : this.d.apm.transaction('ws', op, () => (this.d.handlers[op] as (r: unknown, c: OpContext) => Promise<object>)(req, ctx));
    this.d.inflight.track(
      work.then(
        (payload) => {
          recordRequest(this.d.metrics, op, 'ws', 'ok', started);
          if (payload) this.reply(ws, encodeReply(payload, op === 'ping' ? SERVER_OPS.pong : op, rid));
        },
        (err: unknown) => {
          const ids = { op, socket: ws.getUserData().id, rid };
          this.reply(ws, encode(toErrorFrame(endFailedRequest(this.d, { op, transport: 'ws', started, ids, kind: 'failed' }, err), rid)));
        },
      ),
    );
  }

  /** The per-socket request limit; a socket that keeps pushing past it is closed with 1008. `now` is performance.now(). */
  private rateLimit(ws: Socket, now: number): AppError | undefined {
    const u = ws.getUserData();
    if (!u.bucket) return undefined;
    const wait = u.bucket.take(now);
    if (wait === 0) return undefined;
    if (now - u.limitedSince > ABUSE_WINDOW_MS) {
      u.limitedSince = now;
      u.limited = 0;
    }
    if (++u.limited >= this.d.config.wsAbuseCloseAfter) {
      this.d.log.warn({ socket: u.id, ip: u.ip }, 'closing socket for repeated rate-limit abuse');
      ws.end(CLOSE_CODES.policy_violation, 'rate limit abuse');
      u.closed = true; // nothing more is sent on it, this error included
    }
    return new AppError('rate_limited', 'too many requests on this connection', { retryAfterMs: wait });
  }

  private async live(ws: Socket, op: 'subscribe' | 'unsubscribe', rid: number | undefined, req: unknown): Promise<object | undefined> {
    const live = this.d.live;
    if (op === 'unsubscribe') return live.unsubscribe(ws, req as UnsubscribeRequest);
    await live.subscribe(ws, rid, req as SubscribeRequest);
    return undefined;
  }


  /** Sends one frame now (see sendFrame: a frame dropped for backpressure closes the socket). */
  send(ws: Socket, frame: object): void {
    sendFrame(ws, frame, this.d.log);
  }

  /**
   * Sends a request's reply at the end of this event-loop turn, with the other replies made for
   * the same socket meanwhile, in one write: replies of requests answered together (a batch of
   * submits, the rank reads of one moment) would otherwise cost a write each. Replies may arrive
   * in any order (the contract matches them by rid); live frames do not go this way, so a snapshot
   * still leaves before any diff.
   */
  private reply(ws: Socket, bytes: Uint8Array): void {
    let frames = this.replies.get(ws);
    if (!frames) this.replies.set(ws, (frames = []));
    frames.push(bytes);
    this.repliesFlush ??= setImmediate(() => this.flushReplies());
  }

  private flushReplies(): void {
    if (this.repliesFlush) clearImmediate(this.repliesFlush);
    this.repliesFlush = undefined;
    for (const [ws, frames] of this.replies) sendFrames(ws, frames, this.d.log);
    this.replies.clear();
  }
}
