/** The leaderboard client SDK for games, spectators and tools (browser and Node). */
export { LeaderboardClient, type ClientOptions, type ReconnectOptions, type Status, type Subscription } from './client.ts';
export { Connection, type ConnectOptions, type WebSocketCtor, type WebSocketLike } from './connection.ts';
export { LeaderboardError, type ClientErrorCode } from './errors.ts';
export { LiveView, describeChanges, type RowChange, type ViewUpdate } from './live-view.ts';
// A score as its board shows it (`display` from `boards`): `1:02.417`, `12.50 km`.
export { formatScore, formatTimeMs } from '../../protocol/wire.ts';
// The contract's types, for code that names what the client returns (plain TypeScript, no zod).
export type {
  AroundReply,
  BoardDefinition,
  BoardsReply,
  DiffFrame,
  Entry,
  ErrorCode,
  HistoryReply,
  Op,
  PageCursor,
  PageReply,
  RankReply,
  RanksReply,
  ReplyOf,
  RequestInput,
  ScoreDisplay,
  Session,
  SnapshotFrame,
  SubmitReply,
  SubscribeReply,
  TopReply,
} from '../../protocol/wire.ts';
