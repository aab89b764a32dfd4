/**
 * The error and close code registries (protocol/codes.ts) held both ways, as fastify's errors test
 * holds its own: every code is wherever a client reads about codes, and nothing is there that the
 * registry lacks. docs/protocol.md's tables are test/protocol-doc.test.ts's; this file holds the
 * registries to the OpenAPI document the server serves (GET /openapi.json), to the README's summary
 * of the contract, and to the server's side of the wire: each code's error frame, HTTP status line
 * and body, and how the end of a failed request (server/request-end.ts) logs and counts it.
 * Pure: starts no server and no store.
 */
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  CLOSE_CODES,
  ERROR_CODES,
  ERROR_CODE_LIST,
  decode,
  encode,
  errorFrame,
  httpError,
  openApiDocument,
  type ErrorCode,
} from '../protocol/index.ts';
import { AppError, toErrorFrame, toHttpError } from '../server/errors.ts';
import { statusLine } from '../server/http-exchange.ts';
import type { Logger } from '../server/log.ts';
import { createMetrics, type Metrics } from '../server/metrics.ts';
import { endFailedRequest, type FailedRequest, type RequestEndDeps } from '../server/request-end.ts';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const CODES = [...ERROR_CODE_LIST].sort();

// ---- the OpenAPI document ----------------------------------------------------------------------

type Json = Record<string, unknown>;

/** As GET /openapi.json sends it (server/http.ts serves openApiDocument() as JSON). */
const api = JSON.parse(JSON.stringify(openApiDocument())) as {
  components: { responses: Record<string, Json>; schemas: Record<string, Json> };
  paths: Record<string, Record<string, { responses: Record<string, Json> }>>;
};

const RESPONSE_REF = '#/components/responses/';

/** Every object anywhere in `value`. */
function* objects(value: unknown): Generator<Json> {
  if (value === null || typeof value !== 'object') return;
  if (!Array.isArray(value)) yield value as Json;
  for (const v of Object.values(value)) yield* objects(v);
}

describe('the OpenAPI document: error codes', () => {
  it('has one shared error response per code of the registry, and no other', () => {
    expect(Object.keys(api.components.responses).sort()).toEqual(CODES);
  });

  it.each(ERROR_CODE_LIST)("%s: its response gives the registry's meaning and the Error body", (code) => {
    const r = api.components.responses[code] as { description: string; content: Record<string, { schema: Json; example: { error: { code: string } } }> };
    expect(r.description).toBe(`${code}: ${ERROR_CODES[code].description}`);
    expect(r.content['application/json']!.schema).toEqual({ $ref: '#/components/schemas/Error' });
    expect(r.content['application/json']!.example.error.code).toBe(code);
  });

  it("lets the Error body carry exactly the registry's codes", () => {
    const body = api.components.schemas.Error as { properties: { error: { properties: { code: { enum: string[] } } } } };
    expect([...body.properties.error.properties.code.enum].sort()).toEqual(CODES);
  });

  it('answers every operation\'s errors with a code of the registry, under that code\'s status', () => {
    let refs = 0;
    for (const [path, methods] of Object.entries(api.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        for (const [status, reply] of Object.entries(operation.responses)) {
          if (Number(status) < 400) continue;
          const where = `${method.toUpperCase()} ${path} ${status}`;
          const ref = reply.$ref;
          if (typeof ref !== 'string') {
            // An error status answered with a body of its own (/health's 503) is not an error code.
            expect(JSON.stringify(reply), where).not.toContain('#/components/schemas/Error');
            continue;
          }
          refs++;
          expect(ref.startsWith(RESPONSE_REF), where).toBe(true);
          const code = ref.slice(RESPONSE_REF.length);
          expect(CODES, where).toContain(code);
          expect(ERROR_CODES[code as ErrorCode].status, where).toBe(Number(status));
        }
      }
    }
    expect(refs).toBeGreaterThan(0);
  });

  it('refers to, and shows in examples, no error code outside the registry', () => {
    let examples = 0;
    for (const o of objects(api)) {
      if (typeof o.$ref === 'string' && o.$ref.startsWith(RESPONSE_REF)) expect(CODES, o.$ref).toContain(o.$ref.slice(RESPONSE_REF.length));
      // An example body, {error: {code: "..."}} (the Error schema's own `error` holds no string code).
      const error = o.error as { code?: unknown } | undefined;
      if (error !== null && typeof error === 'object' && typeof error.code === 'string') {
        examples++;
        expect(CODES, `example code "${error.code}"`).toContain(error.code);
      }
    }
    expect(examples).toBeGreaterThanOrEqual(ERROR_CODE_LIST.length);
  });
});

// ---- the README --------------------------------------------------------------------------------

/** The README's "- <label>: ..." bullet, continuation lines included, as one line. */
function bullet(label: string): string {
  const lines = README.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`- ${label}:`));
  if (start < 0) throw new Error(`README.md has no "- ${label}:" bullet`);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => l.startsWith('- ') || l.trim() === '');
  return [lines[start]!, ...rest.slice(0, end < 0 ? rest.length : end)].join(' ').replace(/\s+/g, ' ');
}

describe("the README's summary of the contract", () => {
  it("lists every error code in the registry's order, with its HTTP status, and no other", () => {
    const text = bullet('Errors');
    // The list in brackets, "(`bad_request`, `unauthorized`, ...)".
    const list = /\((`[a-z_]+`(?:, `[a-z_]+`)+)\)/.exec(text)?.[1] ?? '';
    const codes = [...list.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
    expect(codes).toEqual(ERROR_CODE_LIST);
    const statuses = /\b(\d{3}(?:\/\d{3})+)\b/.exec(text)?.[1]?.split('/').map(Number);
    expect(statuses).toEqual(ERROR_CODE_LIST.map((code) => ERROR_CODES[code].status));
  });

  it('lists every close code, and no other', () => {
    // "1009 (frame over 4096 bytes)": a code is a number followed by what it means in brackets.
    const codes = [...bullet('Close codes').matchAll(/\b(\d{4}) \(/g)].map((m) => Number(m[1]));
    expect(codes.sort()).toEqual(Object.values(CLOSE_CODES).sort());
  });
});

// ---- the server's side of the wire -------------------------------------------------------------

/** Every status the server writes, with the status line it must carry (a client or proxy may log it). */
const STATUS_LINES: Record<number, string> = {
  200: '200 OK',
  204: '204 No Content',
  304: '304 Not Modified',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  409: '409 Conflict',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

describe('each code on the wire', () => {
  it('writes every status with its standard status line', () => {
    for (const [status, line] of Object.entries(STATUS_LINES)) expect(statusLine(Number(status))).toBe(line);
  });

  it.each(ERROR_CODE_LIST)('%s: an AppError of it is answered with its status and line over HTTP', (code) => {
    const e = new AppError(code, 'why it failed');
    expect(e.status).toBe(ERROR_CODES[code].status);
    expect(STATUS_LINES[e.status], `a pinned status line for ${e.status}`).toBeDefined();
    const r = toHttpError(e);
    expect(r.status).toBe(ERROR_CODES[code].status);
    expect(r.headers).toEqual({});
    const body: unknown = JSON.parse(r.body);
    expect(httpError.parse(body)).toEqual({ error: { code, message: 'why it failed' } });
    expect(body).toEqual({ error: { code, message: 'why it failed' } }); // nothing the schema would strip
  });

  it('sends a wait over HTTP as Retry-After in whole seconds, rounded up', () => {
    const retryAfter = (ms: number) => toHttpError(new AppError('rate_limited', 'later', { retryAfterMs: ms })).headers;
    expect([retryAfter(0), retryAfter(1000), retryAfter(1001)]).toEqual([{ 'retry-after': '0' }, { 'retry-after': '1' }, { 'retry-after': '2' }]);
  });

  it.each(ERROR_CODE_LIST)('%s: its error frame is one the contract accepts, rid and wait included', (code) => {
    const frame = decode(encode(toErrorFrame(new AppError(code, 'why', { retryAfterMs: 250 }), 17)));
    expect(errorFrame.parse(frame)).toEqual({ op: 'error', rid: 17, code, message: 'why', retry_after_ms: 250 });
    const bare = decode(encode(toErrorFrame(new AppError(code, 'why'), undefined)));
    expect(bare).toEqual({ op: 'error', code, message: 'why' });
    expect(errorFrame.safeParse(bare).success).toBe(true);
  });
});

// ---- the end of a failed request ---------------------------------------------------------------

interface Line {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A real logger and real metrics, the log written to memory. */
function ending(): { d: RequestEndDeps; lines: Line[] } {
  const lines: Line[] = [];
  const log: Logger = pino({ level: 'debug', base: undefined, timestamp: false }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
  return { d: { log, metrics: createMetrics() }, lines };
}

async function counted(m: Metrics): Promise<{ requests: unknown[]; errors: unknown[]; timed: number }> {
  const requests = (await m.requests.get()).values.map((v) => ({ ...v.labels, value: v.value }));
  const errors = (await m.errors.get()).values.map((v) => ({ ...v.labels, value: v.value }));
  const timed = (await m.duration.get()).values.filter((v) => v.metricName?.endsWith('_count')).reduce((n, v) => n + v.value, 0);
  return { requests, errors, timed };
}

const LEVEL = { debug: 20, error: 50 };

describe('the end of a failed request', () => {
  it.each(ERROR_CODE_LIST.filter((c) => c !== 'internal'))("a handler's %s is a debug line under its message, counted and timed under its code", async (code) => {
    const { d, lines } = ending();
    const thrown = new AppError(code, 'the client asked wrongly');
    const req: FailedRequest = { op: 'rank', transport: 'http', started: performance.now(), ids: { op: 'rank', request: 7 }, kind: 'failed' };
    expect(endFailedRequest(d, req, thrown)).toBe(thrown);
    expect(lines).toEqual([{ level: LEVEL.debug, msg: 'the client asked wrongly', code, op: 'rank', request: 7 }]);
    expect(await counted(d.metrics)).toEqual({
      requests: [{ op: 'rank', transport: 'http', outcome: code, value: 1 }],
      errors: [{ code, value: 1 }],
      timed: 1,
    });
  });

  it('an unexpected throw is internal: an error line with its cause, a reply that leaks nothing of it', async () => {
    const { d, lines } = ending();
    const thrown = new Error('connection string postgres://secret');
    const e = endFailedRequest(d, { op: 'top', transport: 'ws', started: performance.now(), ids: { op: 'top', socket: 3, rid: 9 }, kind: 'failed' }, thrown);
    expect(e).toBeInstanceOf(AppError);
    expect([e.code, e.message, e.cause]).toEqual(['internal', 'internal server error', thrown]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: LEVEL.error, msg: 'request failed', op: 'top', socket: 3, rid: 9, err: { message: thrown.message } });
    expect(await counted(d.metrics)).toEqual({
      requests: [{ op: 'top', transport: 'ws', outcome: 'internal', value: 1 }],
      errors: [{ code: 'internal', value: 1 }],
      timed: 1,
    });
  });

  it("a handler's own internal AppError is logged as an error too", () => {
    const { d, lines } = ending();
    endFailedRequest(d, { op: 'submit', transport: 'http', ids: { op: 'submit' }, kind: 'failed' }, new AppError('internal', 'store answered nonsense'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: LEVEL.error, msg: 'request failed', op: 'submit', err: { message: 'store answered nonsense' } });
  });

  it.each(ERROR_CODE_LIST)("the edge's refusal with %s is counted under its code, neither logged nor timed", async (code) => {
    const { d, lines } = ending();
    const refusal = new AppError(code, 'refused');
    expect(endFailedRequest(d, { op: 'invalid', transport: 'ws', ids: { socket: 1 }, kind: 'refused' }, refusal)).toBe(refusal);
    expect(lines).toEqual([]);
    expect(await counted(d.metrics)).toEqual({
      requests: [{ op: 'invalid', transport: 'ws', outcome: code, value: 1 }],
      errors: [{ code, value: 1 }],
      timed: 0,
    });
  });

  it('a throw escaping the edge itself is an error line under its own message, counted internal', async () => {
    const { d, lines } = ending();
    const e = endFailedRequest(d, { op: 'invalid', transport: 'ws', ids: { socket: 4 }, kind: { fault: 'frame handling failed' } }, new TypeError('boom'));
    expect(e.code).toBe('internal');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: LEVEL.error, msg: 'frame handling failed', socket: 4, err: { type: 'TypeError', message: 'boom' } });
    expect(lines[0]).not.toHaveProperty('op');
    expect(await counted(d.metrics)).toEqual({
      requests: [{ op: 'invalid', transport: 'ws', outcome: 'internal', value: 1 }],
      errors: [{ code: 'internal', value: 1 }],
      timed: 0,
    });
  });
});
