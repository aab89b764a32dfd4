/**
 * JWT HS256: signing and verification with node:crypto. Only HS256 is accepted; `alg: none`, other
 * algorithms, bad signatures, malformed claims and expired tokens are refused.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const ROLES = ['player', 'server', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const claimsSchema = z.object({
  sub: z.string().min(1).max(256),
  role: z.enum(ROLES),
  exp: z.number().finite().optional(),
  iat: z.number().finite().optional(),
});
export type Claims = z.output<typeof claimsSchema>;

const headerSchema = z.object({ alg: z.literal('HS256'), typ: z.string().optional() });

export type VerifyResult = { ok: true; claims: Claims } | { ok: false; reason: string };

const b64url = (buf: Buffer) => buf.toString('base64url');
const B64URL = /^[A-Za-z0-9_-]*$/;

function parseJsonSegment(segment: string): unknown {
  if (!B64URL.test(segment)) return undefined;
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    // Not JSON: the caller reports the token as malformed.
    return undefined;
  }
}

export function signToken(claims: Claims, secret: string): string {
  const header = b64url(Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })));
  const payload = b64url(Buffer.from(JSON.stringify(claims)));
  const signature = b64url(createHmac('sha256', secret).update(`${header}.${payload}`).digest());
  return `${header}.${payload}.${signature}`;
}

/** Verifies against each secret in turn (the current one first, then those being rotated out). */
export function verifyWithAny(token: string, secrets: readonly string[], nowMs: number = Date.now()): VerifyResult {
  let result: VerifyResult = { ok: false, reason: 'no secret configured' };
  for (const secret of secrets) {
    result = verifyToken(token, secret, nowMs);
    if (result.ok || result.reason !== 'bad signature') return result;
  }
  return result;
}

export function verifyToken(token: string, secret: string, nowMs: number = Date.now()): VerifyResult {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed token' };
  const [h, p, s] = parts as [string, string, string];
  const header = headerSchema.safeParse(parseJsonSegment(h));
  if (!header.success) return { ok: false, reason: 'unsupported token header (only HS256)' };
  if (!B64URL.test(s)) return { ok: false, reason: 'malformed signature' };
  const expected = createHmac('sha256', secret).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad signature' };
  }
  const claims = claimsSchema.safeParse(parseJsonSegment(p));
  if (!claims.success) return { ok: false, reason: 'invalid claims' };
  if (claims.data.exp !== undefined && claims.data.exp * 1000 <= nowMs) return { ok: false, reason: 'token expired' };
  if (claims.data.role === 'player' && !/^[1-9][0-9]{0,15}$/.test(claims.data.sub)) {
    return { ok: false, reason: 'player token sub must be a user id' };
  }
  return { ok: true, claims: claims.data };
}
