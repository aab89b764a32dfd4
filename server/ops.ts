/**
 * The dispatch table: one handler per op, shared by the socket and the HTTP edges. A handler gets
 * a valid request and the caller's principal, and returns the op's reply payload.
 */
import { resolveBoard, type Op, type ReplyOf, type RequestOf } from '../protocol/index.ts';
import type { Principal } from './auth/policy.ts';
import type { Clock } from './clock.ts';
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

export function requestHandlers(lb: Leaderboard, clock: Clock): Handlers {
  // A current-period id (`global:daily`) means its period as of now; replies name that period.
  const at = <R extends { board: string }>(req: R): R => ({ ...req, board: resolveBoard(req.board, clock.now()) });
  return {
    submit: (req, ctx) => lb.submit(req, ctx.principal),
    rank: (req) => lb.rank(at(req)),
    top: (req) => lb.top(at(req)),
    around: (req) => lb.around(at(req)),
    history: (req) => lb.history(req),
    ping: async () => ({ time: Date.now() }),
    boards: () => lb.boards(),
    ranks: (req) => lb.ranks(at(req)),
    page: (req) => lb.page(at(req)),
  };
}
