/**
 * Public keys for RS256 and ES256 tokens, read from a JWKS document (RFC 7517), as an identity
 * service publishes them. Pure: the caller reads the file. Keys this server cannot use (encryption
 * keys, other algorithms or curves) are skipped; a document with none it can use is an error.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';

export type PublicAlg = 'RS256' | 'ES256';
export interface PublicKey {
  readonly alg: PublicAlg;
  readonly key: KeyObject;
}
/** By `kid`. */
export type PublicKeys = ReadonlyMap<string, PublicKey>;

export class JwksError extends Error {}

/** Weaker RSA keys are refused (NIST SP 800-131A). */
const MIN_RSA_BITS = 2048;
/** JWK members that only a private key has. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const jwkSchema = z.looseObject({
  kty: z.string(),
  kid: z.string().min(1).max(256),
  alg: z.string().optional(),
  use: z.string().optional(),
  crv: z.string().optional(),
});
const jwksSchema = z.object({ keys: z.array(z.looseObject({})).max(100) });

/** The algorithm a JWK is for, or undefined when this server does not verify with it. */
function algOf(jwk: z.output<typeof jwkSchema>): PublicAlg | undefined {
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
  if (jwk.kty === 'RSA' && (jwk.alg ?? 'RS256') === 'RS256') return 'RS256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256' && (jwk.alg ?? 'ES256') === 'ES256') return 'ES256';
  return undefined;
}

export function parseJwks(text: string, source: string): PublicKeys {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new JwksError(`${source}: not JSON (${(err as Error).message})`, { cause: err });
  }
  const parsed = jwksSchema.safeParse(doc);
  if (!parsed.success) throw new JwksError(`${source}: not a JWKS document (an object with a "keys" array)`);
  const keys = new Map<string, PublicKey>();
  parsed.data.keys.forEach((raw, i) => {
    const where = `${source}: keys[${i}]`;
    const jwk = jwkSchema.safeParse(raw);
    if (!jwk.success) throw new JwksError(`${where}: needs "kty" and a non-empty "kid"`);
    const kid = jwk.data.kid;
    const held = PRIVATE_MEMBERS.filter((m) => m in raw);
    if (held.length > 0) throw new JwksError(`${where} (kid ${kid}): holds private key material (${held.join(', ')}); publish public keys only`);
    const alg = algOf(jwk.data);
    if (!alg) return;
    if (keys.has(kid)) throw new JwksError(`${where}: kid ${kid} is listed twice`);
    let key: KeyObject;
    try {
      key = createPublicKey({ key: raw as JsonWebKey, format: 'jwk' });
    } catch (err) {
      throw new JwksError(`${where} (kid ${kid}): not a valid ${alg} key (${(err as Error).message})`, { cause: err });
    }
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (alg === 'RS256' && (bits === undefined || bits < MIN_RSA_BITS)) {
      throw new JwksError(`${where} (kid ${kid}): RSA key of ${bits} bits; at least ${MIN_RSA_BITS} required`);
    }
    keys.set(kid, Object.freeze({ alg, key }));
  });
  if (keys.size === 0) throw new JwksError(`${source}: no RS256 or ES256 (P-256) signing key`);
  return keys;
}
