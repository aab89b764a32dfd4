/**
 * Reply schemas: the success payload of each op (without `op`/`rid`), pushed frames and the error
 * frame. The server builds these; the SDK and tests validate against them.
 */
import { z } from 'zod';
import * as f from './fields.ts';
import { SCORE_FORMATS, SORT_ORDERS, WINDOWS, WRITE_MODES } from './board.ts';
import { ERROR_CODE_LIST, type ErrorCode, type Op } from './codes.ts';
import type { Equal, Expect } from './type-equality.ts';
import type { BoardDefinition, DiffFrame, Entry, ErrorFrame, Replies, ScoreDisplay, Session, SnapshotFrame } from './types.ts';

// The types live in types.ts (no zod, so the SDK ships them); these schemas must infer exactly them.
export type {
  AroundReply,
  BoardDefinition,
  BoardsReply,
  DiffFrame,
  Entry,
  ErrorFrame,
  HistoryReply,
  PageCursor,
  PageReply,
  PongReply,
  RankReply,
  RanksReply,
  ReplyOf,
  ScoreDisplay,
  Session,
  SnapshotFrame,
  SubmitReply,
  SubscribeReply,
  TopReply,
  UnsubscribeReply,
} from './types.ts';

const count = z.number().int().min(0);
const rank = z.number().int().min(1);

export const entry = z.object({
  rank,
  user_id: f.userId,
  username: z.string(),
  total_score: count,
  games_played: count,
});

export const session = z.object({
  id: z.number().int().min(1),
  score: f.score,
  game_mode: f.gameMode,
  timestamp: count,
});

export const submitReply = z.object({
  user_id: f.userId,
  total_score: count,
  games_played: count,
  rank,
  duplicate: z.boolean(),
  /**
   * Addition to v1, present (and false) only when the rank index could not give this rank: `rank`
   * is then exact up to SUBMIT_RANK_COUNT_CAP and otherwise that cap plus one, a lower bound.
   */
  rank_exact: z.literal(false).optional(),
});

export const rankReply = z.object({
  board: z.string(),
  user_id: f.userId,
  username: z.string(),
  total_score: count,
  games_played: count,
  rank,
  percentile: z.number().min(0).max(100),
  total_players: count,
});

export const topReply = z.object({ board: z.string(), entries: z.array(entry) });
export const aroundReply = z.object({ board: z.string(), entries: z.array(entry) });
export const historyReply = z.object({ user_id: f.userId, sessions: z.array(session), total_sessions: count });
export const pongReply = z.object({ time: count });

const epoch = z.union([z.string(), z.number().int()]);
/** Addition to v1: on a current-period board (`global:daily`), the period shown (`global:daily:2026-11-30`). */
const period = z.string().optional();
export const subscribeReply = z.object({ board: z.string(), epoch, seq: count, entries: z.array(entry), period });
export const unsubscribeReply = z.object({ board: z.string() });
export const scoreDisplay = z.object({ format: z.enum(SCORE_FORMATS), unit: z.string().max(16), decimals: z.number().int().min(0).max(6) });
export const boardDefinition = z.object({
  board: z.string(),
  sort_order: z.enum(SORT_ORDERS),
  write_mode: z.enum(WRITE_MODES),
  display: scoreDisplay,
  windows: z.array(z.enum(WINDOWS)),
  players: count.optional(),
});
export const boardsReply = z.object({ boards: z.array(z.string()), definitions: z.array(boardDefinition) });
/** `entries` in listing order; `missing`: the listed users not on the board, in the order listed. */
export const ranksReply = z.object({ board: z.string(), entries: z.array(entry), missing: z.array(f.userId) });
/** `next`: the cursor of the following page (the last entry's key), null once the board is walked. */
export const pageReply = z.object({ board: z.string(), entries: z.array(entry), next: f.pageCursor.nullable() });

export const REPLY_SCHEMAS = {
  submit: submitReply,
  rank: rankReply,
  top: topReply,
  around: aroundReply,
  history: historyReply,
  ping: pongReply,
  subscribe: subscribeReply,
  unsubscribe: unsubscribeReply,
  boards: boardsReply,
  ranks: ranksReply,
  page: pageReply,
} as const satisfies Record<Op, z.ZodType>;


/** Pushed to subscribers: the rows of the top N that are new or changed, and the user ids that left. */
export const diffFrame = z.object({
  op: z.literal('diff'),
  board: z.string(),
  epoch,
  seq: count,
  entries: z.array(entry),
  removed: z.array(f.userId),
});

/** Pushed to a subscriber that was resynchronised after falling behind. */
/**
 * `period` and `final` are additions to v1: when a current-period board rolls over, its
 * subscribers get the ended period's final standings (`final: true`) and then a fresh snapshot of
 * the new period, each naming its period.
 */
export const snapshotFrame = z.object({
  op: z.literal('snapshot'),
  board: z.string(),
  epoch,
  seq: count,
  entries: z.array(entry),
  period,
  final: z.boolean().optional(),
});

export const errorFrame = z.object({
  op: z.literal('error'),
  rid: f.rid.optional(),
  code: z.enum(ERROR_CODE_LIST as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
  retry_after_ms: count.optional(),
});

/** Compile-time only: each schema infers exactly its type in types.ts (a mismatch fails `tsc`). */
export type ReplySchemasMatchTypes = [
  Expect<Equal<z.output<typeof entry>, Entry>>,
  Expect<Equal<z.output<typeof session>, Session>>,
  Expect<Equal<z.output<typeof boardDefinition>, BoardDefinition>>,
  Expect<Equal<z.output<typeof scoreDisplay>, ScoreDisplay>>,
  Expect<Equal<{ [O in Op]: z.output<(typeof REPLY_SCHEMAS)[O]> }, Replies>>,
  Expect<Equal<z.output<typeof diffFrame>, DiffFrame>>,
  Expect<Equal<z.output<typeof snapshotFrame>, SnapshotFrame>>,
  Expect<Equal<z.output<typeof errorFrame>, ErrorFrame>>,
];
