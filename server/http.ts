/**
 * The HTTP edge: the JSON mirror of the socket ops, /health and /metrics. Same pipeline as the
 * socket (read, validate, dispatch), same handlers, same error registry mapped to HTTP statuses.
 */
import {
  HTTP_ROUTES,
  MAX_HTTP_BODY_BYTES,
  coerceParams,
  httpRequestSchema,
  openApiDocument,
  type HealthReply,
  type Op,
} from '../protocol/index.ts';
import type { Apm } from './apm.ts';
import { clientAddress } from './limits/connection-guard.ts';
import { BucketMap } from './limits/token-bucket.ts';
import { verifyWithAny } from './auth/jwt.ts';
import type { Principal } from './auth/policy.ts';
import { AppError, badRequest, httpErrorBody, toAppError } from './errors.ts';
import { describeIssues } from './frames.ts';
import type { Inflight } from './inflight.ts';
import type { Logger } from './log.ts';
import { recordRequest, type Metrics } from './metrics.ts';
import type { Handlers, RequestOp } from './ops.ts';
import type { HttpRequest, HttpResponse, TemplatedApp } from './uws.ts';

export interface HttpLimits {
  ratePerIp: number;
  burstPerIp: number;
  bodyTimeoutMs: number;
  corsOrigins: readonly string[];
  trustProxy: boolean;
}

export interface HttpEdgeDeps {
  limits: HttpLimits;
  jwtSecrets: readonly string[];
  handlers: Handlers;
  inflight: Inflight;
  metrics: Metrics;
  apm: Apm;
  log: Logger;
  health: () => Promise<HealthReply>;
}

const STATUS_TEXT: Record<number, string> = {
  200: '200 OK',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  409: '409 Conflict',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

/** The state of one response: uWS forbids touching it after the client went away. */
interface Exchange {
  res: HttpResponse;
  aborted: boolean;
  /** Headers every response of this exchange carries (CORS). */
  headers: Record<string, string>;
  /** Close the connection after the response (part of the body was left unread). */
  closeAfter: boolean;
}

function begin(res: HttpResponse): Exchange {
  const x: Exchange = { res, aborted: false, headers: {}, closeAfter: false };
  res.onAborted(() => {
    x.aborted = true;
  });
  return x;
}

function respond(x: Exchange, status: number, body: string, contentType = 'application/json', headers: Record<string, string> = {}): void {
  if (x.aborted) return;
  x.res.cork(() => {
    x.res.writeStatus(STATUS_TEXT[status] ?? `${status}`);
    x.res.writeHeader('content-type', contentType);
    x.res.writeHeader('cache-control', 'no-store');
    for (const [k, v] of Object.entries(x.headers)) x.res.writeHeader(k, v);
    for (const [k, v] of Object.entries(headers)) x.res.writeHeader(k, v);
    x.res.end(body, x.closeAfter);
  });
}

function respondError(x: Exchange, err: AppError): void {
  const headers: Record<string, string> = {};
  if (err.retryAfterMs !== undefined) headers['retry-after'] = String(Math.ceil(err.retryAfterMs / 1000));
  respond(x, err.status, JSON.stringify(httpErrorBody(err)), 'application/json', headers);
}

/** Reads a JSON body, refusing more than MAX_HTTP_BODY_BYTES or one that takes longer than `timeoutMs` to arrive. */
function readJsonBody(x: Exchange, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      x.closeAfter = true;
      reject(badRequest(`request body not received within ${timeoutMs} ms`));
    }, timeoutMs);
    x.res.onAborted(() => {
      // Replaces begin()'s handler, so it must mark the exchange too.
      x.aborted = true;
      clearTimeout(timer);
    });
    x.res.onData((chunk, isLast) => {
      if (done) return;
      size += chunk.byteLength;
      if (size > MAX_HTTP_BODY_BYTES) {
        done = true;
        clearTimeout(timer);
        x.closeAfter = true;
        reject(badRequest(`request body exceeds ${MAX_HTTP_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(Buffer.from(new Uint8Array(chunk))); // copy: uWS reuses the chunk's memory
      if (!isLast) return;
      done = true;
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(badRequest(`body is not valid JSON: ${(err as Error).message}`));
      }
    });
  });
}

function principalFrom(authorization: string, secrets: readonly string[]): Principal {
  if (!authorization) return undefined;
  const m = /^Bearer ([^\s]+)$/i.exec(authorization);
  if (!m) throw new AppError('unauthorized', 'Authorization header must be "Bearer <token>"');
  const v = verifyWithAny(m[1]!, secrets);
  if (!v.ok) throw new AppError('unauthorized', v.reason);
  return v.claims;
}

/** CORS headers for a request from `origin`, when the configuration allows that origin. */
export function corsHeaders(origin: string, allowed: readonly string[]): Record<string, string> {
  if (!origin) return {};
  if (allowed.includes('*')) return { 'access-control-allow-origin': '*' };
  if (allowed.includes(origin)) return { 'access-control-allow-origin': origin, vary: 'Origin' };
  return {};
}

export class HttpEdge {
  private nextRequestId = 1;
  private readonly ipBuckets: BucketMap;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly d: HttpEdgeDeps) {
    this.ipBuckets = new BucketMap(d.limits.ratePerIp, d.limits.burstPerIp);
    this.sweeper = setInterval(() => this.ipBuckets.sweep(performance.now()), 10_000);
    this.sweeper.unref();
  }

  stop(): void {
    clearInterval(this.sweeper);
  }

  mount(app: TemplatedApp): void {
    this.route(app, 'submit', [], true);
    this.route(app, 'top', [], false);
    this.route(app, 'boards', [], false);
    this.route(app, 'ranks', [], false);
    this.route(app, 'page', [], false);
    this.route(app, 'rank', ['user_id'], false);
    this.route(app, 'around', ['user_id'], false);
    this.route(app, 'history', ['user_id'], false);

    app.get(HTTP_ROUTES.health.path, (res) => {
      const x = begin(res);
      void this.d.health().then(
        (h) => respond(x, h.status === 'healthy' ? 200 : 503, JSON.stringify(h)),
        (err: unknown) => respondError(x, toAppError(err)),
      );
    });
    // CORS preflight for the API: allowed origins get the methods and headers the API uses.
    app.options('/api/*', (res, req) => {
      const x = begin(res);
      const cors = corsHeaders(req.getHeader('origin'), this.d.limits.corsOrigins);
      if (!x.aborted) {
        res.cork(() => {
          res.writeStatus('204 No Content');
          for (const [k, v] of Object.entries(cors)) res.writeHeader(k, v);
          if (cors['access-control-allow-origin']) {
            res.writeHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
            res.writeHeader('access-control-allow-headers', 'authorization, content-type');
            res.writeHeader('access-control-max-age', '600');
          }
          res.end();
        });
      }
    });
    const openapi = JSON.stringify(openApiDocument());
    app.get(HTTP_ROUTES.openapi.path, (res) => respond(begin(res), 200, openapi));
    app.get(HTTP_ROUTES.metrics.path, (res) => {
      const x = begin(res);
      void this.d.metrics.registry.metrics().then(
        (text) => respond(x, 200, text, this.d.metrics.registry.contentType),
        (err: unknown) => respondError(x, toAppError(err)),
      );
    });
  }

  /** The last route: anything unmatched is a JSON 404. */
  mountFallback(app: TemplatedApp): void {
    app.any('/*', (res, req) => {
      const x = begin(res);
      respondError(x, new AppError('not_found', `no route for ${req.getMethod().toUpperCase()} ${req.getUrl()}`));
    });
  }

  private route(app: TemplatedApp, op: Exclude<RequestOp, 'ping'>, params: string[], withBody: boolean): void {
    const { method, path } = HTTP_ROUTES[op];
    const handler = (res: HttpResponse, req: HttpRequest) => {
      const started = performance.now();
      const requestId = this.nextRequestId++;
      const x = begin(res);
      // Read everything from req now: it is invalid after the first await.
      const query = Object.fromEntries(new URLSearchParams(req.getQuery() ?? ''));
      const pathParams = Object.fromEntries(params.map((name, i) => [name, decodeURIComponent(req.getParameter(i) ?? '')]));
      const authorization = req.getHeader('authorization');
      x.headers = corsHeaders(req.getHeader('origin'), this.d.limits.corsOrigins);
      const ip = clientAddress(Buffer.from(res.getRemoteAddressAsText()).toString(), req.getHeader('x-forwarded-for'), this.d.limits.trustProxy);
      if (this.d.limits.ratePerIp > 0) {
        const wait = this.ipBuckets.take(ip, started);
        if (wait > 0) {
          recordRequest(this.d.metrics, op, 'http', 'rate_limited');
          if (withBody) x.closeAfter = true; // the body is left unread
          respondError(x, new AppError('rate_limited', 'too many requests from this address', { retryAfterMs: wait }));
          return;
        }
      }
      const work = this.d.apm.transaction('http', op, async () => {
        const principal = principalFrom(authorization, this.d.jwtSecrets);
        const input = withBody ? await readJsonBody(x, this.d.limits.bodyTimeoutMs) : { ...coerceParams(query), ...coerceParams(pathParams) };
        if (withBody && (input === null || typeof input !== 'object' || Array.isArray(input))) {
          throw badRequest('body must be a JSON object');
        }
        const parsed = httpRequestSchema(op).safeParse(input);
        if (!parsed.success) throw badRequest(describeIssues(parsed.error));
        const h = this.d.handlers[op] as (r: unknown, c: { principal: Principal }) => Promise<object>;
        return h(parsed.data, { principal });
      });
      this.d.inflight.track(
        work.then(
          (payload) => {
            recordRequest(this.d.metrics, op, 'http', 'ok', started);
            respond(x, 200, JSON.stringify(httpShape(op, payload)));
          },
          (err: unknown) => {
            const e = toAppError(err);
            if (e.code === 'internal') this.d.log.error({ err, op, request: requestId }, 'request failed');
            else this.d.log.debug({ code: e.code, op, request: requestId }, e.message);
            recordRequest(this.d.metrics, op, 'http', e.code, started);
            respondError(x, e);
          },
        ),
      );
    };
    if (method === 'POST') app.post(path, handler);
    else app.get(path, handler);
  }

}

/** The HTTP replies that differ from the socket's payloads. */
function httpShape(op: Op, payload: object): object {
  if (op === 'submit') return { success: true, ...payload };
  if (op === 'top') {
    const p = payload as { board: string; entries: unknown[] };
    return { board: p.board, top_players: p.entries };
  }
  return payload;
}
