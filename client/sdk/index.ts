/** The leaderboard client SDK for games, spectators and tools (browser and Node). */
export { LeaderboardClient, type ClientOptions, type ReconnectOptions, type Status, type Subscription } from './client.ts';
export { Connection, type ConnectOptions, type WebSocketCtor, type WebSocketLike } from './connection.ts';
export { LeaderboardError, type ClientErrorCode } from './errors.ts';
export { LiveView, describeChanges, type RowChange, type ViewUpdate } from './live-view.ts';
