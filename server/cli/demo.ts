/**
 * `npm run demo`: the server, started as `npm start` starts it (board built if stale, database
 * created and migrated), plus a simulated population (server/cli/demo-population.ts) submitting
 * through the real WebSocket protocol with the client SDK, so the live board at
 * http://localhost:8000/ moves within seconds. `--rate` (mean submits per second, default 100),
 * `--players` (default 3000), `--port` (default PORT, else 8000; 0 picks a free one).
 *
 * The server gets JWT_SECRET from the environment, or a random one for this run that only the
 * demo knows: the demo signs its own `server` token, so nothing is logged that could submit.
 * Ctrl-C or SIGTERM stops the population, then the server, and exits 0.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { LeaderboardClient, type LeaderboardError, type WebSocketCtor } from '../../client/sdk/index.ts';
import { GLOBAL_BOARD, type SubmitReply } from '../../protocol/index.ts';
import { signToken } from '../auth/jwt.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { serve } from '../lifecycle.ts';
import { createLogger } from '../log.ts';
import { buildBoard } from './build-board.ts';
import { CLIMBER_HZ, DEMO_MODES, Population, climberScore, intensity, type Game } from './demo-population.ts';

const USAGE = 'usage: npm run demo -- [--rate SUBMITS_PER_S] [--players N] [--port PORT]';
const TICK_MS = 50;
const STATUS_EVERY_MS = 5000;
const LEADER_POLL_MS = 1000;
/** Sockets the population shares (one server token; submits are spread over them). */
const SOCKETS = 4;
/** Past this many unanswered submits on a socket, new games are skipped rather than queued. */
const MAX_INFLIGHT_PER_SOCKET = 500;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function intFlag(name: string, value: string | undefined, dflt: number, min: number, max: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

const { values: flags } = (() => {
  try {
    return parseArgs({ options: { rate: { type: 'string' }, players: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean' } } });
  } catch (err) {
    fail((err as Error).message);
  }
})();
if (flags.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const rate = intFlag('rate', flags.rate, 100, 1, 20_000);
const playerCount = intFlag('players', flags.players, 3000, 10, 100_000);
const port = flags.port === undefined ? undefined : intFlag('port', flags.port, 0, 0, 65535);

/** Where this machine reaches a server listening on `host`. */
function reachable(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** The simulated players, sending through SOCKETS SDK clients until stop(). */
class Simulation {
  private readonly clients: LeaderboardClient[];
  private readonly inflight: number[];
  private readonly population: Population;
  private readonly runId = randomBytes(4).toString('hex');
  private readonly startedAt = performance.now();
  private readonly timers: NodeJS.Timeout[] = [];
  /** Climbers' totals as the server last answered, and when each may submit next (s). */
  private readonly climbers = new Map<number, { own: number; dueS: number }>();
  /** Players whose name turned out to be taken in this database (someone else's): they play unnamed. */
  private readonly nameless = new Set<number>();
  private readonly errorsByCode = new Map<string, number>();
  /** The climbers' aim: the first player not climbing, and how fast their total grows. */
  private leader: { total: number; at: number; growthPerS: number } | undefined;
  /** First place, for the status line. */
  private first: { name: string; total: number } | undefined;
  private leaderReadFailed = false;
  /** The mode of the last burst since the previous status line, if there was one. */
  private burstMode: string | undefined;
  private budget = 0;
  private seq = 0;
  private next = 0;
  private acked = 0;
  private ackedAtStatus = 0;
  private errors = 0;
  private skipped = 0;

  constructor(url: string, token: string, players: number, modes: readonly string[], private readonly rate: number) {
    this.population = new Population(players, modes, Math.random);
    this.clients = Array.from({ length: SOCKETS }, () => new LeaderboardClient(url, { token, WebSocket: WebSocket as unknown as WebSocketCtor }));
    this.inflight = this.clients.map(() => 0);
  }

  async start(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.ready()));
    let last = performance.now();
    this.timers.push(
      setInterval(() => {
        const now = performance.now();
        this.tick((now - this.startedAt) / 1000, (now - last) / 1000);
        last = now;
      }, TICK_MS),
      setInterval(() => this.pollLeader(), LEADER_POLL_MS),
      setInterval(() => this.status(), STATUS_EVERY_MS),
    );
  }

  /** Stops sending, waits (briefly) for answers to what was sent, and closes the sockets. */
  async stop(): Promise<void> {
    this.timers.forEach(clearInterval);
    const deadline = Date.now() + 3000;
    while (this.inflight.some((n) => n > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.clients.forEach((c) => c.close());
    process.stdout.write(`demo: population stopped (${this.acked} submits acknowledged, ${this.errors} errors)\n`);
  }

  private tick(tS: number, dtS: number): void {
    const { factor, burstMode } = intensity(tS, this.population.modes);
    this.burstMode = burstMode ?? this.burstMode;
    this.budget += this.rate * factor * dtS;
    for (const climb of this.population.climbsAt(tS)) {
      const state = this.climbers.get(climb.player.id) ?? { own: 0, dueS: tS };
      this.climbers.set(climb.player.id, state);
      if (state.dueS > tS) continue;
      state.dueS = tS + 1 / CLIMBER_HZ;
      const leader = this.leader ?? { total: 0, growthPerS: 0 };
      const score = climberScore({ own: state.own, leader: leader.total, leaderGrowthPerS: leader.growthPerS, remainingS: climb.endS - tS, skill: climb.player.skill });
      this.budget -= 1; // climbers' games come out of the same rate
      this.send({ player: climb.player, score, mode: climb.player.mode });
    }
    for (; this.budget >= 1; this.budget--) this.send(this.population.play(tS));
  }

  private send(game: Game): void {
    const i = this.next++ % this.clients.length;
    if (this.inflight[i]! >= MAX_INFLIGHT_PER_SOCKET) {
      this.skipped++;
      return;
    }
    const { player } = game;
    this.inflight[i]!++;
    this.clients[i]!.submit({
      user_id: player.id,
      score: game.score,
      game_mode: game.mode,
      ...(this.nameless.has(player.id) ? {} : { username: player.name }),
      submission_id: `demo-${this.runId}-${this.seq++}`,
    }).then(
      (reply: SubmitReply) => {
        this.acked++;
        const climber = this.climbers.get(player.id);
        if (climber) climber.own = reply.total_score;
      },
      (err: LeaderboardError) => {
        this.errors++;
        const seen = this.errorsByCode.get(err.code) ?? 0;
        this.errorsByCode.set(err.code, seen + 1);
        if (seen === 0) process.stderr.write(`demo: a submit failed (${err.code}): ${err.message}\n`);
        if (err.code === 'conflict') this.nameless.add(player.id);
      },
    ).finally(() => this.inflight[i]!--);
  }

  /**
   * The global leader among players not climbing now, for the climbers' aim and the status line.
   * A climber in first place must not aim at itself: its own growth would feed its aim.
   */
  private pollLeader(): void {
    const climbing = new Set(this.population.climbsAt((performance.now() - this.startedAt) / 1000).map((c) => c.player.id));
    this.clients[0]!.top({ board: GLOBAL_BOARD, limit: climbing.size + 1 }).then(
      ({ entries }) => {
        if (entries[0]) this.first = { name: entries[0].username, total: entries[0].total_score };
        const top = entries.find((e) => !climbing.has(e.user_id));
        if (!top) return;
        const at = performance.now();
        const prev = this.leader;
        const growth = prev && at > prev.at ? (Math.max(0, top.total_score - prev.total) * 1000) / (at - prev.at) : 0;
        this.leader = { total: top.total_score, at, growthPerS: prev ? 0.7 * prev.growthPerS + 0.3 * growth : 0 };
      },
      (err: LeaderboardError) => {
        // A missed read only leaves the climbers aiming at the last known leader for a second.
        if (!this.leaderReadFailed) process.stderr.write(`demo: reading the leader failed (${err.code}): ${err.message}\n`);
        this.leaderReadFailed = true;
      },
    );
  }

  private status(): void {
    const elapsedS = Math.round((performance.now() - this.startedAt) / 1000);
    const perS = Math.round(((this.acked - this.ackedAtStatus) * 1000) / STATUS_EVERY_MS);
    this.ackedAtStatus = this.acked;
    const codes = [...this.errorsByCode].map(([code, n]) => `${code} ${n}`).join(', ');
    const burst = this.burstMode;
    this.burstMode = undefined;
    const parts = [
      `demo ${Math.floor(elapsedS / 60)}:${String(elapsedS % 60).padStart(2, '0')}`,
      `${perS} submits/s`,
      `errors ${this.errors}${codes ? ` (${codes})` : ''}`,
      ...(this.skipped > 0 ? [`skipped ${this.skipped} (server behind)`] : []),
      ...(this.first ? [`#1 ${this.first.name} ${this.first.total.toLocaleString('en-US')}`] : []),
      ...(burst ? [`(a burst in ${burst})`] : []),
    ];
    process.stdout.write(`${parts.join('  ')}\n`);
  }
}

async function main(): Promise<void> {
  let config: Config;
  try {
    // Outside production the server would make a random secret itself; the demo makes it, so it can sign its token.
    config = loadConfig({
      ...process.env,
      JWT_SECRET: process.env.JWT_SECRET || randomBytes(32).toString('base64url'),
      ...(port !== undefined ? { PORT: String(port) } : {}),
    });
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const secret = config.jwtSecret!;
  const log = createLogger(config.logLevel, config.logPretty);

  try {
    await buildBoard();
  } catch (err) {
    process.stderr.write(`building the live board failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  }
  // The population stops before the server closes, so its last replies still arrive.
  let sim: Simulation | undefined;
  await serve(config, log, {
    started: async (app) => {
      const host = reachable(config.host);
      const modes = config.gameModes ?? DEMO_MODES;
      const now = Math.floor(Date.now() / 1000);
      const token = signToken(
        { sub: 'demo', role: 'server', iat: now, ...(config.jwtAudience ? { aud: config.jwtAudience } : {}), ...(config.jwtIssuer ? { iss: config.jwtIssuer } : {}) },
        secret,
      );
      process.stdout.write(
        `demo: live board at http://localhost:${app.port}/  (server on ${host}:${app.port}; ${playerCount} players in ${modes.join(', ')}, ~${rate} submits/s; Ctrl-C stops)\n`,
      );
      sim = new Simulation(`ws://${host}:${app.port}/ws`, token, playerCount, modes, rate);
      await sim.start();
    },
    stopping: () => sim?.stop(),
  });
}

void main();
