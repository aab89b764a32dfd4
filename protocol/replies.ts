/**
 * Reply schemas: the success payload of each op (without `op`/`rid`), pushed frames and the error
 * frame. The server builds these; the SDK and tests validate against them.
 */
import { z } from 'zod';
import * as f from './fields.ts';
import { ERROR_CODE_LIST, type Op } from './codes.ts';

const count = z.number().int().min(0);
const rank = z.number().int().min(1);

export const entry = z.object({
  rank,
  user_id: f.userId,
  username: z.string(),
  total_score: count,
  games_played: count,
});
export type Entry = z.output<typeof entry>;

export const session = z.object({
  id: z.number().int().min(1),
  score: f.score,
  game_mode: f.gameMode,
  timestamp: count,
});
export type Session = z.output<typeof session>;

export const submitReply = z.object({
  user_id: f.userId,
  total_score: count,
  games_played: count,
  rank,
  duplicate: z.boolean(),
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
export const subscribeReply = z.object({ board: z.string(), epoch, seq: count, entries: z.array(entry) });
export const unsubscribeReply = z.object({ board: z.string() });
export const boardsReply = z.object({ boards: z.array(z.string()) });

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
} as const satisfies Record<Op, z.ZodType>;

export type ReplyOf<O extends Op> = z.output<(typeof REPLY_SCHEMAS)[O]>;
export type SubmitReply = ReplyOf<'submit'>;
export type RankReply = ReplyOf<'rank'>;
export type TopReply = ReplyOf<'top'>;
export type AroundReply = ReplyOf<'around'>;
export type HistoryReply = ReplyOf<'history'>;

/** Pushed to subscribers: the rows of the top N that are new or changed, and the user ids that left. */
export const diffFrame = z.object({
  op: z.literal('diff'),
  board: z.string(),
  epoch,
  seq: count,
  entries: z.array(entry),
  removed: z.array(f.userId),
});
export type DiffFrame = z.output<typeof diffFrame>;

/** Pushed to a subscriber that was resynchronised after falling behind. */
export const snapshotFrame = z.object({ op: z.literal('snapshot'), board: z.string(), epoch, seq: count, entries: z.array(entry) });
export type SnapshotFrame = z.output<typeof snapshotFrame>;

export const errorFrame = z.object({
  op: z.literal('error'),
  rid: f.rid.optional(),
  code: z.enum(ERROR_CODE_LIST as [string, ...string[]]),
  message: z.string(),
  retry_after_ms: count.optional(),
});
export type ErrorFrame = z.output<typeof errorFrame>;
