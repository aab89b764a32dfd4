/**
 * JWT verification with node:crypto: HS256 with the shared secrets, and RS256/ES256 with public
 * keys by `kid` when a JWKS is configured. Refused: `alg: none` and other algorithms, a `crit`
 * header, bad signatures, JSON with a key given twice, malformed claims, expired tokens, tokens not
 * valid yet or issued in the future, a foreign audience or issuer, and player tokens without `exp`
 * or living longer than the configured maximum. Also signs HS256 tokens (the CLI, the dev token).
 */
import { createHmac, timingSafeEqual, verify } from 'node:crypto';
import { z } from 'zod';
import type { PublicKeys } from './jwks.ts';
import { parseStrictJson } from './strict-json.ts';

export const ROLES = ['player', 'server', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const numericDate = z.number().finite();
const claimsSchema = z.object({
  sub: z.string().min(1).max(256),
  role: z.enum(ROLES),
  exp: numericDate.optional(),
  nbf: numericDate.optional(),
  iat: numericDate.optional(),
  aud: z.union([z.string(), z.array(z.string()).max(64)]).optional(),
  iss: z.string().optional(),
});
export type Claims = z.output<typeof claimsSchema>;

const headerSchema = z.object({
  alg: z.enum(['HS256', 'RS256', 'ES256']),
  typ: z.string().optional(),
  kid: z.string().optional(),
});

/** The claim rules beyond the signature (JWT_LEEWAY_S, JWT_MAX_PLAYER_TTL_S, JWT_AUDIENCE, JWT_ISSUER). */
export interface TokenPolicy {
  /** Clock skew tolerated on `nbf` and `iat`, in seconds (`exp` is exact). */
  readonly leewayS: number;
  /** Longest a player token may live: `exp - iat`, or `exp - now` when it has no `iat`. */
  readonly maxPlayerTtlS: number;
  /** When set, `aud` must name it; when unset, a token with an `aud` is refused (RFC 7519 4.1.3). */
  readonly audience?: string | undefined;
  /** When set, `iss` must equal it. */
  readonly issuer?: string | undefined;
}
export const DEFAULT_LEEWAY_S = 30;
export const DEFAULT_MAX_PLAYER_TTL_S = 24 * 3600;
export const DEFAULT_TOKEN_POLICY: TokenPolicy = Object.freeze({ leewayS: DEFAULT_LEEWAY_S, maxPlayerTtlS: DEFAULT_MAX_PLAYER_TTL_S });

/**
 * What tokens are checked against: the HS256 secrets in order (the current one first, then those
 * being rotated out), with the claim policy and any public keys carried on the same array, so an
 * edge that holds it as `readonly string[]` hands all of it on. Build it with keyring(): a bare
 * array (a copy, say) has no policy, and every token is then refused rather than checked by less.
 */
export type Keyring = readonly string[] & { readonly policy?: TokenPolicy; readonly publicKeys?: PublicKeys | undefined };

export function keyring(secrets: readonly string[], policy: TokenPolicy = DEFAULT_TOKEN_POLICY, publicKeys?: PublicKeys): Keyring {
  return Object.freeze(Object.assign([...secrets], { policy, publicKeys }));
}

export type VerifyResult = { ok: true; claims: Claims } | { ok: false; reason: string };

/** Far above any real token; a header this long is refused before anything is decoded. */
export const MAX_TOKEN_CHARS = 8192;

const b64url = (buf: Buffer) => buf.toString('base64url');
const B64URL = /^[A-Za-z0-9_-]*$/;
const USER_ID = /^[1-9][0-9]{0,15}$/;

type Segment = { ok: true; value: unknown } | { ok: false; why: string };

function parseJsonSegment(segment: string): Segment {
  if (!B64URL.test(segment)) return { ok: false, why: 'not base64url' };
  try {
    return { ok: true, value: parseStrictJson(Buffer.from(segment, 'base64url').toString('utf8')) };
  } catch (err) {
    // StrictJsonError, or JSON.parse's SyntaxError on a string token: either way not one reading.
    return { ok: false, why: (err as Error).message };
  }
}

const refuse = (reason: string): VerifyResult => ({ ok: false, reason });

export function signToken(claims: Claims, secret: string): string {
  const header = b64url(Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })));
  const payload = b64url(Buffer.from(JSON.stringify(claims)));
  const signature = b64url(createHmac('sha256', secret).update(`${header}.${payload}`).digest());
  return `${header}.${payload}.${signature}`;
}

/** Verifies with one HS256 secret (tests and tools); the server uses verifyWithAny with its keyring. */
export function verifyToken(token: string, secret: string, nowMs: number = Date.now(), policy: TokenPolicy = DEFAULT_TOKEN_POLICY): VerifyResult {
  return verifyWithAny(token, keyring([secret], policy), nowMs);
}

export function verifyWithAny(token: string, keys: Keyring, nowMs: number = Date.now()): VerifyResult {
  const policy = keys.policy;
  if (!policy) return refuse('no token policy configured');
  if (token.length > MAX_TOKEN_CHARS) return refuse(`token longer than ${MAX_TOKEN_CHARS} characters`);
  const parts = token.split('.');
  if (parts.length !== 3) return refuse('malformed token');
  const [h, p, s] = parts as [string, string, string];
  const rawHeader = parseJsonSegment(h);
  if (!rawHeader.ok) return refuse(`malformed token header: ${rawHeader.why}`);
  if (typeof rawHeader.value === 'object' && rawHeader.value !== null && 'crit' in rawHeader.value) {
    return refuse('token header has "crit": this server supports no JWS extension');
  }
  const header = headerSchema.safeParse(rawHeader.value);
  const algs = keys.publicKeys ? 'HS256, RS256, ES256' : 'HS256';
  if (!header.success || (header.data.alg !== 'HS256' && !keys.publicKeys)) return refuse(`unsupported token header (accepted alg: ${algs})`);
  if (!B64URL.test(s)) return refuse('malformed signature');
  const signed = `${h}.${p}`;
  const given = Buffer.from(s, 'base64url');
  const signatureProblem = header.data.alg === 'HS256' ? checkHmac(signed, given, keys) : checkPublic(signed, given, header.data.alg, header.data.kid, keys.publicKeys!);
  if (signatureProblem) return refuse(signatureProblem);

  const payload = parseJsonSegment(p);
  if (!payload.ok) return refuse(`malformed token payload: ${payload.why}`);
  const claims = claimsSchema.safeParse(payload.value);
  if (!claims.success) return refuse(`invalid claims: ${[...new Set(claims.error.issues.map((i) => i.path.join('.') || 'not an object'))].join(', ')}`);
  const problem = claimProblem(claims.data, policy, nowMs / 1000);
  return problem ? refuse(problem) : { ok: true, claims: claims.data };
}

function checkHmac(signed: string, given: Buffer, secrets: readonly string[]): string | undefined {
  if (secrets.length === 0) return 'no secret configured';
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(signed).digest();
    if (given.length === expected.length && timingSafeEqual(given, expected)) return undefined;
  }
  return 'bad signature';
}

function checkPublic(signed: string, given: Buffer, alg: 'RS256' | 'ES256', kid: string | undefined, publicKeys: PublicKeys): string | undefined {
  if (kid === undefined) return `an ${alg} token needs a "kid" header`;
  const k = publicKeys.get(kid);
  if (!k) return `unknown key id ${JSON.stringify(kid.slice(0, 64))}`;
  // The key decides the algorithm: an RS256 key never verifies an ES256 header, nor the reverse.
  if (k.alg !== alg) return `key ${kid} is for ${k.alg}, not ${alg}`;
  const ok = alg === 'ES256'
    ? given.length === 64 && verify('sha256', Buffer.from(signed), { key: k.key, dsaEncoding: 'ieee-p1363' }, given)
    : verify('sha256', Buffer.from(signed), k.key, given);
  return ok ? undefined : 'bad signature';
}

/** The claim rules, after the signature has been checked. `now` in seconds. */
function claimProblem(c: Claims, policy: TokenPolicy, now: number): string | undefined {
  if (c.role === 'player' && !USER_ID.test(c.sub)) return 'player token sub must be a user id';
  if (c.exp !== undefined && c.exp <= now) return 'token expired';
  if (c.nbf !== undefined && c.nbf > now + policy.leewayS) return 'token not valid yet (nbf is in the future)';
  if (c.iat !== undefined && c.iat > now + policy.leewayS) return 'token issued in the future (iat)';
  if (policy.audience !== undefined) {
    const auds = c.aud === undefined ? [] : typeof c.aud === 'string' ? [c.aud] : c.aud;
    if (!auds.includes(policy.audience)) return `token audience does not include ${JSON.stringify(policy.audience)}`;
  } else if (c.aud !== undefined) {
    return 'token has an audience (aud) but this server has none configured (JWT_AUDIENCE)';
  }
  if (policy.issuer !== undefined && c.iss !== policy.issuer) return `token issuer is not ${JSON.stringify(policy.issuer)}`;
  if (c.role === 'player') {
    if (c.exp === undefined) return 'player token must have exp';
    // Without iat the lifetime left is what counts; the leeway covers the issuer's clock running ahead.
    const lifetime = c.iat !== undefined ? c.exp - c.iat : c.exp - now - policy.leewayS;
    if (lifetime > policy.maxPlayerTtlS) return `player token lives longer than ${policy.maxPlayerTtlS} s (JWT_MAX_PLAYER_TTL_S)`;
  }
  return undefined;
}
