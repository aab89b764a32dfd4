/** What the server keeps per WebSocket connection. */
import type { Principal } from './auth/policy.ts';
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
