/**
 * The WebSocket edge. Every frame goes through one fixed pipeline: size limit, decode, validate,
 * (rate limit), dispatch; every request gets exactly one reply carrying its rid. Handlers never
 * see bytes; this module never sees business rules.
 */
import {
  CLOSE_CODES,
  MAX_FRAME_BYTES,
  encode,
  type Op,
  type SubscribeRequest,
  type UnsubscribeRequest,
} from '../protocol/index.ts';
import type { Apm } from './apm.ts';
import { verifyWithAny } from './auth/jwt.ts';
import type { Principal } from './auth/policy.ts';
import type { Config } from './config.ts';
import { AppError, errorFrame, httpErrorBody, toAppError } from './errors.ts';
import { parseFrame } from './frames.ts';
import type { Inflight } from './inflight.ts';
import type { Logger } from './log.ts';
import { recordRequest, type Metrics } from './metrics.ts';
import type { LiveHub } from './live/hub.ts';
import { isLiveOp, type Handlers, type OpContext } from './ops.ts';
import type { Socket, SocketData } from './socket.ts';
import type { TemplatedApp } from './uws.ts';


export interface SocketEdgeDeps {
  config: Config;
  /** The current secret first, then any being rotated out. */
  jwtSecrets: readonly string[];
  handlers: Handlers;
  inflight: Inflight;
  metrics: Metrics;
  apm: Apm;
  log: Logger;
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

export class SocketEdge {
  readonly sockets = new Set<Socket>();
  private nextId = 1;
  private accepting = true;
  /** Set once the live hub exists (it needs the app this edge is mounted on). */
  private liveHub: LiveHub | undefined;

  constructor(private readonly d: SocketEdgeDeps) {}

  mount(app: TemplatedApp): void {
    app.ws<SocketData>('/ws', {
      maxPayloadLength: UWS_MAX_PAYLOAD,
      maxBackpressure: this.d.config.wsMaxBackpressureBytes + UWS_BACKPRESSURE_MARGIN,
      closeOnBackpressureLimit: 0,
      idleTimeout: this.d.config.wsIdleTimeoutS,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        // Everything needed from req is read before returning: uWS frees it afterwards.
        const key = req.getHeader('sec-websocket-key');
        const protocol = req.getHeader('sec-websocket-protocol');
        const extensions = req.getHeader('sec-websocket-extensions');
        const token = new URLSearchParams(req.getQuery() ?? '').get('token');
        const ip = Buffer.from(res.getRemoteAddressAsText()).toString();
        if (!this.accepting) {
          res.writeStatus('503 Service Unavailable').end(JSON.stringify(httpErrorBody(new AppError('unavailable', 'server is shutting down'))));
          return;
        }
        let principal: Principal;
        if (token) {
          const v = verifyWithAny(token, this.d.jwtSecrets);
          if (!v.ok) {
            this.d.log.info({ ip, reason: v.reason }, 'websocket upgrade refused');
            res
              .writeStatus('401 Unauthorized')
              .writeHeader('content-type', 'application/json')
              .end(JSON.stringify(httpErrorBody(new AppError('unauthorized', v.reason))));
            return;
          }
          principal = v.claims;
        }
        const data: SocketData = { id: this.nextId++, principal, ip, closed: false, subs: new Map(), laggingSince: 0 };
        res.upgrade<SocketData>(data, key, protocol, extensions, context);
      },
      open: (ws) => {
        this.sockets.add(ws);
        this.d.metrics.sockets.inc();
        const u = ws.getUserData();
        this.d.log.info({ socket: u.id, ip: u.ip, role: u.principal?.role ?? 'anonymous' }, 'socket open');
      },
      message: (ws, message, isBinary) => this.onMessage(ws, message, isBinary),
      drain: (ws) => this.liveHub?.onDrain(ws),
      close: (ws, code) => {
        const u = ws.getUserData();
        u.closed = true;
        this.liveHub?.onClose(ws);
        this.sockets.delete(ws);
        this.d.metrics.sockets.dec();
        this.d.log.info({ socket: u.id, code, subscriptions: u.subs.size }, 'socket closed');
      },
    });
  }

  setLive(hub: LiveHub): void {
    this.liveHub = hub;
  }

  /** Stops accepting new sockets (upgrades get 503). */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Closes every socket with `code`. */
  closeAll(code: number, reason: string): void {
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
      recordRequest(this.d.metrics, 'invalid', 'ws', parsed.error.code);
      this.send(ws, errorFrame(parsed.error, parsed.rid));
      return;
    }
    const { op, rid, req } = parsed;
    const ctx: OpContext = { principal: ws.getUserData().principal };
    // Live ops send their own success reply (a snapshot must leave before any diff can).
    const work: Promise<object | undefined> = isLiveOp(op)
      ? this.live(ws, op, rid, req)
      : this.d.apm.transaction('ws', op, () => (this.d.handlers[op] as (r: unknown, c: OpContext) => Promise<object>)(req, ctx));
    this.d.inflight.track(
      work.then(
        (payload) => {
          recordRequest(this.d.metrics, op, 'ws', 'ok', started);
          if (payload) this.send(ws, { ...payload, op: op === 'ping' ? 'pong' : op, ...(rid === undefined ? {} : { rid }) });
        },
        (err: unknown) => {
          const e = toAppError(err);
          if (e.code === 'internal') this.d.log.error({ err, op, socket: ws.getUserData().id, rid }, 'request failed');
          else this.d.log.debug({ code: e.code, op, socket: ws.getUserData().id, rid }, e.message);
          recordRequest(this.d.metrics, op, 'ws', e.code, started);
          this.send(ws, errorFrame(e, rid));
        },
      ),
    );
  }

  private async live(ws: Socket, op: 'subscribe' | 'unsubscribe', rid: number | undefined, req: unknown): Promise<object | undefined> {
    const live = this.liveHub;
    if (!live) throw new AppError('unavailable', 'live push is not ready');
    if (op === 'unsubscribe') return live.unsubscribe(ws, req as UnsubscribeRequest);
    await live.subscribe(ws, rid, req as SubscribeRequest);
    return undefined;
  }


  /** Sends one frame; a reply dropped for backpressure means the client will never see it, so the socket is closed. */
  send(ws: Socket, frame: object): void {
    const u = ws.getUserData();
    if (u.closed) return;
    const bytes = encode(frame);
    ws.cork(() => {
      if (ws.send(bytes, true) === 2) {
        this.d.log.warn({ socket: u.id }, 'reply dropped by backpressure; closing slow consumer');
        ws.end(CLOSE_CODES.slow_consumer, 'slow consumer');
      }
    });
  }
}
