/**
 * The client SDK against a real server process (reconnect after a restart, typed errors) and
 * against a scripted peer (gaps, timeouts) where the real server would never misbehave.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { decode, encode, type Entry } from '../protocol/index.ts';
import { LeaderboardClient, LeaderboardError, LiveView, type Status, type ViewUpdate, type WebSocketCtor } from '../client/sdk/index.ts';
import { eventually, spawnServer, storeEnv, token, type ChildServer } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

const Ctor = WebSocket as unknown as WebSocketCtor;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

const entry = (rank: number, user_id: number, total_score: number): Entry => ({
  rank,
  user_id,
  username: `player${user_id}`,
  total_score,
  games_played: 1,
});

describe('LiveView', () => {
  it('applies continuing diffs, reports moves, and asks for a resync on a gap, a repeat or a new epoch', () => {
    const v = new LiveView();
    v.reset({ epoch: 'e1', seq: 4, entries: [entry(1, 1, 50), entry(2, 2, 40)] });
    const u = v.apply({ epoch: 'e1', seq: 5, entries: [entry(1, 2, 60), entry(2, 1, 50)], removed: [] });
    expect(u).not.toBe('resync');
    expect((u as ViewUpdate).changes).toEqual([
      { user_id: 2, kind: 'up', from: 2, to: 1, scoreDelta: 20 },
      { user_id: 1, kind: 'down', from: 1, to: 2, scoreDelta: 0 },
    ]);
    expect(v.apply({ epoch: 'e1', seq: 7, entries: [], removed: [] })).toBe('resync');
    expect(v.apply({ epoch: 'e1', seq: 5, entries: [], removed: [] })).toBe('resync');
    expect(v.apply({ epoch: 'e2', seq: 6, entries: [], removed: [] })).toBe('resync');
    const n = v.apply({ epoch: 'e1', seq: 6, entries: [entry(2, 3, 55)], removed: [1] }) as ViewUpdate;
    expect(n.entries.map((e) => e.user_id)).toEqual([2, 3]);
    expect(n.removed).toEqual([1]);
    expect(n.changes).toEqual([{ user_id: 3, kind: 'new', to: 2 }]);
  });
});

describe('against a scripted peer', () => {
  let wss: WebSocketServer;
  let port: number;
  const subscribes: number[] = [];
  beforeAll(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    port = (wss.address() as { port: number }).port;
    wss.on('connection', (sock) => {
      sock.on('message', (data: Buffer) => {
        const f = decode(data) as { op: string; rid: number };
        if (f.op === 'subscribe') {
          subscribes.push(Date.now());
          const n = subscribes.length;
          sock.send(encode({ op: 'subscribe', rid: f.rid, board: 'global', epoch: 'p', seq: 10 * n, entries: [entry(1, n, 100)] }));
          // The first subscription's stream skips a seq: the client must notice and re-subscribe.
          if (n === 1) setTimeout(() => sock.send(encode({ op: 'diff', board: 'global', epoch: 'p', seq: 12, entries: [], removed: [1] })), 20);
        }
        // Any other op is never answered: the client's timeout must fire.
      });
    });
  });
  afterAll(() => new Promise<void>((r) => wss.close(() => r())));

  it('re-subscribes after a gap and ends on the fresh snapshot', async () => {
    const client = new LeaderboardClient(`ws://127.0.0.1:${port}/ws`, { WebSocket: Ctor, timeoutMs: 300 });
    const updates: ViewUpdate[] = [];
    const sub = client.subscribe('global', 10, (u) => updates.push(u));
    await eventually('resubscribed after the gap', () => subscribes.length >= 2);
    await eventually('fresh snapshot applied', () => sub.entries[0]?.user_id === 2);
    expect(updates.every((u) => u.reset)).toBe(true);
    client.close();
  });

  it('rejects an unanswered request with a typed timeout', async () => {
    const client = new LeaderboardClient(`ws://127.0.0.1:${port}/ws`, { WebSocket: Ctor, timeoutMs: 200 });
    await client.ready();
    const err = await client.top().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaderboardError);
    expect((err as LeaderboardError).code).toBe('timeout');
    client.close();
  });
});

describe('against a real server process', () => {
  let stores: FreshStores;
  let server: ChildServer | undefined;
  let port: number;
  beforeAll(async () => {
    stores = await freshStores();
    port = await freePort();
    server = await spawnServer(storeEnv(stores, { PORT: String(port), DIFF_TICK_MS: '20' }));
  });
  afterAll(async () => {
    server?.process.kill('SIGKILL');
    await server?.exited;
    await stores?.cleanup();
  });

  it('surfaces server errors as typed errors with the spec code', async () => {
    const anon = new LeaderboardClient(`ws://127.0.0.1:${port}/ws`, { WebSocket: Ctor, reconnect: false });
    await anon.ready();
    const err = await anon.submit({ user_id: 1, score: 1, game_mode: 'x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'LeaderboardError', code: 'unauthorized' });
    const bad = await anon.top({ limit: 0 }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'bad_request' });
    anon.close();
  });

  it('reconnects after a server restart, re-subscribes and converges', async () => {
    const statuses: Status[] = [];
    const url = `ws://127.0.0.1:${port}/ws`;
    const writer = new LeaderboardClient(url, { WebSocket: Ctor, token: token('server'), reconnect: { initialDelayMs: 50, maxDelayMs: 300 } });
    const spectator = new LeaderboardClient(url, {
      WebSocket: Ctor,
      reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
      onStatus: (s) => statuses.push(s),
    });
    const sub = spectator.subscribe('global', 5, () => undefined);
    await writer.ready();
    await writer.submit({ user_id: 1, score: 100, game_mode: 'x' });
    await eventually('first leader seen', () => sub.entries[0]?.user_id === 1);

    server!.process.kill('SIGTERM');
    expect(await server!.exited).toBe(0);
    await eventually('spectator notices', () => spectator.status === 'reconnecting');
    server = await spawnServer(storeEnv(stores, { PORT: String(port), DIFF_TICK_MS: '20' }));
    await writer.ready();
    await eventually('writer reconnected', async () => {
      try {
        await writer.submit({ user_id: 2, score: 500, game_mode: 'x' });
        return true;
      } catch {
        return false;
      }
    });
    await eventually('spectator converged after restart', () => sub.entries[0]?.user_id === 2 && sub.entries[1]?.user_id === 1);
    expect(statuses).toContain('reconnecting');
    expect(statuses.at(-1)).toBe('open');
    writer.close();
    spectator.close();
    expect(spectator.status).toBe('closed');
  });
});
