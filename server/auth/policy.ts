/** Who may do what: the contract's submit rule, as a pure function. */
import { AppError } from '../errors.ts';
import type { Claims } from './jwt.ts';

/** The caller of a request: anonymous, or the verified claims of its token. */
export type Principal = Claims | undefined;

export function assertMaySubmit(principal: Principal, userId: number): void {
  if (!principal) throw new AppError('unauthorized', 'a token with role player, server or admin is required to submit');
  if (principal.role === 'server' || principal.role === 'admin') return;
  if (principal.sub !== String(userId)) throw new AppError('forbidden', 'a player token may submit only for its own user_id');
}

/** Roles whose connections carry a game server's traffic and are not limited per connection. */
export function isTrusted(principal: Principal): boolean {
  return principal?.role === 'server' || principal?.role === 'admin';
}
