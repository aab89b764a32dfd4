/** What the server keeps per WebSocket connection. */
import type { Principal } from './auth/policy.ts';
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
}

/** The part of a live group a socket needs to leave it. */
export interface LiveGroupRef {
  topic: string;
}

export type Socket = WebSocket<SocketData>;
