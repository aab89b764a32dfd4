/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the zod schemas of the contract (not
 * written by hand): request bodies, parameters and replies are the same schemas the server
 * validates with.
 */
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from './codes.ts';
import { HTTP_EXAMPLES } from './examples.ts';
import { HTTP_ROUTES, healthReply, httpError, httpRequestSchema, httpSubmitReply, httpTopReply } from './http.ts';
import { aroundReply, boardsReply, historyReply, pageReply, rankReply, ranksReply } from './replies.ts';
import { REQUEST_SCHEMAS } from './requests.ts';

type Json = Record<string, unknown>;

function schema(s: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

function errorResponses(codes: ErrorCode[]): Json {
  const out: Json = {};
  for (const code of codes) {
    out[String(ERROR_CODES[code].status)] = {
      description: `${code}: ${ERROR_CODES[code].description}`,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return out;
}

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
      parameters: parameters(op, path),
      responses: {
        200: { description: 'OK', content: { 'application/json': { schema: schema(reply, 'output'), example: HTTP_EXAMPLES[op].reply } } },
        ...errorResponses(NEVER_NOT_FOUND.has(op) ? ['bad_request', 'unavailable', 'internal'] : ['bad_request', 'not_found', 'unavailable', 'internal']),
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
        'The JSON mirror of the WebSocket protocol v1 and its additions (boards, ranks, page: protocol/extensions.md). The WebSocket (/ws, MessagePack) carries the same operations plus live subscriptions.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Error: { ...schema(httpError, 'output'), example: HTTP_EXAMPLES.error.reply } },
    },
    paths: {
      [r.submit.path]: {
        post: {
          operationId: 'submit',
          summary: 'Commit a score (durable before the reply; idempotent by submission_id)',
          security: [{ bearer: [] }],
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
          responses: {
            200: { description: 'Both stores answer', content: { 'application/json': { schema: schema(healthReply, 'output'), example: HTTP_EXAMPLES.health.reply } } },
            503: { description: 'A store is down', content: { 'application/json': { schema: schema(healthReply, 'output') } } },
          },
        },
      },
      [r.metrics.path]: {
        get: { operationId: 'metrics', summary: 'Prometheus metrics', responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': {} } } } },
      },
      [r.openapi.path]: {
        get: { operationId: 'openapi', summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': {} } } } },
      },
    },
  };
}
