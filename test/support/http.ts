/** A small HTTP client for the JSON API under test. */
import { expect } from 'vitest';

export interface HttpReply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export async function http<T = any>(port: number, method: string, path: string, opts: { body?: unknown; token?: string; raw?: string } = {}): Promise<HttpReply<T>> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined || opts.raw !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers,
    body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
  });
  const text = await res.text();
  let body: any = text;
  if (res.headers.get('content-type')?.includes('application/json')) body = JSON.parse(text);
  return { status: res.status, body, headers: res.headers };
}

/** Submits over HTTP as `token` and expects it accepted. */
export async function submitOk(port: number, token: string, body: { user_id: number; score: number; game_mode: string; username?: string }): Promise<void> {
  const r = await http(port, 'POST', '/api/leaderboard/submit', { token, body });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}
