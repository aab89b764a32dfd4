/**
 * The registries of the wire contract: operations, error codes and close codes.
 * Server, client SDK, board and bench all import these; nothing here imports anything local.
 */

/** Request operations a client may send. */
export const OPS = [
  'submit', 'rank', 'top', 'around', 'history', 'ping', 'subscribe', 'unsubscribe',
  // Additions to v1 (protocol/extensions.md).
  'boards', 'ranks', 'page',
] as const;
export type Op = (typeof OPS)[number];

/** Operations the server sends that are not the echo of a request op. */
export const SERVER_OPS = { pong: 'pong', error: 'error', diff: 'diff', snapshot: 'snapshot' } as const;

/** Every failure the server reports carries one of these codes, over WebSocket and HTTP alike. */
export const ERROR_CODES = {
  bad_request: { status: 400, description: 'The frame or request fails the schema.' },
  unauthorized: { status: 401, description: 'Token missing or invalid where one is needed.' },
  forbidden: { status: 403, description: 'Token valid but not for this.' },
  not_found: { status: 404, description: 'No such user on that board, or no such route.' },
  conflict: { status: 409, description: 'Username taken by another user, or reserved.' },
  rate_limited: { status: 429, description: 'Too many requests; retry after retry_after_ms.' },
  unavailable: { status: 503, description: 'A store is down and this cannot be served.' },
  internal: { status: 500, description: 'An unexpected server fault; nothing was changed.' },
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;
export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as ErrorCode[];

/** WebSocket close codes the server uses. */
export const CLOSE_CODES = {
  /** Normal closure. */
  normal: 1000,
  /** The server is shutting down. */
  going_away: 1001,
  /** Repeated abuse: the socket kept sending past its rate limit. */
  policy_violation: 1008,
  /** A message's payload exceeded MAX_FRAME_BYTES. */
  message_too_big: 1009,
  /** A spectator's backlog passed the limit and never drained. */
  slow_consumer: 4008,
} as const;
export type CloseCode = (typeof CLOSE_CODES)[keyof typeof CLOSE_CODES];
