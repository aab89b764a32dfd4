/**
 * The one error class of the server and the one place it is mapped to the wire. Every failure a
 * client sees is an AppError with a code from protocol's registry; `toAppError` is the single
 * place an unexpected throw becomes `internal`; `toErrorFrame` and `toHttpError` are what that
 * AppError looks like on the socket and over HTTP.
 */
import { ERROR_CODES, type ErrorCode, type ErrorFrame } from '../protocol/index.ts';

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options?: { retryAfterMs?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.retryAfterMs = options?.retryAfterMs;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

export const badRequest = (message: string) => new AppError('bad_request', message);
export const notFound = (message: string) => new AppError('not_found', message);
export const unavailable = (message: string, cause?: unknown) => new AppError('unavailable', message, { cause });

/** Unexpected errors become `internal` with a message that leaks nothing of the cause. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new AppError('internal', 'internal server error', { cause: err });
}

/** The error frame answering request `rid` (the `errorFrame` schema of protocol/replies.ts is its contract). */
export function toErrorFrame(err: AppError, rid: number | undefined): ErrorFrame {
  const frame: ErrorFrame = { op: 'error', code: err.code, message: err.message };
  if (rid !== undefined) frame.rid = rid;
  if (err.retryAfterMs !== undefined) frame.retry_after_ms = err.retryAfterMs;
  return frame;
}

export interface HttpErrorReply {
  status: number;
  /** Besides content-type (always JSON): Retry-After when the error carries a wait. */
  headers: Record<string, string>;
  /** `{"error": {"code", "message"}}`, the `httpError` schema of protocol/http.ts. */
  body: string;
}

/** The HTTP form of an error. The wait goes in whole seconds, rounded up, as Retry-After requires. */
export function toHttpError(err: AppError): HttpErrorReply {
  const headers: Record<string, string> = {};
  if (err.retryAfterMs !== undefined) headers['retry-after'] = String(Math.ceil(err.retryAfterMs / 1000));
  return { status: err.status, headers, body: JSON.stringify({ error: { code: err.code, message: err.message } }) };
}
