/** Errors the SDK surfaces: the server's error codes, plus the client-side timeout and disconnect. */
import type { ErrorCode } from '../../protocol/wire.ts';

export type ClientErrorCode = ErrorCode | 'timeout' | 'disconnected';

export class LeaderboardError extends Error {
  readonly code: ClientErrorCode;
  readonly retryAfterMs: number | undefined;

  constructor(code: ClientErrorCode, message: string, retryAfterMs?: number) {
    super(message);
    this.name = 'LeaderboardError';
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }
}
