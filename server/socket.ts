/** What the server keeps per WebSocket connection, and how a frame is sent on one. */
import { CLOSE_CODES, encode } from '../protocol/index.ts';
import type { Principal } from './auth/policy.ts';
import type { Logger } from './log.ts';
import type { TokenBucket } from './limits/token-bucket.ts';
import type { WebSocket } from './uws.ts';

export interface SocketData {
  id: number;
  principal: Principal;
  ip: string;
  closed: boolean;
  /** board -> the live group this socket follows on it */
  subs: Map<string, LiveGroupRef>;
  /** When this socket's backlog passed the limit (0 while it keeps up). */
  laggingSince: number;
  /** Request rate limit; undefined for trusted (server/admin) sockets. */
  bucket: TokenBucket | undefined;
  /** rate_limited replies in the current abuse window, and when that window began. */
  limited: number;
  limitedSince: number;
}

/** The part of a live group a socket needs to leave it. */
export interface LiveGroupRef {
  topic: string;
}

export type Socket = WebSocket<SocketData>;

/**
 * Sends one frame; a frame dropped for backpressure means the client will never see it (a reply
 * lost, or a gap in a live stream), so the socket is closed as a slow consumer.
 */
export function sendFrame(ws: Socket, frame: object, log: Logger): void {
  if (!ws.getUserData().closed) sendFrames(ws, [encode(frame)], log);
}

/** Sends encoded frames in one write (one cork), stopping at the first one dropped, as sendFrame. */
export function sendFrames(ws: Socket, frames: readonly Uint8Array[], log: Logger): void {
  const u = ws.getUserData();
  if (u.closed) return;
  ws.cork(() => {
    for (const bytes of frames) {
      if (ws.send(bytes, true) === 2) {
        log.warn({ socket: u.id }, 'reply dropped by backpressure; closing slow consumer');
        ws.end(CLOSE_CODES.slow_consumer, 'slow consumer');
        return;
      }
    }
  });
}
