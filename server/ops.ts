/**
 * The dispatch table: one handler per op, shared by the socket and the HTTP edges. A handler gets
 * a valid request and the caller's principal, and returns the op's reply payload.
 */
import type { Op, ReplyOf, RequestOf } from '../protocol/index.ts';
import type { Principal } from './auth/policy.ts';
import type { Leaderboard } from './leaderboard.ts';

export interface OpContext {
  principal: Principal;
}

export type Handler<O extends Op> = (req: RequestOf<O>, ctx: OpContext) => Promise<ReplyOf<O>>;
/** Ops with one reply and no lasting state: served alike on both transports. */
export type RequestOp = Exclude<Op, LiveOp>;
/** Ops that change what a socket is pushed: the live hub answers them itself. */
export type LiveOp = 'subscribe' | 'unsubscribe';
export type Handlers = { [O in RequestOp]: Handler<O> };

export function isLiveOp(op: Op): op is LiveOp {
  return op === 'subscribe' || op === 'unsubscribe';
}

export function requestHandlers(lb: Leaderboard): Handlers {
  return {
    submit: (req, ctx) => lb.submit(req, ctx.principal),
    rank: (req) => lb.rank(req),
    top: (req) => lb.top(req),
    around: (req) => lb.around(req),
    history: (req) => lb.history(req),
    ping: async () => ({ time: Date.now() }),
    boards: () => lb.boards(),
  };
}
