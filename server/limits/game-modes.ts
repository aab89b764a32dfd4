/**
 * Which game modes a submit may use. With GAME_MODES set, only those. Without it, any well-formed
 * mode, as long as the mode boards PostgreSQL holds stay within MAX_BOARDS: every board costs
 * start-up rebuild time, index checks and a share of each rename, so their number is bounded.
 *
 * The hot path costs nothing: the modes that have a board are kept in a set, loaded at start,
 * refreshed periodically and whenever this instance creates one. Only a mode missing from the set
 * consults PostgreSQL: a primary-key lookup (another instance may have created it), then, for a
 * really new mode, a fresh list of the boards before deciding.
 *
 * Creating a mode takes this instance's one creation slot until its submit has settled, so one
 * instance never admits two new modes on the same count. Instances do not coordinate: each may
 * admit one new mode on a count that another's creation is about to raise, so the bound can be
 * overshot by at most (instances - 1) boards, never more. A submit whose outcome is unknown (its
 * answer was lost) keeps its mode counted for a while, as it may yet commit.
 */
import { modeBoard } from '../../protocol/index.ts';
import { AppError, unavailable } from '../errors.ts';
import type { Logger } from '../log.ts';
import { isConnectionError, withDeadline, type Sql } from '../store/db.ts';
import { boardExists, listFamilies } from '../store/scores.ts';

/** What the gate reads of PostgreSQL. */
export interface ModeStore {
  /** Every all-time board (`global`, `mode:<m>`). */
  families(): Promise<string[]>;
  boardExists(board: string): Promise<boolean>;
}

/** The ModeStore of a PostgreSQL pool: a call without an answer within `timeoutMs` is `unavailable`. */
export function postgresModeStore(sql: Sql, timeoutMs: number): ModeStore {
  const call = async <T>(p: () => Promise<T>): Promise<T> => {
    try {
      return await withDeadline(p(), timeoutMs);
    } catch (err) {
      if (isConnectionError(err)) throw unavailable('the database is unavailable; retry later', err);
      throw err;
    }
  };
  return { families: () => call(() => listFamilies(sql)), boardExists: (board) => call(() => boardExists(sql, board)) };
}

export interface ModeGateOptions {
  /** GAME_MODES: the only modes allowed; undefined allows any, bounded by `maxBoards`. */
  allowed: readonly string[] | undefined;
  maxBoards: number;
  /** How often the set of known modes is re-read from PostgreSQL. */
  refreshMs: number;
  /** Longest wait for the creation slot; also how long an unknown outcome keeps its mode counted. */
  waitMs: number;
}

/** What became of the submit a mode was admitted for. */
export type SubmitOutcome = 'committed' | 'not_committed' | 'unknown';

/** Called once the submit has settled; releases what admission took. */
export type Settle = (outcome: SubmitOutcome) => void;

const MODE_PREFIX = modeBoard('');
const NOTHING_TO_SETTLE: Settle = () => undefined;
/** An unknown outcome may still commit until its statement ends (about two deadlines, submit-pipeline.ts). */
const UNCERTAIN_DEADLINES = 3;

export class ModeGate {
  private readonly allowed: ReadonlySet<string> | undefined;
  /** Modes with a board in PostgreSQL, as last seen, plus the uncertain ones. */
  private known = new Set<string>();
  /** Modes whose creating submit had an unknown outcome, until when they stay counted. */
  private readonly uncertain = new Map<string, number>();
  private slotTaken = false;
  /** Modes whose creating submit is in flight here: settles when it has. */
  private readonly creating = new Map<string, Promise<void>>();
  private readonly waiting: (() => void)[] = [];
  private refreshing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: ModeGateOptions,
    private readonly store: ModeStore,
    private readonly log: Logger,
  ) {
    this.allowed = opts.allowed ? new Set(opts.allowed) : undefined;
  }

  /** Loads the known modes and keeps them fresh (the bound needs them; an allowlist does not). */
  async start(): Promise<void> {
    if (this.allowed) return;
    try {
      await this.refresh();
    } catch (err) {
      this.log.warn({ err }, 'could not list the game mode boards; each new mode will be checked in PostgreSQL');
    }
    this.timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.log.warn({ err }, 'refreshing the known game modes failed'));
    }, this.opts.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * Throws `bad_request` for a mode GAME_MODES does not list, or a new mode past MAX_BOARDS;
   * otherwise returns what to call once the submit has settled.
   */
  async admit(gameMode: string): Promise<Settle> {
    if (this.allowed) {
      if (this.allowed.has(gameMode)) return NOTHING_TO_SETTLE;
      throw new AppError('bad_request', `game mode "${gameMode}" is not allowed here; the allowed modes are: ${[...this.allowed].join(', ')} (GAME_MODES)`);
    }
    if (this.known.has(gameMode)) return NOTHING_TO_SETTLE;
    // The mode's first submit is creating it here: wait for that, not for the slot (a new
    // deployment's first burst is mostly submits to a few new modes; queued one by one behind
    // the slot they ran out their deadline).
    const creation = this.creating.get(gameMode);
    if (creation) {
      await this.within(creation, gameMode);
      if (this.known.has(gameMode)) return NOTHING_TO_SETTLE;
    }
    if (await this.store.boardExists(modeBoard(gameMode))) {
      this.known.add(gameMode);
      return NOTHING_TO_SETTLE;
    }
    if (this.full()) throw this.overBound(gameMode);
    const release = await this.takeSlot(gameMode);
    try {
      // Created while this submit waited (by the submit holding the slot before it): no re-read.
      if (!this.known.has(gameMode)) await this.refresh();
      if (this.known.has(gameMode)) {
        release();
        return NOTHING_TO_SETTLE;
      }
      if (this.full()) throw this.overBound(gameMode);
    } catch (err) {
      release();
      throw err;
    }
    return this.creatingNow(gameMode, release);
  }

  /** Marks the mode as being created here until its submit settles; then counts it (or not). */
  private creatingNow(gameMode: string, release: () => void): Settle {
    let created!: () => void;
    this.creating.set(gameMode, new Promise<void>((resolve) => (created = resolve)));
    return (outcome) => {
      if (outcome === 'committed') this.known.add(gameMode);
      if (outcome === 'unknown') {
        this.uncertain.set(gameMode, Date.now() + UNCERTAIN_DEADLINES * this.opts.waitMs);
        this.known.add(gameMode);
      }
      this.creating.delete(gameMode);
      created();
      release();
    };
  }

  /** Mode boards counted now (for tests and logs). */
  get count(): number {
    return this.known.size;
  }

  private full(): boolean {
    return this.known.size >= this.opts.maxBoards;
  }

  private overBound(gameMode: string): AppError {
    return new AppError(
      'bad_request',
      `game mode "${gameMode}" would be a new board, and this server already has its maximum of ${this.opts.maxBoards} game mode boards (MAX_BOARDS); submit to an existing mode`,
    );
  }

  /** Re-reads the modes with a board; concurrent callers share one query. */
  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const modes = (await this.store.families()).filter((b) => b.startsWith(MODE_PREFIX)).map((b) => b.slice(MODE_PREFIX.length));
        const now = Date.now();
        for (const [mode, until] of this.uncertain) if (until <= now) this.uncertain.delete(mode);
        this.known = new Set([...modes, ...this.uncertain.keys()]);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** Resolves with `p`, or refuses with rate_limited once the slot's wait has passed. */
  private async within(p: Promise<void>, gameMode: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        p,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new AppError('rate_limited', `game mode "${gameMode}" is still being created; retry later`, { retryAfterMs: 1000 })),
            this.opts.waitMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for this instance's creation slot; the returned function frees it (once). */
  private async takeSlot(gameMode: string): Promise<() => void> {
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.slotTaken = false;
    };
    if (!this.slotTaken) {
      this.slotTaken = true;
      return release;
    }
    await new Promise<void>((resolve, reject) => {
      const turn = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const at = this.waiting.indexOf(turn);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(new AppError('rate_limited', `too many new game modes are being created at once; retry "${gameMode}" later`, { retryAfterMs: 1000 }));
      }, this.opts.waitMs);
      this.waiting.push(turn);
    });
    return release;
  }
}
