/**
 * Request schemas, one per op. `op` and `rid` are read by the frame pipeline before these run, so
 * each schema holds only the op's own fields; the HTTP API reuses the same schemas for its bodies.
 * zod objects strip unknown keys: extra fields are ignored, as the contract requires.
 */
import { z } from 'zod';
import * as f from './fields.ts';
import { AROUND_RADIUS, HISTORY_LIMIT, PAGE_LIMIT, RANKS_USER_IDS, SUBSCRIBE_LIMIT, TOP_LIMIT } from './limits.ts';
import type { Op } from './codes.ts';
import type { Equal, Expect } from './type-equality.ts';
import type { RequestInputs, Requests } from './types.ts';

// The types live in types.ts (no zod, so the SDK ships them); these schemas must infer exactly them.
export type {
  AroundRequest,
  HistoryRequest,
  PageRequest,
  PingRequest,
  RankRequest,
  RanksRequest,
  RequestInput,
  RequestOf,
  SubmitRequest,
  SubscribeRequest,
  TopRequest,
  UnsubscribeRequest,
} from './types.ts';

const withDefault = (r: { min: number; max: number; default: number }) => f.intIn(r.min, r.max).default(r.default);

export const submitRequest = z.object({
  user_id: f.userId,
  score: f.score,
  game_mode: f.gameMode,
  username: f.username.optional(),
  submission_id: f.submissionId.optional(),
});

export const rankRequest = z
  .object({ user_id: f.userId.optional(), username: f.usernameLookup.optional(), board: f.board })
  .refine((r) => r.user_id !== undefined || r.username !== undefined, {
    message: 'user_id or username is required',
    path: ['user_id'],
  });

export const topRequest = z.object({ limit: withDefault(TOP_LIMIT), board: f.board });

export const aroundRequest = z.object({ user_id: f.userId, radius: withDefault(AROUND_RADIUS), board: f.board });

export const historyRequest = z.object({
  user_id: f.userId,
  limit: withDefault(HISTORY_LIMIT),
  offset: f.intIn(0, Number.MAX_SAFE_INTEGER).default(0),
});

export const subscribeRequest = z.object({ board: f.board, limit: withDefault(SUBSCRIBE_LIMIT) });
export const unsubscribeRequest = z.object({ board: f.board });
export const pingRequest = z.object({});
/** Addition to v1: lists the boards that exist (`global` and every mode someone has scored in). */
export const boardsRequest = z.object({});

/** Addition to v1: the entries of listed users (a friends list) on one board, in listing order. */
export const ranksRequest = z.object({
  user_ids: z
    .array(f.userId)
    .min(RANKS_USER_IDS.min, { message: `must list ${RANKS_USER_IDS.min}..${RANKS_USER_IDS.max} user ids` })
    .max(RANKS_USER_IDS.max, { message: `must list ${RANKS_USER_IDS.min}..${RANKS_USER_IDS.max} user ids` })
    .refine((ids) => new Set(ids).size === ids.length, { message: 'must not list a user id twice' }),
  board: f.board,
});

/** Addition to v1: the next `limit` rows of a board after the cursor `after` (from the top without one). */
export const pageRequest = z.object({ board: f.board, limit: withDefault(PAGE_LIMIT), after: f.pageCursor.optional() });

export const REQUEST_SCHEMAS = {
  submit: submitRequest,
  rank: rankRequest,
  top: topRequest,
  around: aroundRequest,
  history: historyRequest,
  ping: pingRequest,
  subscribe: subscribeRequest,
  unsubscribe: unsubscribeRequest,
  boards: boardsRequest,
  ranks: ranksRequest,
  page: pageRequest,
} as const satisfies Record<Op, z.ZodType>;

/** Compile-time only: the schemas read and take exactly the types of types.ts (a mismatch fails `tsc`). */
export type RequestSchemasMatchTypes = [
  Expect<Equal<{ [O in Op]: z.output<(typeof REQUEST_SCHEMAS)[O]> }, Requests>>,
  Expect<Equal<{ [O in Op]: z.input<(typeof REQUEST_SCHEMAS)[O]> }, RequestInputs>>,
];
