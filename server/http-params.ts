/**
 * Query strings and path parameters as the client sent them, decoded without ever throwing past
 * the edge: a malformed percent-escape (`%E0`, `%ZZ`) or bytes that are not UTF-8 are a
 * `bad_request` naming the parameter. (`decodeURIComponent` throws URIError on them, and
 * `URLSearchParams` silently turns them into U+FFFD; neither is acceptable at a trust boundary.)
 */
import { badRequest } from './errors.ts';

/** Most parameters one query string may carry; more is refused rather than parsed. */
export const MAX_QUERY_PARAMS = 64;

function decodeComponent(raw: string, what: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    // URIError is the only thing decodeURIComponent throws: the escape itself is the problem.
    throw badRequest(`${what} has a malformed percent-escape`);
  }
}

/** A path parameter (`/rank/:user_id`) decoded. */
export function decodePathParam(raw: string, name: string): string {
  return decodeComponent(raw, `path parameter ${name}`);
}

/**
 * `a=1&b=x+y` as a record (the last value wins when a name repeats, as with URLSearchParams; `+`
 * is a space, as in forms).
 * Names are decoded too; an empty segment (`a=1&&b=2`) is skipped.
 */
export function decodeQuery(raw: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (!raw) return out;
  const parts = raw.split('&');
  if (parts.length > MAX_QUERY_PARAMS) throw badRequest(`query string has more than ${MAX_QUERY_PARAMS} parameters`);
  for (const part of parts) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? '' : part.slice(eq + 1);
    const name = decodeComponent(rawName.replaceAll('+', ' '), 'query parameter name');
    out[name] = decodeComponent(rawValue.replaceAll('+', ' '), `query parameter ${JSON.stringify(name.slice(0, 64))}`);
  }
  return out;
}
