/**
 * One HTTP exchange on uWS, and how its response is written. uWS forbids touching a response after
 * the client went away, so every write checks `aborted` first. Bodies are written with `tryEnd`:
 * what the socket does not take now is sent from `onWritable` out of the body we already hold, so
 * a slow or pipelining reader never makes the server copy a response into a growing buffer. (uWS
 * closes a connection that pipelines a request behind a response still being written or awaited,
 * so one connection holds at most one response in progress.)
 */
import { AppError, httpErrorBody } from './errors.ts';
import type { HttpResponse } from './uws.ts';

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  204: 'No Content',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** "404 Not Found": the status line uWS's writeStatus takes. */
export function statusLine(status: number): string {
  const text = STATUS_TEXT[status];
  return text ? `${status} ${text}` : String(status);
}

export interface Exchange {
  res: HttpResponse;
  /** The client went away: nothing may be written any more. */
  aborted: boolean;
  /** A response has been started (only one per exchange). */
  answered: boolean;
  /** Headers every response of this exchange carries (CORS). */
  headers: Record<string, string>;
  /** Close the connection after the response (part of the body was left unread). */
  closeAfter: boolean;
}

export function begin(res: HttpResponse): Exchange {
  const x: Exchange = { res, aborted: false, answered: false, headers: {}, closeAfter: false };
  res.onAborted(() => {
    x.aborted = true;
  });
  return x;
}

export interface ResponseHead {
  status: number;
  headers: Record<string, string>;
}

/**
 * Writes a whole response: status, the exchange's headers, `head.headers`, then `body` (none for
 * 304/204 or when undefined). Returns false when nothing could be written (aborted, or already answered).
 */
export function writeResponse(x: Exchange, head: ResponseHead, body: Uint8Array | string | undefined): boolean {
  if (x.aborted || x.answered) return false;
  x.answered = true;
  const res = x.res;
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.cork(() => {
    res.writeStatus(statusLine(head.status));
    for (const k in x.headers) res.writeHeader(k, x.headers[k]!);
    for (const k in head.headers) res.writeHeader(k, head.headers[k]!);
    if (bytes === undefined) {
      if (x.closeAfter) res.end(undefined, true);
      else res.endWithoutBody();
      return;
    }
    if (x.closeAfter) {
      // Small error bodies only: the connection closes right after, so no backpressure to manage.
      res.end(bytes, true);
      return;
    }
    const start = res.getWriteOffset();
    const [ok, done] = res.tryEnd(bytes, bytes.byteLength);
    if (done || ok) return;
    res.onWritable((offset) => {
      if (x.aborted) return true;
      const [more] = res.tryEnd(bytes.subarray(offset - start), bytes.byteLength);
      return more;
    });
  });
  return true;
}

export function respond(x: Exchange, status: number, body: string, contentType = 'application/json', headers: Record<string, string> = {}): void {
  writeResponse(x, { status, headers: { 'content-type': contentType, 'cache-control': 'no-store', ...headers } }, body);
}

export function respondError(x: Exchange, err: AppError): void {
  const headers: Record<string, string> = {};
  if (err.retryAfterMs !== undefined) headers['retry-after'] = String(Math.ceil(err.retryAfterMs / 1000));
  respond(x, err.status, JSON.stringify(httpErrorBody(err)), 'application/json', headers);
}
