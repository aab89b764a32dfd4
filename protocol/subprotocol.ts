/**
 * The token in `Sec-WebSocket-Protocol`: browsers cannot set headers on a WebSocket, and a token in
 * the URL ends up in access logs. A client offers two subprotocols, `leaderboard.v1` and
 * `bearer.<JWT>` (a JWT's characters are all valid in a subprotocol name); the server answers with
 * `leaderboard.v1`, never with the token. `?token=<JWT>` keeps working.
 */

export const SUBPROTOCOL = 'leaderboard.v1';
export const BEARER_SUBPROTOCOL_PREFIX = 'bearer.';

/** What a client offers to send `token` in the handshake. */
export function tokenSubprotocols(token: string): string[] {
  return [SUBPROTOCOL, `${BEARER_SUBPROTOCOL_PREFIX}${token}`];
}
