/**
 * The peer: the leaderboard a Node developer would build from the Socket.IO and redis-adapter
 * documentation. Per submit: one PostgreSQL transaction (insert the session, upsert the global and
 * mode totals), ZINCRBY on a Redis sorted set, ZREVRANK for the acknowledgement, then the whole top
 * 10 read back and broadcast to every spectator on every instance (through the redis adapter).
 * Nothing is batched, coalesced or diffed: that is the point of the comparison.
 *
 * Run: `node --import tsx bench/peers/socketio/server.ts` with PORT (0: any free port), DATABASE_URL,
 * REDIS_URL and REDIS_PREFIX (keys and adapter channels). Prints `listening <port>` when ready.
 */
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { Server } from 'socket.io';
import type { SubmitAck, SubmitPayload, Top10Message, TopEntry } from './messages.ts';

interface PeerConfig {
  host: string;
  port: number;
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
}

function readConfig(env: NodeJS.ProcessEnv): PeerConfig {
  const port = Number(env.PORT ?? '0');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT: not a port: ${env.PORT}`);
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is required');
  return {
    host: env.HOST || '127.0.0.1',
    port,
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    prefix: env.REDIS_PREFIX || 'peer',
  };
}

const config = readConfig(process.env);
const sql = postgres(config.databaseUrl, { max: 10, onnotice: () => undefined });
const boardKey = `${config.prefix}:leaderboard`;

async function createSchema(): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(4242)`; // instances starting together create it once
    await tx`CREATE TABLE IF NOT EXISTS sessions (
      id bigserial PRIMARY KEY, user_id bigint NOT NULL, score bigint NOT NULL,
      game_mode text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`;
    await tx`CREATE INDEX IF NOT EXISTS sessions_user_idx ON sessions (user_id, id DESC)`;
    await tx`CREATE TABLE IF NOT EXISTS totals (
      board text NOT NULL, user_id bigint NOT NULL, total_score bigint NOT NULL,
      games_played integer NOT NULL, PRIMARY KEY (board, user_id))`;
  });
}

function isSubmit(data: unknown): data is SubmitPayload {
  const d = data as SubmitPayload;
  return typeof d === 'object' && d !== null && Number.isSafeInteger(d.userId) && d.userId > 0
    && Number.isSafeInteger(d.score) && d.score >= 0 && typeof d.gameMode === 'string' && /^[a-z0-9_-]{1,32}$/.test(d.gameMode);
}

async function readTop10(redis: Redis): Promise<TopEntry[]> {
  const flat = await redis.zrevrange(boardKey, 0, 9, 'WITHSCORES');
  const top: TopEntry[] = [];
  for (let i = 0; i < flat.length; i += 2) top.push({ userId: Number(flat[i]), score: Number(flat[i + 1]) });
  return top;
}

async function main(): Promise<void> {
  await createSchema();
  const redis = new Redis(config.redisUrl);
  const pubClient = new Redis(config.redisUrl);
  const subClient = pubClient.duplicate();
  for (const r of [redis, pubClient, subClient]) r.on('error', (err) => console.error('redis error', err.message));

  const httpServer = createServer();
  const io = new Server(httpServer, { adapter: createAdapter(pubClient, subClient, { key: `${config.prefix}:socket.io` }) });

  io.on('connection', (socket) => {
    socket.on('spectate', async (ack?: (reply: { top: TopEntry[] } | { error: string }) => void) => {
      await socket.join('spectators');
      if (typeof ack !== 'function') return;
      try {
        ack({ top: await readTop10(redis) });
      } catch (err) {
        console.error('spectate failed', (err as Error).message);
        ack({ error: 'internal error' });
      }
    });

    socket.on('submit', async (data: unknown, ack?: (reply: SubmitAck) => void) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      if (!isSubmit(data)) return reply({ ok: false, error: 'bad request' });
      let total: number;
      try {
        total = await sql.begin(async (tx) => {
          await tx`INSERT INTO sessions (user_id, score, game_mode) VALUES (${data.userId}, ${data.score}, ${data.gameMode})`;
          const [global] = await tx`
            INSERT INTO totals (board, user_id, total_score, games_played) VALUES ('global', ${data.userId}, ${data.score}, 1)
            ON CONFLICT (board, user_id) DO UPDATE
              SET total_score = totals.total_score + EXCLUDED.total_score, games_played = totals.games_played + 1
            RETURNING total_score`;
          await tx`
            INSERT INTO totals (board, user_id, total_score, games_played) VALUES (${'mode:' + data.gameMode}, ${data.userId}, ${data.score}, 1)
            ON CONFLICT (board, user_id) DO UPDATE
              SET total_score = totals.total_score + EXCLUDED.total_score, games_played = totals.games_played + 1`;
          return Number(global!.total_score);
        });
        await redis.zincrby(boardKey, data.score, String(data.userId));
        const rank = await redis.zrevrank(boardKey, String(data.userId));
        reply({ ok: true, total, rank: (rank ?? 0) + 1 });
      } catch (err) {
        console.error('submit failed', (err as Error).message);
        return reply({ ok: false, error: 'internal error' });
      }
      try {
        const message: Top10Message = { top: await readTop10(redis), by: { userId: data.userId, total } };
        io.to('spectators').emit('top10', message);
      } catch (err) {
        console.error('top 10 broadcast failed', (err as Error).message);
      }
    });
  });

  const shutdown = async () => {
    io.close();
    await sql.end({ timeout: 2 });
    for (const r of [redis, pubClient, subClient]) r.disconnect();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());

  httpServer.listen(config.port, config.host, () => {
    const address = httpServer.address();
    console.log(`listening ${typeof address === 'object' && address ? address.port : config.port}`);
  });
}

main().catch((err: unknown) => {
  console.error('peer failed to start:', err);
  process.exit(1);
});
