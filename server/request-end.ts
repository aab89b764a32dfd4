/**
 * How a failed request ends, on the socket and over HTTP alike: what was thrown becomes an
 * AppError (toAppError), is logged at the level its kind calls for, and is counted
 * (recordRequest). The edge then writes the AppError as its transport's reply (toErrorFrame,
 * respondError or refuseUpgrade), the one step that differs between them.
 */
import { toAppError, type AppError } from './errors.ts';
import type { Logger } from './log.ts';
import { recordRequest, type Metrics, type Transport } from './metrics.ts';

export interface RequestEndDeps {
  log: Logger;
  metrics: Metrics;
}

/**
 * Whose failure it is, which decides its log line:
 * - `refused`: the edge's own answer to a bad or excess request (a bad frame, a rate limit). It is
 *   the client's doing and already counted, so nothing is logged: a flood of them must not flood the log.
 * - `failed`: what a handler threw. `internal` is the server's fault and logged as an error with
 *   its cause; any other code is the client's mistake, a debug line under its message.
 * - `{ fault }`: a throw that escaped the edge's own code, a bug whatever it carries: an error line
 *   under `fault`, counted `internal`.
 */
export type FailureKind = 'refused' | 'failed' | { fault: string };

export interface FailedRequest {
  /** The metric's op label: the op, the HTTP route, or `invalid`/`upgrade` when there is none. */
  op: string;
  transport: Transport;
  /** performance.now() when it was read, for its latency; omitted when it never reached a handler. */
  started?: number;
  /** The log fields that name it: op, socket and rid; or the HTTP request number or route. */
  ids?: Record<string, unknown>;
  kind: FailureKind;
}

/** Logs and counts a failed request; returns the AppError its reply is written from. */
export function endFailedRequest(d: RequestEndDeps, req: FailedRequest, err: unknown): AppError {
  const e = toAppError(err);
  const { kind } = req;
  if (typeof kind === 'object') {
    d.log.error({ err, ...req.ids }, kind.fault);
    recordRequest(d.metrics, req.op, req.transport, 'internal', req.started);
    return e;
  }
  if (kind === 'failed' && e.code === 'internal') d.log.error({ err, ...req.ids }, 'request failed');
  else if (kind === 'failed') d.log.debug({ code: e.code, ...req.ids }, e.message);
  recordRequest(d.metrics, req.op, req.transport, e.code, req.started);
  return e;
}
