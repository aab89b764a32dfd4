/**
 * The dispatch table: one handler per op, shared by the socket and the HTTP edges. A handler gets
 * a valid request and the caller's principal, and returns the op's reply payload.
 */
import type { Op, ReplyOf, RequestOf } from '../protocol/index.ts';
import type { Principal } from './auth/policy.ts';
import { AppError } from './errors.ts';
import type { Leaderboard } from './leaderboard.ts';

export interface OpContext {
  principal: Principal;
}

export type Handler<O extends Op> = (req: RequestOf<O>, ctx: OpContext) => Promise<ReplyOf<O>>;
export type Handlers = { [O in Op]: Handler<O> };

/** Ops served through the request/reply path on both transports. */
export function requestHandlers(lb: Leaderboard): Omit<Handlers, 'subscribe' | 'unsubscribe'> {
  return {
    submit: (req, ctx) => lb.submit(req, ctx.principal),
    rank: (req) => lb.rank(req),
    top: (req) => lb.top(req),
    around: (req) => lb.around(req),
    history: (req) => lb.history(req),
    ping: async () => ({ time: Date.now() }),
  };
}

export const liveUnavailable = async (): Promise<never> => {
  throw new AppError('unavailable', 'live push is not enabled on this server');
};
