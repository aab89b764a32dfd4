/**
 * Tokens: what verifies, what is refused, where expiry, nbf and iat fall, audience and issuer,
 * player lifetimes, `crit`, ambiguous JSON, and RS256/ES256 by `kid` with keys made here.
 */
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJwks, type PublicKeys } from '../../server/auth/jwks.ts';
import { DEFAULT_TOKEN_POLICY, keyring, MAX_TOKEN_CHARS, signToken, verifyToken, verifyWithAny, type Claims, type TokenPolicy } from '../../server/auth/jwt.ts';
import { parseStrictJson } from '../../server/auth/strict-json.ts';

const SECRET = 'unit-secret-0123456789abcdef-0123456789';
/** A fixed "now" for the time rules: 2023-11-14T22:13:20Z. */
const NOW_S = 1_700_000_000;
const NOW_MS = NOW_S * 1000;
const seg = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const rawSeg = (json: string) => Buffer.from(json).toString('base64url');
const hs = (alg: 'sha256' | 'sha512', input: string) => createHmac(alg, SECRET).update(input).digest('base64url');
/** Signs `header.payload` where each is either an object or the exact JSON text. */
function craft(header: object | string, claims: object | string, signer = (i: string) => hs('sha256', i)): string {
  const enc = (x: object | string) => (typeof x === 'string' ? rawSeg(x) : seg(x));
  const input = `${enc(header)}.${enc(claims)}`;
  return `${input}.${signer(input)}`;
}
const HS = { alg: 'HS256', typ: 'JWT' };
const policy = (p: Partial<TokenPolicy>): TokenPolicy => ({ ...DEFAULT_TOKEN_POLICY, ...p });
function refused(tok: string, nowMs: number = NOW_MS, p: TokenPolicy = DEFAULT_TOKEN_POLICY): string {
  const v = verifyToken(tok, SECRET, nowMs, p);
  if (v.ok) throw new Error(`expected refusal, got ${JSON.stringify(v.claims)}`);
  return v.reason;
}
function accepted(tok: string, nowMs: number = NOW_MS, p: TokenPolicy = DEFAULT_TOKEN_POLICY): Claims {
  const v = verifyToken(tok, SECRET, nowMs, p);
  if (!v.ok) throw new Error(`expected acceptance, got: ${v.reason}`);
  return v.claims;
}
const player = (extra: object = {}) => ({ sub: '5', role: 'player', iat: NOW_S, exp: NOW_S + 3600, ...extra });

describe('sign and verify', () => {
  it.each<Claims>([
    { sub: '42', role: 'player', exp: NOW_S + 60 },
    { sub: '9007199254740991', role: 'player', iat: NOW_S, exp: NOW_S + 86_400 },
    { sub: 'game-host-1', role: 'server' },
    { sub: 'ops', role: 'admin', exp: 4_000_000_000, iat: 1_700_000_000 },
  ])('round-trips %j', (claims) => {
    expect(verifyToken(signToken(claims, SECRET), SECRET, NOW_MS)).toEqual({ ok: true, claims });
  });

  it('produces a standard three-part HS256 JWT', () => {
    const [h, p, s] = signToken({ sub: '1', role: 'player' }, SECRET).split('.');
    expect(JSON.parse(Buffer.from(h!, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(JSON.parse(Buffer.from(p!, 'base64url').toString())).toEqual({ sub: '1', role: 'player' });
    expect(s).toBe(hs('sha256', `${h}.${p}`));
  });

  it('verifyWithAny tries each secret of the keyring in turn', () => {
    const old = 'an-old-secret-being-rotated-out-0123';
    const tok = signToken({ sub: 'gs', role: 'server' }, old);
    expect(verifyWithAny(tok, keyring([SECRET, old])).ok).toBe(true);
    expect(verifyWithAny(tok, keyring([SECRET]))).toEqual({ ok: false, reason: 'bad signature' });
    expect(verifyWithAny(tok, keyring([]))).toEqual({ ok: false, reason: 'no secret configured' });
    // A bare array (the keyring lost on the way) checks nothing by less: it refuses.
    expect(verifyWithAny(tok, [SECRET, old])).toEqual({ ok: false, reason: 'no token policy configured' });
  });
});

describe('refusals', () => {
  const good = signToken({ sub: '5', role: 'player', iat: NOW_S, exp: NOW_S + 3600 }, SECRET);
  const [h, p, s] = good.split('.') as [string, string, string];

  it('the unchanged token is accepted (the control for the cases below)', () => {
    expect(accepted(good)).toMatchObject({ sub: '5', role: 'player' });
  });

  it('another secret', () => {
    expect(refused(signToken({ sub: '5', role: 'player', exp: NOW_S + 60 }, 'other-secret-0123456789-0123456789'))).toMatch(/signature/);
  });

  it('a tampered payload, header or signature', () => {
    refused(`${h}.${seg(player({ sub: '6' }))}.${s}`);
    refused(`${h}.${seg(player({ role: 'admin' }))}.${s}`);
    refused(`${seg({ alg: 'HS256' })}.${p}.${s}`);
    const flipped = Buffer.from(s, 'base64url');
    flipped[0]! ^= 1;
    refused(`${h}.${p}.${flipped.toString('base64url')}`);
    refused(`${h}.${p}.${s.slice(0, -2)}`);
    refused(`${h}.${p}.`);
  });

  it('alg none, with or without a signature', () => {
    expect(refused(craft({ alg: 'none' }, { sub: '5', role: 'admin' }, () => ''))).toMatch(/HS256/);
    refused(craft({ alg: 'none' }, { sub: '5', role: 'admin' }));
    refused(craft({ alg: 'NONE', typ: 'JWT' }, { sub: '5', role: 'admin' }, () => ''));
  });

  it('other algorithms', () => {
    refused(craft({ alg: 'HS512' }, { sub: 'x', role: 'server' }, (i) => hs('sha512', i)));
    refused(craft({ alg: 'HS384' }, { sub: 'x', role: 'server' }));
    expect(refused(craft({ alg: 'RS256' }, { sub: 'x', role: 'server' }))).toMatch(/unsupported/);
    expect(refused(craft({ alg: 'ES256', kid: 'k' }, { sub: 'x', role: 'server' }))).toMatch(/unsupported/);
    refused(craft({}, { sub: 'x', role: 'server' }));
  });

  it.each(['', 'x', 'a.b', 'a.b.c', 'a.b.c.d', '..', `${good}.`, `${good} `, `${h}.${p}.${s}=`, `${h}.${p}.${s}+/`])(
    'malformed %j',
    (tok) => {
      refused(tok);
    },
  );

  it(`a token longer than ${MAX_TOKEN_CHARS} characters, before anything is decoded`, () => {
    const long = craft(HS, { sub: 'x', role: 'server', pad: 'x'.repeat(MAX_TOKEN_CHARS) });
    expect(refused(long)).toMatch(/longer than/);
  });

  it.each([
    [{ sub: 'abc', role: 'player' }],
    [{ sub: '0', role: 'player' }],
    [{ sub: '012', role: 'player' }],
    [{ sub: '-1', role: 'player' }],
    [{ sub: '1.5', role: 'player' }],
    [{ sub: '', role: 'server' }],
    [{ sub: 5, role: 'player' }],
    [{ role: 'server' }],
    [{ sub: 'x' }],
    [{ sub: 'x', role: 'root' }],
    [{ sub: 'x', role: 'server', exp: '99999999999' }],
    [{ sub: 'x', role: 'server', nbf: '0' }],
    [{ sub: 'x', role: 'server', iat: null }],
    [{ sub: 'x', role: 'server', aud: 5 }],
    [{ sub: 'x', role: 'server', aud: ['a', 5] }],
    [{ sub: 'x', role: 'server', iss: ['a'] }],
  ])('claims %j', (claims) => {
    refused(craft({ alg: 'HS256' }, claims));
  });
});

describe('expiry', () => {
  const tok = signToken({ sub: 'x', role: 'server', exp: 1_000_000 }, SECRET);

  it('is valid up to the last millisecond before exp', () => {
    expect(verifyToken(tok, SECRET, 999_999_999).ok).toBe(true);
  });

  it('is refused at exp and after (no leeway on exp)', () => {
    expect(refused(tok, 1_000_000_000)).toMatch(/expired/);
    expect(refused(tok, 1_000_000_001)).toMatch(/expired/);
  });

  it('a server or admin token without exp never expires (service credentials)', () => {
    expect(verifyToken(signToken({ sub: 'x', role: 'server' }, SECRET), SECRET, 8.64e15).ok).toBe(true);
    expect(verifyToken(signToken({ sub: 'ops', role: 'admin' }, SECRET), SECRET, 8.64e15).ok).toBe(true);
  });

  it('expiry is checked only after the signature', () => {
    const forged = signToken({ sub: 'x', role: 'server', exp: 1 }, 'other-secret-0123456789-0123456789');
    expect(refused(forged, 2_000_000_000_000)).toMatch(/signature/);
  });
});

describe('nbf and iat, with a leeway', () => {
  it('nbf up to the leeway ahead is accepted, past it refused', () => {
    accepted(craft(HS, player({ nbf: NOW_S - 100 })));
    accepted(craft(HS, player({ nbf: NOW_S + 30 })));
    expect(refused(craft(HS, player({ nbf: NOW_S + 31 })))).toBe('token not valid yet (nbf is in the future)');
    expect(refused(craft(HS, { sub: 'x', role: 'server', nbf: NOW_S + 3600 }))).toMatch(/not valid yet/);
  });

  it('iat up to the leeway ahead is accepted, past it refused', () => {
    accepted(craft(HS, player({ iat: NOW_S + 30, exp: NOW_S + 60 })));
    expect(refused(craft(HS, player({ iat: NOW_S + 31 })))).toBe('token issued in the future (iat)');
    expect(refused(craft(HS, { sub: 'ops', role: 'admin', iat: NOW_S + 365 * 86_400 }))).toMatch(/issued in the future/);
  });

  it('the leeway is configurable', () => {
    const strict = policy({ leewayS: 0 });
    accepted(craft(HS, player({ nbf: NOW_S })), NOW_MS, strict);
    refused(craft(HS, player({ nbf: NOW_S + 1 })), NOW_MS, strict);
    refused(craft(HS, player({ iat: NOW_S + 1 })), NOW_MS, strict);
    accepted(craft(HS, player({ nbf: NOW_S + 200 })), NOW_MS, policy({ leewayS: 300 }));
  });

  it('a token becomes valid once nbf (less the leeway) has passed', () => {
    const tok = craft(HS, player({ nbf: NOW_S + 100, exp: NOW_S + 3600 }));
    refused(tok);
    accepted(tok, (NOW_S + 70) * 1000);
  });
});

describe('audience and issuer', () => {
  const lb = policy({ audience: 'leaderboard' });
  it('with JWT_AUDIENCE set, aud must name it (a string or an array holding it)', () => {
    accepted(craft(HS, player({ aud: 'leaderboard' })), NOW_MS, lb);
    accepted(craft(HS, player({ aud: ['chat', 'leaderboard'] })), NOW_MS, lb);
    expect(refused(craft(HS, player({ aud: 'chat' })), NOW_MS, lb)).toBe('token audience does not include "leaderboard"');
    refused(craft(HS, player({ aud: ['chat', 'store'] })), NOW_MS, lb);
    refused(craft(HS, player({ aud: [] })), NOW_MS, lb);
    refused(craft(HS, player({ aud: 'Leaderboard' })), NOW_MS, lb);
    expect(refused(craft(HS, player()), NOW_MS, lb)).toMatch(/audience/);
    expect(refused(craft(HS, { sub: 'x', role: 'server' }), NOW_MS, lb)).toMatch(/audience/);
  });

  it('without JWT_AUDIENCE, a token that names any audience is refused (it was minted for someone else)', () => {
    accepted(craft(HS, player()));
    expect(refused(craft(HS, player({ aud: 'chat' })))).toMatch(/JWT_AUDIENCE/);
    refused(craft(HS, { sub: 'x', role: 'server', aud: ['leaderboard'] }));
  });

  it('with JWT_ISSUER set, iss must equal it', () => {
    const id = policy({ issuer: 'https://id.example' });
    accepted(craft(HS, player({ iss: 'https://id.example' })), NOW_MS, id);
    expect(refused(craft(HS, player({ iss: 'https://evil.example' })), NOW_MS, id)).toBe('token issuer is not "https://id.example"');
    refused(craft(HS, player({ iss: 'https://id.example/' })), NOW_MS, id);
    refused(craft(HS, player()), NOW_MS, id);
  });

  it('without JWT_ISSUER, iss is not checked', () => {
    accepted(craft(HS, player({ iss: 'anyone' })));
  });
});

describe('player token lifetime', () => {
  it('a player token must have exp', () => {
    expect(refused(craft(HS, { sub: '5', role: 'player' }))).toBe('player token must have exp');
    expect(refused(craft(HS, { sub: '5', role: 'player', iat: NOW_S }))).toBe('player token must have exp');
  });

  it('exp - iat may be at most JWT_MAX_PLAYER_TTL_S (24 h by default)', () => {
    accepted(craft(HS, player({ iat: NOW_S, exp: NOW_S + 86_400 })));
    expect(refused(craft(HS, player({ iat: NOW_S, exp: NOW_S + 86_401 })))).toMatch(/longer than 86400 s/);
    // An old iat does not stretch it: the lifetime is from iat, not from now.
    refused(craft(HS, player({ iat: NOW_S - 86_400, exp: NOW_S + 3600 })));
    refused(craft(HS, player({ iat: NOW_S, exp: NOW_S + 10 * 365 * 86_400 })));
  });

  it('without iat, exp may be at most the maximum (plus the leeway) ahead of now', () => {
    accepted(craft(HS, { sub: '5', role: 'player', exp: NOW_S + 86_400 + 30 }));
    refused(craft(HS, { sub: '5', role: 'player', exp: NOW_S + 86_400 + 31 }));
  });

  it('the maximum is configurable', () => {
    const hour = policy({ maxPlayerTtlS: 3600 });
    accepted(craft(HS, player({ exp: NOW_S + 3600 })), NOW_MS, hour);
    refused(craft(HS, player({ exp: NOW_S + 3601 })), NOW_MS, hour);
  });

  it('server and admin tokens have no maximum', () => {
    accepted(craft(HS, { sub: 'x', role: 'server', iat: NOW_S, exp: NOW_S + 10 * 365 * 86_400 }));
  });
});

describe('crit and ambiguous JSON', () => {
  it('a header with crit is refused, whatever it lists', () => {
    for (const crit of [['exp'], ['b64'], [], 'exp', null]) {
      expect(refused(craft({ ...HS, crit }, player()))).toBe('token header has "crit": this server supports no JWS extension');
    }
  });

  it('duplicate keys in the payload: the duplicated role (the last, admin, would win with JSON.parse)', () => {
    const json = `{"sub":"5","role":"player","exp":${NOW_S + 60},"role":"admin"}`;
    expect(JSON.parse(json).role).toBe('admin');
    expect(refused(craft(HS, json))).toMatch(/^malformed token payload: duplicate key "role"/);
  });

  it.each([
    ['a repeated sub', `{"sub":"5","sub":"6","role":"player","exp":${NOW_S + 60}}`],
    ['a key spelt with an escape', `{"sub":"x","role":"server","r\\u006fle":"admin"}`],
    ['a repeated exp', `{"sub":"x","role":"server","exp":1,"exp":${NOW_S + 60}}`],
    ['a repeat inside an unknown claim', `{"sub":"x","role":"server","ext":{"a":1,"a":2}}`],
    ['a repeat inside an array of objects', `{"sub":"x","role":"server","ext":[{"k":1,"k":1}]}`],
  ])('duplicate keys in the payload: %s', (_label, json) => {
    expect(refused(craft(HS, json))).toMatch(/^malformed token payload: duplicate key/);
  });

  it('duplicate keys in the header', () => {
    expect(refused(craft('{"alg":"none","alg":"HS256"}', { sub: 'x', role: 'server' }))).toMatch(/^malformed token header: duplicate key "alg"/);
    refused(craft('{"alg":"HS256","typ":"JWT","typ":"JWT"}', { sub: 'x', role: 'server' }));
  });

  it('keys that only look alike, and a __proto__ key, are plain data', () => {
    expect(accepted(craft(HS, `{"sub":"x","role":"server","Role":"admin","role ":"admin"}`))).toMatchObject({ role: 'server' });
    expect(accepted(craft(HS, `{"sub":"x","role":"server","__proto__":{"role":"admin"}}`))).toMatchObject({ role: 'server' });
  });

  it('non-JSON under a valid signature', () => {
    expect(refused(craft(HS, 'nope'))).toMatch(/^malformed token payload/);
    refused(craft(HS, `{"sub":"x","role":"server",}`));
    refused(craft(HS, `{"sub":"x","role":"server"} {}`));
    refused(craft(`{'alg':'HS256'}`, { sub: 'x', role: 'server' }));
  });
});

describe('the strict JSON reader', () => {
  it('reads every JSON value exactly as JSON.parse does', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (v, pretty) => {
        const text = JSON.stringify(v, null, pretty ? 2 : undefined);
        // toEqual: the reader's objects have no prototype, so that a "__proto__" key stays data.
        expect(parseStrictJson(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('accepts nothing JSON.parse refuses', () => {
    const chunk = fc.constantFrom('{', '}', '[', ']', ',', ':', '"a"', '"a', '1', '-', '.5', '1e', 'true', 'nul', 'null', ' ', '\\', '"\\u12"', '0x1', '01');
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 12 }), (parts) => {
        const text = parts.join('');
        let strict: unknown;
        try {
          strict = parseStrictJson(text);
        } catch {
          return; // strictness may refuse more (duplicates); never less
        }
        expect(strict).toEqual(JSON.parse(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses nesting past 16 levels', () => {
    expect(() => parseStrictJson('['.repeat(17) + ']'.repeat(17))).toThrow(/too deep/);
    expect(parseStrictJson('['.repeat(16) + ']'.repeat(16))).toBeDefined();
  });
});

// ---- RS256 / ES256 by kid (JWT_JWKS_FILE) ------------------------------------------------------

/** Keys made by the test: their private halves sign, their public halves go in the JWKS. */
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaOther = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = (key: KeyObject, extra: object) => ({ ...key.export({ format: 'jwk' }), ...extra });
const JWKS = JSON.stringify({
  keys: [
    jwk(rsa.publicKey, { kid: 'rsa-1', alg: 'RS256', use: 'sig' }),
    jwk(ec.publicKey, { kid: 'ec-1' }),
    // Skipped: an encryption key and an algorithm this server does not verify.
    jwk(rsaOther.publicKey, { kid: 'enc-1', use: 'enc' }),
    jwk(rsaOther.publicKey, { kid: 'ps-1', alg: 'PS256' }),
  ],
});
const publicKeys: PublicKeys = parseJwks(JWKS, 'jwks.json');
const withJwks = keyring([SECRET], DEFAULT_TOKEN_POLICY, publicKeys);

function signAsym(alg: 'RS256' | 'ES256', key: KeyObject, header: object, claims: object, dsaEncoding: 'ieee-p1363' | 'der' = 'ieee-p1363'): string {
  const input = `${seg({ alg, typ: 'JWT', ...header })}.${seg(claims)}`;
  const sig = alg === 'ES256' ? sign('sha256', Buffer.from(input), { key, dsaEncoding }) : sign('sha256', Buffer.from(input), key);
  return `${input}.${sig.toString('base64url')}`;
}
const verifyJ = (tok: string) => verifyWithAny(tok, withJwks, NOW_MS);

describe('RS256 and ES256 with a JWKS', () => {
  it('reads the usable keys by kid and skips the others', () => {
    expect([...publicKeys.keys()].sort()).toEqual(['ec-1', 'rsa-1']);
    expect(publicKeys.get('rsa-1')!.alg).toBe('RS256');
    expect(publicKeys.get('ec-1')!.alg).toBe('ES256');
  });

  it('verifies RS256 and ES256 tokens signed with the matching private key', () => {
    expect(verifyJ(signAsym('RS256', rsa.privateKey, { kid: 'rsa-1' }, player()))).toMatchObject({ ok: true, claims: { sub: '5', role: 'player' } });
    expect(verifyJ(signAsym('ES256', ec.privateKey, { kid: 'ec-1' }, { sub: 'matchmaker', role: 'server' }))).toMatchObject({ ok: true, claims: { role: 'server' } });
    // HS256 tokens keep working beside them.
    expect(verifyJ(signToken({ sub: 'gs', role: 'server' }, SECRET)).ok).toBe(true);
  });

  it.each<[string, () => string, RegExp]>([
    ['no kid', () => signAsym('RS256', rsa.privateKey, {}, player()), /needs a "kid"/],
    ['an unknown kid', () => signAsym('RS256', rsa.privateKey, { kid: 'rsa-9' }, player()), /unknown key id/],
    ['a skipped (encryption) key', () => signAsym('RS256', rsaOther.privateKey, { kid: 'enc-1' }, player()), /unknown key id/],
    ['another RSA key under a listed kid', () => signAsym('RS256', rsaOther.privateKey, { kid: 'rsa-1' }, player()), /bad signature/],
    ['an ES256 header on the RSA key', () => signAsym('ES256', ec.privateKey, { kid: 'rsa-1' }, player()), /is for RS256/],
    ['an RS256 header on the EC key', () => signAsym('RS256', rsa.privateKey, { kid: 'ec-1' }, player()), /is for ES256/],
    ['an ES256 signature in DER rather than JOSE form', () => signAsym('ES256', ec.privateKey, { kid: 'ec-1' }, player(), 'der'), /bad signature/],
    ['HS256 keyed with the public key (algorithm confusion)', () => {
      const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      return craft({ alg: 'HS256', kid: 'rsa-1' }, player(), (i) => createHmac('sha256', pem).update(i).digest('base64url'));
    }, /bad signature/],
    ['a tampered payload', () => {
      const [h, , s] = signAsym('RS256', rsa.privateKey, { kid: 'rsa-1' }, player()).split('.');
      return `${h}.${seg(player({ role: 'admin' }))}.${s}`;
    }, /bad signature/],
    ['the claim rules still apply (player without exp)', () => signAsym('ES256', ec.privateKey, { kid: 'ec-1' }, { sub: '5', role: 'player' }), /must have exp/],
    ['crit still refused', () => signAsym('RS256', rsa.privateKey, { kid: 'rsa-1', crit: ['exp'] }, player()), /crit/],
  ])('refuses %s', (_label, make, why) => {
    const v = verifyJ(make());
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toMatch(why);
  });

  it('without a JWKS, RS256 and ES256 are unsupported even when correctly signed', () => {
    const v = verifyWithAny(signAsym('RS256', rsa.privateKey, { kid: 'rsa-1' }, player()), keyring([SECRET]), NOW_MS);
    expect(v).toEqual({ ok: false, reason: 'unsupported token header (accepted alg: HS256)' });
  });

  it.each<[string, string, RegExp]>([
    ['not JSON', '{keys:', /not JSON/],
    ['no keys array', '{"keys":{}}', /not a JWKS document/],
    ['a key without kid', JSON.stringify({ keys: [jwk(rsa.publicKey, {})] }), /non-empty "kid"/],
    ['a private key', JSON.stringify({ keys: [jwk(rsa.privateKey, { kid: 'p' })] }), /private key material/],
    ['an EC private key', JSON.stringify({ keys: [jwk(ec.privateKey, { kid: 'p' })] }), /private key material \(d\)/],
    ['a kid twice', JSON.stringify({ keys: [jwk(rsa.publicKey, { kid: 'a' }), jwk(ec.publicKey, { kid: 'a' })] }), /listed twice/],
    ['an RSA key of 1024 bits', JSON.stringify({ keys: [jwk(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey, { kid: 'weak' })] }), /1024 bits/],
    ['a broken key', JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', kid: 'b', x: 'AA', y: 'AA' }] }), /not a valid ES256 key/],
    ['no usable key', JSON.stringify({ keys: [jwk(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey, { kid: 'p384' })] }), /no RS256 or ES256/],
  ])('a JWKS with %s is refused', (_label, text, why) => {
    expect(() => parseJwks(text, 'jwks.json')).toThrow(why);
  });
});
