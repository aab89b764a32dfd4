/** HS256 tokens: what verifies, what is refused, and where expiry falls. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signToken, verifyToken, type Claims } from '../../server/auth/jwt.ts';

const SECRET = 'unit-secret-0123456789abcdef';
const seg = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const hs = (alg: 'sha256' | 'sha512', input: string) => createHmac(alg, SECRET).update(input).digest('base64url');
function craft(header: object, claims: object, sign = (i: string) => hs('sha256', i)): string {
  const input = `${seg(header)}.${seg(claims)}`;
  return `${input}.${sign(input)}`;
}
function refused(tok: string, nowMs?: number): string {
  const v = verifyToken(tok, SECRET, nowMs);
  if (v.ok) throw new Error(`expected refusal, got ${JSON.stringify(v.claims)}`);
  return v.reason;
}

describe('sign and verify', () => {
  it.each<Claims>([
    { sub: '42', role: 'player' },
    { sub: '9007199254740991', role: 'player' },
    { sub: 'game-host-1', role: 'server' },
    { sub: 'ops', role: 'admin', exp: 4_000_000_000, iat: 1_700_000_000 },
  ])('round-trips %j', (claims) => {
    expect(verifyToken(signToken(claims, SECRET), SECRET)).toEqual({ ok: true, claims });
  });

  it('produces a standard three-part HS256 JWT', () => {
    const [h, p, s] = signToken({ sub: '1', role: 'player' }, SECRET).split('.');
    expect(JSON.parse(Buffer.from(h!, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(JSON.parse(Buffer.from(p!, 'base64url').toString())).toEqual({ sub: '1', role: 'player' });
    expect(s).toBe(hs('sha256', `${h}.${p}`));
  });
});

describe('refusals', () => {
  const good = signToken({ sub: '5', role: 'player' }, SECRET);
  const [h, p, s] = good.split('.') as [string, string, string];

  it('another secret', () => {
    expect(refused(signToken({ sub: '5', role: 'player' }, 'other-secret-0123456789'))).toMatch(/signature/);
  });

  it('a tampered payload, header or signature', () => {
    refused(`${h}.${seg({ sub: '6', role: 'player' })}.${s}`);
    refused(`${h}.${seg({ sub: '5', role: 'admin' })}.${s}`);
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
    refused(craft({ alg: 'RS256' }, { sub: 'x', role: 'server' }));
    refused(craft({}, { sub: 'x', role: 'server' }));
  });

  it.each(['', 'x', 'a.b', 'a.b.c', 'a.b.c.d', '..', `${good}.`, `${good} `, `${h}.${p}.${s}=`, `${h}.${p}.${s}+/`])(
    'malformed %j',
    (tok) => {
      refused(tok);
    },
  );

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
  ])('claims %j', (claims) => {
    refused(craft({ alg: 'HS256' }, claims));
  });
});

describe('expiry', () => {
  const tok = signToken({ sub: 'x', role: 'server', exp: 1_000_000 }, SECRET);

  it('is valid up to the last millisecond before exp', () => {
    expect(verifyToken(tok, SECRET, 999_999_999).ok).toBe(true);
  });

  it('is refused at exp and after', () => {
    expect(refused(tok, 1_000_000_000)).toMatch(/expired/);
    expect(refused(tok, 1_000_000_001)).toMatch(/expired/);
  });

  it('a token without exp never expires', () => {
    expect(verifyToken(signToken({ sub: 'x', role: 'server' }, SECRET), SECRET, 8.64e15).ok).toBe(true);
  });

  it('expiry is checked only after the signature', () => {
    const forged = signToken({ sub: 'x', role: 'server', exp: 1 }, 'other-secret-0123456789');
    expect(refused(forged, 2_000_000_000_000)).toMatch(/signature/);
  });
});
