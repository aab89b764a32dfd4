/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the zod schemas of the contract (not
 * written by hand): request bodies, parameters and replies are the same schemas the server
 * validates with. `npm run lint:openapi` (test/openapi-lint.test.ts) holds it to Redocly's
 * recommended rules, warnings included (redocly.yaml); GET /docs renders it.
 */
import { z } from 'zod';
import { ERROR_CODE_LIST, ERROR_CODES, type ErrorCode } from './codes.ts';
import { HTTP_EXAMPLES } from './examples.ts';
import { HTTP_ROUTES, healthReply, httpError, httpRequestSchema, httpSubmitReply, httpTopReply } from './http.ts';
import { aroundReply, boardsReply, historyReply, pageReply, rankReply, ranksReply } from './replies.ts';
import { REQUEST_SCHEMAS } from './requests.ts';

type Json = Record<string, unknown>;

function schema(s: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

/** Every 4XX/5XX reply has the one error body; each code is a shared response, referenced by status. */
function errorResponses(codes: ErrorCode[]): Json {
  const out: Json = {};
  for (const code of codes) out[String(ERROR_CODES[code].status)] = { $ref: `#/components/responses/${code}` };
  return out;
}

function errorComponents(): Json {
  const out: Json = {};
  for (const code of ERROR_CODE_LIST) {
    const example = code === HTTP_EXAMPLES.error.reply.error.code ? HTTP_EXAMPLES.error.reply : { error: { code, message: ERROR_CODES[code].description } };
    out[code] = {
      description: `${code}: ${ERROR_CODES[code].description}`,
      ...(code === 'rate_limited' ? { headers: { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } } } } : {}),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' }, example } },
    };
  }
  return out;
}

/**
 * Who may call what (server/auth/policy.ts). A submit needs a token; the roles it may carry go in
 * `x-token-roles` and the description, not as role names in `security` (which OpenAPI 3.1 allows
 * but Spectral and older tools take for undeclared OAuth scopes). A read takes no token, but one
 * that is sent is verified (a bad one is 401); the operational routes ignore the header.
 */
const SUBMIT_SECURITY = [{ bearer: [] }];
const READ_SECURITY = [{}, { bearer: [] }];
const NO_SECURITY: Json[] = [];

/**
 * The repository grants no licence yet, so the document says so rather than claim one; with no
 * licence text there is nothing for a `url` or an SPDX `identifier` to name (redocly.yaml turns
 * info-license-strict off for that). Give both when the project picks a licence.
 */
const LICENSE = { name: 'Proprietary: no licence granted' };

/**
 * GET parameters from a route's request schema: names in the path are path parameters, the rest
 * query; a list is written comma-separated (`?user_ids=1,2,3`, OpenAPI's form style unexploded).
 */
function parameters(op: keyof typeof REQUEST_SCHEMAS, path: string): Json[] {
  const input = schema(httpRequestSchema(op), 'input');
  const props = (input.properties ?? {}) as Record<string, Json>;
  const required = new Set((input.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => {
    const inPath = path.includes(`:${name}`);
    const list = s.type === 'array' ? { style: 'form', explode: false } : {};
    return { name, in: inPath ? 'path' : 'query', required: inPath || required.has(name), schema: s, ...list };
  });
}

const openApiPath = (path: string) => path.replace(/:([a-z_]+)/g, '{$1}');

/** Reads that answer for whatever they are asked (an empty board, users not on it) rather than `not_found`. */
const NEVER_NOT_FOUND: ReadonlySet<string> = new Set(['top', 'boards', 'ranks', 'page']);

function getOperation(op: 'top' | 'boards' | 'rank' | 'around' | 'history' | 'ranks' | 'page', summary: string, reply: z.ZodType): Json {
  const path = HTTP_ROUTES[op].path;
  return {
    get: {
      operationId: op,
      summary,
      description: `${summary}: the HTTP form of the \`${op}\` op (docs/protocol.md, "Operations"). No token is needed; one that is sent is verified, and a bad one is 401.`,
      tags: [op === 'history' ? 'users' : 'leaderboard'],
      security: READ_SECURITY,
      parameters: parameters(op, path),
      responses: {
        200: { description: 'OK', content: { 'application/json': { schema: schema(reply, 'output'), example: HTTP_EXAMPLES[op].reply } } },
        ...errorResponses(
          NEVER_NOT_FOUND.has(op)
            ? ['bad_request', 'unauthorized', 'rate_limited', 'unavailable', 'internal']
            : ['bad_request', 'unauthorized', 'not_found', 'rate_limited', 'unavailable', 'internal'],
        ),
      },
    },
  };
}

export function openApiDocument(): Json {
  const r = HTTP_ROUTES;
  return {
    openapi: '3.1.0',
    info: {
      title: 'Leaderboard server HTTP API',
      version: '1.0.0',
      description:
        'The JSON mirror of the WebSocket protocol v1 and its additions (boards, ranks, page: protocol/extensions.md). The WebSocket (/ws, MessagePack) carries the same operations plus live subscriptions. GET /docs renders this document.',
      license: LICENSE,
    },
    servers: [
      { url: '/', description: 'The server that serves this document' },
      {
        url: '{scheme}://{host}',
        description: 'Another deployment',
        variables: {
          scheme: { enum: ['https', 'http'], default: 'https' },
          host: { default: 'localhost:8000', description: 'Host and port (PORT, 8000 by default)' },
        },
      },
    ],
    tags: [
      { name: 'leaderboard', description: 'Scores and the boards they rank' },
      { name: 'users', description: "A player's own record" },
      { name: 'service', description: 'Health, metrics and this documentation' },
    ],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'A JWT in `Authorization: Bearer <token>`: HS256 with JWT_SECRET, or RS256/ES256 with a key of JWT_JWKS_FILE, with `sub` and a `role` of `player`, `server` or `admin`. A player token may submit only for its own user_id (`sub`); server and admin tokens for anyone.',
        },
      },
      schemas: { Error: { ...schema(httpError, 'output'), example: HTTP_EXAMPLES.error.reply } },
      responses: errorComponents(),
    },
    paths: {
      [r.submit.path]: {
        post: {
          operationId: 'submit',
          summary: 'Commit a score (durable before the reply; idempotent by submission_id)',
          description: 'Needs a token: a player token for its own user_id only (403 otherwise), or a server or admin token for any user.',
          tags: ['leaderboard'],
          security: SUBMIT_SECURITY,
          'x-token-roles': ['player', 'server', 'admin'],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schema(REQUEST_SCHEMAS.submit, 'input'), example: HTTP_EXAMPLES.submit.request } },
          },
          responses: {
            200: { description: 'Committed (or a duplicate)', content: { 'application/json': { schema: schema(httpSubmitReply, 'output'), example: HTTP_EXAMPLES.submit.reply } } },
            ...errorResponses(['bad_request', 'unauthorized', 'forbidden', 'conflict', 'rate_limited', 'unavailable', 'internal']),
          },
        },
      },
      [r.top.path]: getOperation('top', 'The top N of a board', httpTopReply),
      [r.boards.path]: getOperation('boards', 'Every board: global, then each mode scored in', boardsReply),
      [r.ranks.path]: getOperation('ranks', 'The entries of listed users (a friends list) on a board, in listing order', ranksReply),
      [r.page.path]: getOperation('page', 'A page of a board in listing order, after a cursor (keyset pagination)', pageReply),
      [openApiPath(r.rank.path)]: getOperation('rank', "A user's rank on a board", rankReply),
      [openApiPath(r.around.path)]: getOperation('around', 'The players around a user', aroundReply),
      [openApiPath(r.history.path)]: getOperation('history', "A user's sessions, newest first", historyReply),
      [r.health.path]: {
        get: {
          operationId: 'health',
          summary: 'PostgreSQL and Redis connectivity',
          description: 'Probes both stores at most once a second and answers every request in between from that probe; 503 when either is down. No token.',
          tags: ['service'],
          security: NO_SECURITY,
          responses: {
            200: { description: 'Both stores answer', content: { 'application/json': { schema: schema(healthReply, 'output'), example: HTTP_EXAMPLES.health.reply } } },
            ...errorResponses(['rate_limited', 'internal']),
            503: { description: 'A store is down', content: { 'application/json': { schema: schema(healthReply, 'output') } } },
          },
        },
      },
      [r.metrics.path]: {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics',
          description: "The server's counters, gauges and histograms in the Prometheus text format. No token.",
          tags: ['service'],
          security: NO_SECURITY,
          responses: {
            200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
            ...errorResponses(['rate_limited', 'internal']),
          },
        },
      },
      [r.openapi.path]: {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          description: 'This OpenAPI 3.1 document, generated from the zod schemas the server validates with. No token.',
          tags: ['service'],
          security: NO_SECURITY,
          responses: {
            200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } },
            ...errorResponses(['rate_limited']),
          },
        },
      },
      [r.docs.path]: {
        get: {
          operationId: 'docs',
          summary: 'This document as a browsable page',
          description: 'An HTML page rendering this document with Swagger UI; the page and every file it loads come from this server. No token.',
          tags: ['service'],
          security: NO_SECURITY,
          responses: {
            200: { description: 'An HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
            ...errorResponses(['rate_limited', 'internal']),
          },
        },
      },
    },
  };
}
