/**
 * The HTTP mirror of the socket operations: routes, query coercion and the reply shapes that differ
 * from the socket's. Bodies and queries are validated by the same request schemas as socket frames.
 */
import { z } from 'zod';
import { ERROR_CODE_LIST } from './codes.ts';
import { entry, submitReply } from './replies.ts';

export const HTTP_ROUTES = {
  submit: { method: 'POST', path: '/api/leaderboard/submit' },
  top: { method: 'GET', path: '/api/leaderboard/top' },
  boards: { method: 'GET', path: '/api/leaderboard/boards' },
  rank: { method: 'GET', path: '/api/leaderboard/rank/:user_id' },
  around: { method: 'GET', path: '/api/leaderboard/around/:user_id' },
  history: { method: 'GET', path: '/api/users/:user_id/history' },
  health: { method: 'GET', path: '/health' },
  metrics: { method: 'GET', path: '/metrics' },
  openapi: { method: 'GET', path: '/openapi.json' },
} as const;

/** Largest HTTP request body accepted. */
export const MAX_HTTP_BODY_BYTES = 16 * 1024;

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

/**
 * Query and path parameters arrive as strings: a plain decimal becomes a number, anything else
 * stays a string so the request schema rejects it with a clear message.
 */
export function coerceParams(params: Record<string, string>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(params)) out[key] = DECIMAL.test(value) ? Number(value) : value;
  return out;
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
