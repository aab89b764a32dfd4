/**
 * The wire contract's types as plain TypeScript: what each request carries, what each reply and
 * pushed frame holds. No zod here, so the client SDK ships them (and its .d.ts) without zod. The
 * zod schemas of requests.ts and replies.ts are the runtime check of the same contract; a
 * compile-time check there makes each schema infer exactly the type written here.
 */
import type { ScoreFormat, SortOrder, Window, WriteMode } from './board.ts';
import type { ErrorCode, Op } from './codes.ts';

/** A board id: `global`, `mode:<game_mode>`, optionally with a window and a period (protocol/board.ts). */
type Board = string;
/** Changes when a board's live view restarts (a rebuild); `seq` counts diffs within one epoch. */
export type Epoch = string | number;

export interface Entry {
  rank: number;
  user_id: number;
  username: string;
  total_score: number;
  games_played: number;
}

export interface Session {
  id: number;
  score: number;
  game_mode: string;
  timestamp: number;
}

/** A position in a board's listing order (total descending, then user id ascending): `page`'s cursor. */
export interface PageCursor {
  total_score: number;
  user_id: number;
}

// Requests as the server reads them (defaults applied).

export interface SubmitRequest {
  user_id: number;
  score: number;
  game_mode: string;
  username?: string | undefined;
  submission_id?: string | undefined;
}
export interface RankRequest {
  user_id?: number | undefined;
  username?: string | undefined;
  board: Board;
}
export interface TopRequest {
  limit: number;
  board: Board;
}
export interface AroundRequest {
  user_id: number;
  radius: number;
  board: Board;
}
export interface HistoryRequest {
  user_id: number;
  limit: number;
  offset: number;
}
export interface SubscribeRequest {
  board: Board;
  limit: number;
}
export interface UnsubscribeRequest {
  board: Board;
}
export type PingRequest = Record<string, never>;
export type BoardsRequest = Record<string, never>;
export interface RanksRequest {
  user_ids: number[];
  board: Board;
}
export interface PageRequest {
  board: Board;
  limit: number;
  after?: PageCursor | undefined;
}

export interface Requests {
  submit: SubmitRequest;
  rank: RankRequest;
  top: TopRequest;
  around: AroundRequest;
  history: HistoryRequest;
  ping: PingRequest;
  subscribe: SubscribeRequest;
  unsubscribe: UnsubscribeRequest;
  boards: BoardsRequest;
  ranks: RanksRequest;
  page: PageRequest;
}

/** What a client passes for each op: a field with a default may be left out. */
export interface RequestInputs {
  submit: SubmitRequest;
  rank: { user_id?: number | undefined; username?: string | undefined; board?: Board | undefined };
  top: { limit?: number | undefined; board?: Board | undefined };
  around: { user_id: number; radius?: number | undefined; board?: Board | undefined };
  history: { user_id: number; limit?: number | undefined; offset?: number | undefined };
  ping: PingRequest;
  subscribe: { board?: Board | undefined; limit?: number | undefined };
  unsubscribe: { board?: Board | undefined };
  boards: BoardsRequest;
  ranks: { user_ids: number[]; board?: Board | undefined };
  page: { board?: Board | undefined; limit?: number | undefined; after?: PageCursor | undefined };
}

export type RequestOf<O extends Op> = Requests[O];
/** What a client passes for an op (defaults may be omitted). */
export type RequestInput<O extends Op> = RequestInputs[O];

// Replies: the success payload of each op, without `op` and `rid`.

export interface SubmitReply {
  user_id: number;
  total_score: number;
  games_played: number;
  rank: number;
  duplicate: boolean;
  /** Addition to v1: present (and false) only when `rank` is a lower bound (see replies.ts). */
  rank_exact?: false | undefined;
}
export interface RankReply {
  board: Board;
  user_id: number;
  username: string;
  total_score: number;
  games_played: number;
  rank: number;
  percentile: number;
  total_players: number;
}
export interface TopReply {
  board: Board;
  entries: Entry[];
}
export interface AroundReply {
  board: Board;
  entries: Entry[];
}
export interface HistoryReply {
  user_id: number;
  sessions: Session[];
  total_sessions: number;
}
export interface PongReply {
  time: number;
}
export interface SubscribeReply {
  board: Board;
  epoch: Epoch;
  seq: number;
  entries: Entry[];
  /** Addition to v1: on a current-period board, the period shown. */
  period?: string | undefined;
}
export interface UnsubscribeReply {
  board: Board;
}
/** How a board shows its scores (protocol/score-format.ts formats them). */
export interface ScoreDisplay {
  format: ScoreFormat;
  /** Shown after the value (`km`, `pts`); empty for none. */
  unit: string;
  /** The score is in units of 10^-decimals: 1250 with 2 decimals is 12.50 (ignored by `time_ms`). */
  decimals: number;
}
/** Addition to v1: a board family's kind, as configured (README, "Board kinds"). */
export interface BoardDefinition {
  board: Board;
  sort_order: SortOrder;
  write_mode: WriteMode;
  display: ScoreDisplay;
  /** The window boards it has (`daily`, `weekly`, `monthly`: BOARD_WINDOWS). */
  windows: Window[];
  /** Its number of players, when the rank index can tell at once; absent otherwise. */
  players?: number | undefined;
}
export interface BoardsReply {
  boards: Board[];
  /** Addition to v1: each listed board's definition, in the same order. */
  definitions: BoardDefinition[];
}
export interface RanksReply {
  board: Board;
  entries: Entry[];
  missing: number[];
}
export interface PageReply {
  board: Board;
  entries: Entry[];
  next: PageCursor | null;
}

export interface Replies {
  submit: SubmitReply;
  rank: RankReply;
  top: TopReply;
  around: AroundReply;
  history: HistoryReply;
  ping: PongReply;
  subscribe: SubscribeReply;
  unsubscribe: UnsubscribeReply;
  boards: BoardsReply;
  ranks: RanksReply;
  page: PageReply;
}

export type ReplyOf<O extends Op> = Replies[O];

// Frames the server sends without a request (diff, snapshot) and the error frame.

export interface DiffFrame {
  op: 'diff';
  board: Board;
  epoch: Epoch;
  seq: number;
  entries: Entry[];
  removed: number[];
}
export interface SnapshotFrame {
  op: 'snapshot';
  board: Board;
  epoch: Epoch;
  seq: number;
  entries: Entry[];
  period?: string | undefined;
  final?: boolean | undefined;
}
export interface ErrorFrame {
  op: 'error';
  rid?: number | undefined;
  code: ErrorCode;
  message: string;
  retry_after_ms?: number | undefined;
}
