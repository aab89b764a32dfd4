/**
 * Mints a JWT for this server: `npm run token -- --role server [--sub name] [--ttl 3600]`.
 * Player tokens take the user id as --sub and always expire (--ttl 3600 unless given, at most
 * JWT_MAX_PLAYER_TTL_S). Reads JWT_SECRET, JWT_AUDIENCE and JWT_ISSUER through the same config
 * parser as the server, so the token passes its checks.
 */
import { parseArgs } from 'node:util';
import { ROLES, signToken, type Role } from '../auth/jwt.ts';
import { loadConfig } from '../config.ts';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'server' },
    sub: { type: 'string' },
    ttl: { type: 'string' },
  },
});

function fail(message: string): never {
  process.stderr.write(`${message}\nusage: npm run token -- --role player|server|admin [--sub ID] [--ttl SECONDS]\n`);
  process.exit(2);
}

const role = values.role as Role;
if (!ROLES.includes(role)) fail(`--role must be one of ${ROLES.join(', ')}`);
const sub = values.sub ?? (role === 'player' ? undefined : role);
if (!sub) fail('--sub is required for a player token (the user id)');
if (role === 'player' && !/^[1-9][0-9]{0,15}$/.test(sub)) fail('--sub of a player token must be a user id');
const config = loadConfig(process.env);
const DEFAULT_PLAYER_TTL_S = Math.min(3600, config.jwtMaxPlayerTtlS);
const ttl = values.ttl === undefined ? (role === 'player' ? DEFAULT_PLAYER_TTL_S : undefined) : Number(values.ttl);
if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0)) fail('--ttl must be a positive number of seconds');
if (role === 'player' && ttl! > config.jwtMaxPlayerTtlS) fail(`--ttl of a player token must be at most JWT_MAX_PLAYER_TTL_S (${config.jwtMaxPlayerTtlS})`);

const secret = config.jwtSecret;
if (!secret) fail('JWT_SECRET is not set: a token is only useful against a server that shares its secret');
const now = Math.floor(Date.now() / 1000);
const claims = {
  sub,
  role,
  iat: now,
  ...(ttl ? { exp: now + ttl } : {}),
  ...(config.jwtAudience ? { aud: config.jwtAudience } : {}),
  ...(config.jwtIssuer ? { iss: config.jwtIssuer } : {}),
};
process.stdout.write(signToken(claims, secret) + '\n');
