/**
 * Where a WebSocket upgrade carries its token: `?token=` or a `bearer.<JWT>` subprotocol (see
 * protocol/subprotocol.ts), and which subprotocol the upgrade answers with. Pure; the socket edge
 * passes it the raw query and header. A token given twice, or in two places, is refused rather than
 * one of them picked: a proxy or a log may have seen the other.
 */
import { BEARER_SUBPROTOCOL_PREFIX, SUBPROTOCOL } from '../../protocol/index.ts';

export type UpgradeToken =
  /** `token` undefined: anonymous. `protocol`: the subprotocol to answer with ('' for none). */
  | { ok: true; token: string | undefined; protocol: string }
  | { ok: false; reason: string };

export function upgradeToken(query: string, protocolHeader: string): UpgradeToken {
  const inQuery = new URLSearchParams(query).getAll('token').filter((t) => t !== '');
  const offered = protocolHeader.split(',').map((p) => p.trim()).filter((p) => p !== '');
  const bearers = offered.filter((p) => p.startsWith(BEARER_SUBPROTOCOL_PREFIX));
  if (inQuery.length > 1) return { ok: false, reason: 'token given more than once in the query' };
  if (bearers.length > 1) return { ok: false, reason: 'more than one bearer subprotocol offered' };
  if (inQuery.length > 0 && bearers.length > 0) return { ok: false, reason: 'token given both in the query and in Sec-WebSocket-Protocol' };
  const ours = offered.includes(SUBPROTOCOL);
  // The answer must name an offered subprotocol, and the bearer one would echo the token.
  if (bearers.length > 0 && !ours) return { ok: false, reason: `a bearer subprotocol must be offered with ${SUBPROTOCOL}` };
  const token = inQuery[0] ?? bearers[0]?.slice(BEARER_SUBPROTOCOL_PREFIX.length);
  return { ok: true, token, protocol: ours ? SUBPROTOCOL : '' };
}
