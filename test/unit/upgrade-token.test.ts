/** Where an upgrade's token is read from, and which subprotocol the answer names (never the token). */
import { describe, expect, it } from 'vitest';
import { SUBPROTOCOL, tokenSubprotocols } from '../../protocol/index.ts';
import { upgradeToken } from '../../server/auth/upgrade-token.ts';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

describe('upgradeToken', () => {
  it('no token anywhere: anonymous, with or without our subprotocol', () => {
    expect(upgradeToken('', '')).toEqual({ ok: true, token: undefined, protocol: '' });
    expect(upgradeToken('board=global', SUBPROTOCOL)).toEqual({ ok: true, token: undefined, protocol: SUBPROTOCOL });
    // An empty ?token= has always meant anonymous.
    expect(upgradeToken('token=', '')).toEqual({ ok: true, token: undefined, protocol: '' });
  });

  it('the query form', () => {
    expect(upgradeToken(`token=${JWT}`, '')).toEqual({ ok: true, token: JWT, protocol: '' });
    expect(upgradeToken(`a=1&token=${encodeURIComponent(JWT)}`, SUBPROTOCOL)).toEqual({ ok: true, token: JWT, protocol: SUBPROTOCOL });
  });

  it('the subprotocol form: the token from bearer.<JWT>, the answer leaderboard.v1', () => {
    const offered = tokenSubprotocols(JWT);
    expect(offered).toEqual([SUBPROTOCOL, `bearer.${JWT}`]);
    expect(upgradeToken('', offered.join(', '))).toEqual({ ok: true, token: JWT, protocol: SUBPROTOCOL });
    // Whatever the order: the bearer entry first must not become the answer.
    expect(upgradeToken('', `bearer.${JWT},${SUBPROTOCOL}`)).toEqual({ ok: true, token: JWT, protocol: SUBPROTOCOL });
    expect(upgradeToken('', ` chat , bearer.${JWT} ,${SUBPROTOCOL} `)).toEqual({ ok: true, token: JWT, protocol: SUBPROTOCOL });
  });

  it('an empty bearer token is a token to verify (and refuse), not anonymous', () => {
    expect(upgradeToken('', `${SUBPROTOCOL}, bearer.`)).toEqual({ ok: true, token: '', protocol: SUBPROTOCOL });
  });

  it('other subprotocols alone are not echoed', () => {
    expect(upgradeToken('', 'chat, superchat')).toEqual({ ok: true, token: undefined, protocol: '' });
  });

  it.each([
    ['a bearer subprotocol without leaderboard.v1', '', `bearer.${JWT}`, /must be offered with leaderboard\.v1/],
    ['two bearer subprotocols', '', `${SUBPROTOCOL}, bearer.${JWT}, bearer.other`, /more than one bearer/],
    ['the token in the query and in the header', `token=${JWT}`, `${SUBPROTOCOL}, bearer.${JWT}`, /both in the query and in Sec-WebSocket-Protocol/],
    ['two tokens in the query', `token=${JWT}&token=other`, '', /more than once in the query/],
  ])('refuses %s', (_label, query, header, why) => {
    const r = upgradeToken(query, header);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(why);
  });
});
