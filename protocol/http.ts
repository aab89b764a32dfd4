/**
 * The HTTP mirror of the socket operations: routes, query coercion and the reply shapes that differ
 * from the socket's. Bodies and queries are validated by the same request schemas as socket frames.
 */
import { z } from 'zod';
import { ERROR_CODE_LIST, type Op } from './codes.ts';
import * as f from './fields.ts';
import { entry, submitReply } from './replies.ts';
import { REQUEST_SCHEMAS, pageRequest } from './requests.ts';

export const HTTP_ROUTES = {
  submit: { method: 'POST', path: '/api/leaderboard/submit' },
  top: { method: 'GET', path: '/api/leaderboard/top' },
  boards: { method: 'GET', path: '/api/leaderboard/boards' },
  ranks: { method: 'GET', path: '/api/leaderboard/ranks' },
  page: { method: 'GET', path: '/api/leaderboard/page' },
  rank: { method: 'GET', path: '/api/leaderboard/rank/:user_id' },
  around: { method: 'GET', path: '/api/leaderboard/around/:user_id' },
  history: { method: 'GET', path: '/api/users/:user_id/history' },
  health: { method: 'GET', path: '/health' },
  metrics: { method: 'GET', path: '/metrics' },
  openapi: { method: 'GET', path: '/openapi.json' },
  docs: { method: 'GET', path: '/docs' },
} as const;

/** Largest HTTP request body accepted. */
export const MAX_HTTP_BODY_BYTES = 16 * 1024;

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

/** Query parameters that carry a comma-separated list (`?user_ids=1,2,3`); none of v1's do. */
const LIST_PARAMS: ReadonlySet<string> = new Set(['user_ids']);

const coerceOne = (value: string): string | number => (DECIMAL.test(value) ? Number(value) : value);

/**
 * Query and path parameters arrive as strings: a plain decimal becomes a number, anything else
 * stays a string so the request schema rejects it with a clear message. A list parameter becomes
 * an array of such values (an empty one when the parameter is empty).
 */
export function coerceParams(params: Record<string, string>): Record<string, string | number | (string | number)[]> {
  const out: Record<string, string | number | (string | number)[]> = {};
  for (const [key, value] of Object.entries(params)) {
    out[key] = LIST_PARAMS.has(key) ? (value === '' ? [] : value.split(',').map(coerceOne)) : coerceOne(value);
  }
  return out;
}

/**
 * `page` over HTTP: a query is flat, so the cursor `after` arrives as `after_total` and
 * `after_user_id` (both or neither) and is put back together before the handler sees it.
 */
export const httpPageQuery = pageRequest
  .omit({ after: true })
  .extend({ after_total: f.total.optional(), after_user_id: f.userId.optional() })
  .refine((q) => (q.after_total === undefined) === (q.after_user_id === undefined), {
    message: 'after_total and after_user_id go together',
    path: ['after_total'],
  })
  .transform(({ after_total, after_user_id, ...rest }) =>
    after_total === undefined || after_user_id === undefined ? rest : { ...rest, after: { total_score: after_total, user_id: after_user_id } },
  );

/** The schema a route's query or body is validated with: the op's request schema unless its HTTP shape differs. */
export function httpRequestSchema(op: Op): z.ZodType {
  return op === 'page' ? httpPageQuery : REQUEST_SCHEMAS[op];
}

export const httpSubmitReply = submitReply.extend({ success: z.literal(true) });
export const httpTopReply = z.object({ board: z.string(), top_players: z.array(entry) });

export const healthReply = z.object({
  status: z.enum(['healthy', 'unhealthy']),
  database: z.enum(['connected', 'disconnected']),
  redis: z.enum(['connected', 'disconnected']),
});
export type HealthReply = z.output<typeof healthReply>;

export const httpError = z.object({
  error: z.object({ code: z.enum(ERROR_CODE_LIST as [string, ...string[]]), message: z.string() }),
});
