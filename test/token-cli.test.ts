/** `npm run token`: what it mints passes the server's own checks, player tokens always expire. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TOKEN_POLICY, verifyToken } from '../server/auth/jwt.ts';
import { TEST_SECRET } from './support/servers.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

function mint(args: string[], env: Record<string, string> = {}): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/cli/token.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', JWT_SECRET: TEST_SECRET, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, out: r.stdout.trim(), err: r.stderr };
}

describe('npm run token', () => {
  it('a player token gets iat and an exp an hour later, and verifies', () => {
    const { status, out } = mint(['--role', 'player', '--sub', '42']);
    expect(status).toBe(0);
    const v = verifyToken(out, TEST_SECRET);
    expect(v).toMatchObject({ ok: true, claims: { sub: '42', role: 'player' } });
    if (v.ok) expect(v.claims.exp! - v.claims.iat!).toBe(3600);
  });

  it('adds aud and iss when the server requires them', () => {
    const { out } = mint(['--role', 'server', '--sub', 'mm'], { JWT_AUDIENCE: 'leaderboard', JWT_ISSUER: 'https://id.example' });
    const policy = { ...DEFAULT_TOKEN_POLICY, audience: 'leaderboard', issuer: 'https://id.example' };
    expect(verifyToken(out, TEST_SECRET, Date.now(), policy)).toMatchObject({ ok: true, claims: { aud: 'leaderboard', iss: 'https://id.example' } });
  });

  it('refuses a player --ttl over JWT_MAX_PLAYER_TTL_S, and a secret the server would refuse', () => {
    const long = mint(['--role', 'player', '--sub', '42', '--ttl', '90000']);
    expect(long.status).toBe(2);
    expect(long.err).toMatch(/JWT_MAX_PLAYER_TTL_S \(86400\)/);
    expect(mint(['--role', 'player', '--sub', '42', '--ttl', '7200'], { JWT_MAX_PLAYER_TTL_S: '3600' }).status).toBe(2);
    const weak = mint(['--role', 'server'], { JWT_SECRET: ' '.repeat(16) });
    expect(weak.status).not.toBe(0);
    expect(weak.err).toMatch(/JWT_SECRET: must not be blank/);
  });
});
