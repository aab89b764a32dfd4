/**
 * The demo's simulated players (`npm run demo`): who they are, how often each plays, what they
 * score, when activity comes in waves, and which few climb to the top. Pure: randomness comes from
 * the `rand` passed in, time is a number of seconds since the demo started; server/cli/demo.ts does
 * the sending.
 *
 * The shape aims at what a real game's board looks like: activity follows a Zipf-like law (a few
 * players play all the time, most play rarely), per-game scores are log-normal around a skill that
 * is itself log-normal (a long right tail), and every 20 s a burst triples the rate, mostly in one
 * mode, as when a tournament round ends. Climbers are drawn from the least active players and,
 * one after another, score just enough to pass the current leader by the end of their climb, so
 * the top 10 keeps changing instead of freezing around the most active players.
 */
import { MAX_SCORE, nameKey } from '../../protocol/index.ts';

export const DEMO_MODES = ['ranked', 'casual', 'arena', 'blitz'] as const;

export interface DemoPlayer {
  readonly id: number;
  readonly name: string;
  /** Median score of one game. */
  readonly skill: number;
  /** The mode this player mostly plays. */
  readonly mode: string;
}

/** One game's result, before the driver gives it a submission_id. */
export interface Game {
  readonly player: DemoPlayer;
  readonly score: number;
  readonly mode: string;
}

export interface Climb {
  readonly player: DemoPlayer;
  readonly startS: number;
  readonly endS: number;
}

/** The rate's waves: a burst of BURST_S in every WAVE_S, starting BURST_AT_S into each wave. */
export const WAVE_S = 20;
const BURST_AT_S = 6;
const BURST_S = 4;
/** Burst rate / calm rate. The two levels are scaled so that the mean over a wave is 1. */
const BURST_RATIO = 3;
const CALM = WAVE_S / (WAVE_S - BURST_S + BURST_S * BURST_RATIO);

/** A new climber every CLIMB_EVERY_S, each climbing for CLIMB_S at CLIMBER_HZ submits per second. */
export const FIRST_CLIMB_S = 2;
export const CLIMB_EVERY_S = 25;
export const CLIMB_S = 40;
export const CLIMBER_HZ = 3;
/** A climber aims this far past the leader, so it clearly takes first place. */
const CLIMB_MARGIN = 0.04;

const ADJECTIVES = [
  'Swift', 'Silent', 'Crimson', 'Lucky', 'Frosty', 'Iron', 'Shadow', 'Golden', 'Mighty', 'Rapid',
  'Cosmic', 'Electric', 'Savage', 'Clever', 'Wild', 'Brave', 'Mystic', 'Toxic', 'Sneaky', 'Royal',
  'Stormy', 'Atomic', 'Lunar', 'Solar', 'Rusty', 'Velvet', 'Turbo', 'Hyper', 'Phantom', 'Jade',
  'Scarlet', 'Amber', 'Nimble', 'Grumpy', 'Fuzzy', 'Neon', 'Arctic', 'Blazing', 'Quiet', 'Rogue',
];
const NOUNS = [
  'Fox', 'Otter', 'Falcon', 'Tiger', 'Wolf', 'Panda', 'Viper', 'Raven', 'Badger', 'Lynx',
  'Comet', 'Pixel', 'Knight', 'Ninja', 'Wizard', 'Golem', 'Dragon', 'Yeti', 'Kraken', 'Mantis',
  'Hawk', 'Cobra', 'Bison', 'Moose', 'Gecko', 'Shark', 'Rhino', 'Puffin', 'Walrus', 'Beetle',
  'Sparrow', 'Jaguar', 'Phoenix', 'Titan', 'Rocket', 'Comrade', 'Bandit', 'Sage', 'Drifter', 'Hornet',
];

/** A standard normal draw (Box-Muller). */
function gauss(rand: () => number): number {
  const u = 1 - rand(); // (0, 1]: log(0) is -Infinity
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Index of the first cumulative weight above `x` (binary search). */
function pickIndex(cumulative: readonly number[], x: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function cumulate(weights: readonly number[]): number[] {
  let sum = 0;
  return weights.map((w) => (sum += w));
}

/**
 * `count` distinct player names: every adjective-noun pair once ("SwiftFox"), in a random order,
 * then pairs with a number ("SwiftFox17"). Distinct by the server's name key, which folds case and
 * look-alikes, so no two demo players ever fight over a name.
 */
export function playerNames(count: number, rand: () => number): string[] {
  const pairs = ADJECTIVES.flatMap((a) => NOUNS.map((n) => a + n));
  for (let i = pairs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [pairs[i], pairs[j]] = [pairs[j]!, pairs[i]!];
  }
  const taken = new Set<string>();
  const names: string[] = [];
  for (let i = 0; names.length < count; i++) {
    const pair = pairs[i % pairs.length]!;
    // Round r > 0 numbers its names from [10r, 10r + 9]: no two rounds can give a pair the same number.
    const round = Math.floor(i / pairs.length);
    let name = round === 0 ? pair : `${pair}${round * 10 + Math.floor(rand() * 10)}`;
    for (let n = 1; taken.has(nameKey(name)); n++) name = `${pair}_${n}`;
    taken.add(nameKey(name));
    names.push(name);
  }
  return names;
}

/** How busy the demo is `tS` seconds in: a rate multiplier (mean 1 over a wave) and, in a burst, the mode it is about. */
export function intensity(tS: number, modes: readonly string[]): { factor: number; burstMode: string | undefined } {
  const phase = tS % WAVE_S;
  if (phase < BURST_AT_S || phase >= BURST_AT_S + BURST_S) return { factor: CALM, burstMode: undefined };
  return { factor: CALM * BURST_RATIO, burstMode: modes[Math.floor(tS / WAVE_S) % modes.length] };
}

/**
 * The score a climber sends now: enough that, at CLIMBER_HZ, its total passes the leader's
 * (growing as it has been) by CLIMB_MARGIN when the climb ends. Never below a normal game's score.
 */
export function climberScore(c: { own: number; leader: number; leaderGrowthPerS: number; remainingS: number; skill: number }): number {
  const remaining = Math.max(c.remainingS, 1 / CLIMBER_HZ);
  const goal = (c.leader + Math.max(0, c.leaderGrowthPerS) * remaining) * (1 + CLIMB_MARGIN);
  const needed = (goal - c.own) / (remaining * CLIMBER_HZ);
  return Math.min(MAX_SCORE, Math.max(Math.round(c.skill), Math.ceil(needed)));
}

export class Population {
  readonly players: readonly DemoPlayer[];
  /** Cumulative activity weights, by index into `players`. */
  private readonly activity: number[];
  /** Cumulative mode popularity, by index into `modes`. */
  private readonly popularity: number[];
  /** The least active players, in a random order: the climbers, one after another. */
  private readonly tail: DemoPlayer[];

  constructor(
    count: number,
    readonly modes: readonly string[],
    private readonly rand: () => number,
  ) {
    // The first mode is the most played: popularity 1, 1/2, 1/3, ...
    this.popularity = cumulate(modes.map((_, k) => 1 / (k + 1)));
    const names = playerNames(count, rand);
    this.players = names.map((name, i) => ({
      id: i + 1,
      name,
      skill: 300 * Math.exp(0.7 * gauss(rand)),
      mode: modes[this.pickMode()]!,
    }));
    // Activity rank is shuffled against user id, so the busiest players are not simply ids 1, 2, 3.
    const order = this.players.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const weights = new Array<number>(count);
    order.forEach((player, rank) => (weights[player] = 1 / (rank + 8) ** 1.1));
    this.activity = cumulate(weights);
    const tailFrom = Math.floor(count * 0.5);
    this.tail = order.slice(tailFrom).map((i) => this.players[i]!);
  }

  /** One game by a player drawn by activity, in their usual mode (or, in a burst, mostly the burst's). */
  play(tS: number): Game {
    const player = this.players[pickIndex(this.activity, this.rand() * this.activity.at(-1)!)]!;
    const { burstMode } = intensity(tS, this.modes);
    const r = this.rand();
    const mode = burstMode !== undefined && r < 0.7 ? burstMode : r < 0.85 ? player.mode : this.modes[this.pickMode()]!;
    return { player, score: this.gameScore(player), mode };
  }

  /** An ordinary game's score for `player`: log-normal around their skill. */
  gameScore(player: DemoPlayer): number {
    return Math.min(MAX_SCORE, Math.max(0, Math.round(player.skill * Math.exp(0.5 * gauss(this.rand)))));
  }

  /** The climbs under way `tS` seconds in (at most two overlap: CLIMB_S < 2 * CLIMB_EVERY_S). */
  climbsAt(tS: number): Climb[] {
    if (this.tail.length === 0 || tS < FIRST_CLIMB_S) return [];
    const climbs: Climb[] = [];
    const last = Math.floor((tS - FIRST_CLIMB_S) / CLIMB_EVERY_S);
    for (let k = Math.max(0, last - 1); k <= last; k++) {
      const startS = FIRST_CLIMB_S + k * CLIMB_EVERY_S;
      if (tS < startS + CLIMB_S) climbs.push({ player: this.tail[k % this.tail.length]!, startS, endS: startS + CLIMB_S });
    }
    return climbs;
  }

  private pickMode(): number {
    return pickIndex(this.popularity, this.rand() * this.popularity.at(-1)!);
  }
}
