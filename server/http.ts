/**
 * The HTTP edge: the JSON mirror of the socket ops, /health, /metrics, /openapi.json and /docs
 * (server/docs-page.ts). Same pipeline as the socket (read, validate, dispatch), same handlers,
 * same error registry mapped to HTTP statuses.
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
import { begin, respond, respondError, writeResponse, type Exchange } from './http-exchange.ts';
import { mountDocs } from './docs-page.ts';
import { decodePathParam, decodeQuery } from './http-params.ts';
import { clientAddress } from './limits/connection-guard.ts';
import { BucketMap } from './limits/token-bucket.ts';
import { verifyWithAny } from './auth/jwt.ts';
import type { Principal } from './auth/policy.ts';
import { AppError, badRequest, toAppError } from './errors.ts';
import { describeIssues } from './frames.ts';
import type { Inflight } from './inflight.ts';
import type { Logger } from './log.ts';
import { recordRequest, type Metrics } from './metrics.ts';
import type { Handlers, RequestOp } from './ops.ts';
import { endFailedRequest } from './request-end.ts';
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

/** /health probes both stores; its answer is reused this long, so a flood of probes costs the stores nothing. */
export const HEALTH_CACHE_MS = 1000;

/** What a route handler gets: the exchange, the request (valid until its first await), and when it started. */
export type RouteHandler = (x: Exchange, req: HttpRequest, started: number) => void;

export class HttpEdge {
  private nextRequestId = 1;
  private readonly ipBuckets: BucketMap;
  private readonly sweeper: NodeJS.Timeout;
  private health: { at: number; reply: Promise<HealthReply> } | undefined;

  constructor(private readonly d: HttpEdgeDeps) {
    this.ipBuckets = new BucketMap(d.limits.ratePerIp, d.limits.burstPerIp);
    this.sweeper = setInterval(() => this.ipBuckets.sweep(performance.now()), 10_000);
    this.sweeper.unref();
  }

  stop(): void {
    clearInterval(this.sweeper);
  }

  /**
   * Every HTTP route goes through here: the per-address rate limit first, then the handler. An
   * error escaping a handler is logged, counted and answered `internal`; it never reaches uWS,
   * which would end the process.
   */
  guarded(route: string, fn: RouteHandler): (res: HttpResponse, req: HttpRequest) => void {
    return (res, req) => {
      const started = performance.now();
      let x: Exchange | undefined;
      try {
        x = begin(res);
        x.headers = corsHeaders(req.getHeader('origin'), this.d.limits.corsOrigins);
        if (this.d.limits.ratePerIp > 0) {
          const ip = clientAddress(Buffer.from(res.getRemoteAddressAsText()).toString(), req.getHeader('x-forwarded-for'), this.d.limits.trustProxy);
          const wait = this.ipBuckets.take(ip, started);
          if (wait > 0) {
            const limited = new AppError('rate_limited', 'too many requests from this address', { retryAfterMs: wait });
            const e = endFailedRequest(this.d, { op: route, transport: 'http', kind: 'refused' }, limited);
            if (req.getMethod() !== 'get') x.closeAfter = true; // a body may be left unread
            respondError(x, e);
            return;
          }
        }
        fn(x, req, started);
      } catch (err) {
        const e = endFailedRequest(this.d, { op: route, transport: 'http', started, ids: { route }, kind: { fault: 'HTTP handler failed' } }, err);
        if (x) {
          x.closeAfter = true;
          respondError(x, e);
        } else {
          res.close(); // not even the exchange could be set up: nothing sensible to send
        }
      }
    };
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

    app.get(
      HTTP_ROUTES.health.path,
      this.guarded('health', (x) => {
        void this.cachedHealth().then(
          (h) => respond(x, h.status === 'healthy' ? 200 : 503, JSON.stringify(h)),
          (err: unknown) => respondError(x, toAppError(err)),
        );
      }),
    );
    // CORS preflight for the API: allowed origins get the methods and headers the API uses.
    app.options(
      '/api/*',
      this.guarded('preflight', (x) => {
        const headers: Record<string, string> = {};
        if (x.headers['access-control-allow-origin']) {
          headers['access-control-allow-methods'] = 'GET, POST, OPTIONS';
          headers['access-control-allow-headers'] = 'authorization, content-type';
          headers['access-control-max-age'] = '600';
        }
        writeResponse(x, { status: 204, headers }, undefined);
      }),
    );
    const openapi = JSON.stringify(openApiDocument());
    app.get(HTTP_ROUTES.openapi.path, this.guarded('openapi', (x) => respond(x, 200, openapi)));
    mountDocs(app, this.d.log, (route, fn) => this.guarded(route, fn));
    app.get(
      HTTP_ROUTES.metrics.path,
      this.guarded('metrics', (x) => {
        void this.d.metrics.registry.metrics().then(
          (text) => respond(x, 200, text, this.d.metrics.registry.contentType),
          (err: unknown) => respondError(x, toAppError(err)),
        );
      }),
    );
  }

  /** The last route: anything unmatched is a JSON 404. */
  mountFallback(app: TemplatedApp): void {
    app.any(
      '/*',
      this.guarded('not_found', (x, req) => {
        const method = req.getMethod().toUpperCase();
        if (method !== 'GET' && method !== 'HEAD') x.closeAfter = true; // a body may be left unread
        // The path is echoed as JSON text (escaped), and cut: it is the client's, not ours.
        respondError(x, new AppError('not_found', `no route for ${method.slice(0, 16)} ${req.getUrl().slice(0, 256)}`));
      }),
    );
  }

  /** Both stores' state, probed at most once per HEALTH_CACHE_MS whatever the request rate. */
  private cachedHealth(): Promise<HealthReply> {
    const now = performance.now();
    if (!this.health || now - this.health.at >= HEALTH_CACHE_MS) this.health = { at: now, reply: this.d.health() };
    return this.health.reply;
  }

  private route(app: TemplatedApp, op: Exclude<RequestOp, 'ping'>, params: string[], withBody: boolean): void {
    const { method, path } = HTTP_ROUTES[op];
    const handler = this.guarded(op, (x, req, started) => {
      const requestId = this.nextRequestId++;
      // Read everything from req now: it is invalid after the first await.
      const rawQuery = req.getQuery() ?? '';
      const rawParams = params.map((_, i) => req.getParameter(i) ?? '');
      const authorization = req.getHeader('authorization');
      const work = this.d.apm.transaction('http', op, async () => {
        const principal = principalFrom(authorization, this.d.jwtSecrets);
        let input: unknown;
        if (withBody) {
          input = await readJsonBody(x, this.d.limits.bodyTimeoutMs);
          if (input === null || typeof input !== 'object' || Array.isArray(input)) throw badRequest('body must be a JSON object');
        } else {
          const query = decodeQuery(rawQuery);
          const pathParams = Object.fromEntries(params.map((name, i) => [name, decodePathParam(rawParams[i]!, name)]));
          input = { ...coerceParams(query), ...coerceParams(pathParams) };
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
          (err: unknown) => respondError(x, endFailedRequest(this.d, { op, transport: 'http', started, ids: { op, request: requestId }, kind: 'failed' }, err)),
        ),
      );
    });
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
