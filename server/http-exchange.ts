/**
 * One HTTP exchange on uWS, and how its response is written; error responses (a refused
 * WebSocket upgrade's too) from errors.ts's toHttpError. uWS forbids touching a response after the
 * client went away, so every write checks `aborted` first. Bodies are written with `tryEnd`:
 * what the socket does not take now is sent from `onWritable` out of the body we already hold, so
 * a slow or pipelining reader never makes the server copy a response into a growing buffer. (uWS
 * closes a connection that pipelines a request behind a response still being written or awaited,
 * so one connection holds at most one response in progress.)
 */
import { STATUS_CODES } from 'node:http';
import { toHttpError, type AppError } from './errors.ts';
import type { HttpResponse } from './uws.ts';

/** "404 Not Found": the status line uWS's writeStatus takes, its text Node's (the only table of them). */
export function statusLine(status: number): string {
  const text = STATUS_CODES[status];
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
  const r = toHttpError(err);
  respond(x, r.status, r.body, 'application/json', r.headers);
}

/**
 * Refuses a WebSocket upgrade with `err` as an HTTP response. It has no Exchange: it is written
 * before uWS's upgrade handler returns, so the client cannot have gone away yet. It carries no CORS
 * or cache headers: a browser's WebSocket never shows a refused upgrade's response to the page.
 */
export function refuseUpgrade(res: HttpResponse, err: AppError): void {
  const r = toHttpError(err);
  res.cork(() => {
    res.writeStatus(statusLine(r.status)).writeHeader('content-type', 'application/json');
    for (const k in r.headers) res.writeHeader(k, r.headers[k]!);
    res.end(r.body);
  });
}
