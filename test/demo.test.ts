/**
 * `npm run demo`: the simulated population's shape (pure), and the demo as a real process on a
 * fresh database and key prefix with no JWT_SECRET: the board's top moves, several modes get
 * boards, SIGINT stops it with exit 0, and PostgreSQL holds every acknowledged submit.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameKey } from '../protocol/index.ts';
import { prng } from '../bench/load/protocol-client.ts';
import { CLIMB_S, CLIMBER_HZ, DEMO_MODES, Population, WAVE_S, climberScore, intensity, playerNames } from '../server/cli/demo-population.ts';
import { eventually } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

describe('the demo population', () => {
  it('names every player differently, by the server name key', () => {
    const names = playerNames(5000, prng(1));
    expect(new Set(names.map(nameKey)).size).toBe(5000);
    expect(names.every((n) => /^[A-Z][A-Za-z]+[0-9]*$/.test(n))).toBe(true);
  });

  it('has a few very active players and a long tail, across every mode, with skewed scores', () => {
    const pop = new Population(3000, DEMO_MODES, prng(2));
    const games = new Map<number, number>();
    const modes = new Set<string>();
    const scores: number[] = [];
    for (let i = 0; i < 50_000; i++) {
      const g = pop.play(1); // calm time: no burst
      games.set(g.player.id, (games.get(g.player.id) ?? 0) + 1);
      modes.add(g.mode);
      scores.push(g.score);
    }
    const busiest = [...games.values()].sort((a, b) => b - a);
    // The busiest 1% play about a third of the games; most players play a handful.
    expect(busiest.slice(0, 30).reduce((a, b) => a + b, 0) / 50_000).toBeGreaterThan(0.2);
    expect(busiest[1500]!).toBeLessThan(15);
    expect(modes).toEqual(new Set(DEMO_MODES));
    scores.sort((a, b) => a - b);
    expect(scores[49_500]! / scores[25_000]!).toBeGreaterThan(4); // p99 far above the median
  });

  it('comes in waves that average the asked rate, a burst favouring one mode', () => {
    let mean = 0;
    for (let t = 0; t < WAVE_S; t += 0.01) mean += intensity(t, DEMO_MODES).factor * 0.01;
    expect(mean / WAVE_S).toBeCloseTo(1, 2);
    const bursts = Array.from({ length: WAVE_S * 4 }, (_, i) => intensity(i / 4, DEMO_MODES)).filter((x) => x.burstMode);
    expect(bursts.length).toBeGreaterThan(0);
    expect(bursts.every((b) => b.factor > 2 && b.burstMode === 'ranked')).toBe(true);
  });

  it('climbers come from the quiet tail, one after another, and aim past the leader', () => {
    const pop = new Population(1000, DEMO_MODES, prng(3));
    const first = pop.climbsAt(3);
    expect(first).toHaveLength(1);
    const later = pop.climbsAt(first[0]!.startS + CLIMB_S - 1);
    expect(later.map((c) => c.player.id)).toContain(first[0]!.player.id);
    expect(new Set(later.map((c) => c.player.id)).size).toBe(later.length);
    // Scoring this at CLIMBER_HZ until the end passes the leader (growing at 100/s) by the margin.
    const s = climberScore({ own: 1000, leader: 50_000, leaderGrowthPerS: 100, remainingS: 20, skill: 300 });
    expect(1000 + s * 20 * CLIMBER_HZ).toBeGreaterThan(50_000 + 100 * 20);
    expect(climberScore({ own: 90_000, leader: 50_000, leaderGrowthPerS: 0, remainingS: 5, skill: 300 })).toBe(300);
  });
});

describe('npm run demo', () => {
  let stores: FreshStores;
  beforeAll(async () => {
    stores = await freshStores();
  });
  afterAll(async () => {
    await stores.cleanup();
  });

  it('moves the live board within seconds, over several modes, and stops on SIGINT with exit 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli/demo.ts', '--rate', '400', '--players', '500', '--port', '0'], {
      cwd: ROOT,
      // No JWT_SECRET: the demo must make its own and sign its own token.
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        DATABASE_URL: stores.databaseUrl,
        REDIS_URL: stores.redisUrl,
        REDIS_PREFIX: stores.redisPrefix,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
    try {
      await eventually('the demo prints its board URL', () => /live board at http:\/\/localhost:\d+\//.test(out), 20_000);
      const port = Number(/live board at http:\/\/localhost:(\d+)\//.exec(out)![1]);
      const get = async (path: string) => {
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        expect(res.status).toBe(200);
        return (await res.json()) as Record<string, unknown>;
      };
      const top = async () => ((await get('/api/leaderboard/top?board=global&limit=10')).top_players as { user_id: number; total_score: number }[]);

      await eventually('the top 10 fills', async () => (await top()).length === 10, 5000);
      const before = await top();
      await new Promise((r) => setTimeout(r, 1500));
      const after = await top();
      expect(after).not.toEqual(before);
      expect(after[0]!.total_score).toBeGreaterThan(0);

      const { boards } = (await get('/api/leaderboard/boards')) as { boards: string[] };
      expect(DEMO_MODES.filter((m) => boards.includes(`mode:${m}`)).length).toBeGreaterThanOrEqual(3);

      await eventually('a status line', () => /\d+ submits\/s {2}errors 0/.test(out), 8000);
      child.kill('SIGINT');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('no exit within 8 s'), 8000))]);
      expect(code, out).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    const stopped = /population stopped \((\d+) submits acknowledged, 0 errors\)/.exec(out);
    expect(stopped, out).not.toBeNull();
    const acked = Number(stopped![1]);
    expect(acked).toBeGreaterThan(500);

    const sql = postgres(stores.databaseUrl, { max: 1, onnotice: () => undefined });
    try {
      const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM game_sessions`;
      expect(row!.n).toBeGreaterThanOrEqual(acked); // every acknowledged submit is in PostgreSQL
      const modes = await sql<{ game_mode: string }[]>`SELECT DISTINCT game_mode FROM game_sessions`;
      expect(modes.map((m) => m.game_mode).sort()).toEqual([...DEMO_MODES].sort());
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});
