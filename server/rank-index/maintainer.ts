/**
 * Keeps the rank index trustworthy: rebuilds boards found untrusted (by a read, a write or the
 * periodic check), and invalidates boards whose live update this instance failed to apply, so that
 * no instance serves them from a stale index. The periodic check also reads PostgreSQL's record of
 * committed updates not known applied (index_pending, sql/001): the boards of a record whose owner
 * is gone, or that has waited past `staleMs`, are invalidated and rebuilt, and the rebuild clears
 * the record. One rebuild at a time per instance; a lock in Redis makes it one per board across
 * instances.
 */
import type { ProgressOutput } from '../progress.ts';
import { GLOBAL_BOARD } from '../../protocol/index.ts';
import type { Logger } from '../log.ts';
import type { Sql } from '../store/db.ts';
import { dropPending, listPending, type PendingRow } from '../store/pending.ts';
import { ServedBoards } from './served-boards.ts';
import type { InstanceHeartbeat } from './heartbeat.ts';
import type { RankIndex } from './rank-index.ts';
import { rebuildBoard, type RebuildResult } from './rebuild.ts';

export interface MaintainerEvents {
  /** A board got a fresh index generation. */
  rebuilt?(result: Extract<RebuildResult, { status: 'rebuilt' }>): void;
  /** Where rebuilds show their progress (a terminal's stderr; nothing elsewhere). */
  progress?: ProgressOutput;
}

export class IndexMaintainer {
  /** board -> must the epoch be deleted first (this instance failed to apply a write to it) */
  private readonly pending = new Map<string, boolean>();
  /** The board whose rebuild is running, if any. */
  private rebuilding: string | undefined;
  private readonly dirty = new Set<string>();
  private draining: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly index: RankIndex,
    private readonly sql: Sql,
    private readonly log: Logger,
    private readonly checkIntervalMs: number,
    private readonly events: MaintainerEvents = {},
    /** This instance's heartbeat; without one (tools) pending records are not looked at. */
    private readonly heartbeat?: InstanceHeartbeat,
    /** Which boards the index serves (all-time, current periods of the kept windows). */
    private readonly served: ServedBoards = new ServedBoards([], Date.now),
    /** A pending record older than this is acted on even while its owner lives. */
    private readonly staleMs: number = 30_000,
  ) {}

  /** All-time boards and current-period window boards: the only ones the index serves. */
  private isLive(board: string): boolean {
    return this.served.has(board);
  }

  /**
   * Schedules a rebuild of a board that was found untrusted. The board being rebuilt right now is
   * untrusted until its swap by design: finding it so asks for nothing more (under load a second
   * copy of a million rows doubled the recovery). markDirty, which says an update was lost, still
   * queues another.
   */
  request(board: string): void {
    if (!this.isLive(board) || board === this.rebuilding) return;
    if (!this.pending.has(board)) this.pending.set(board, false);
    this.kick();
  }

  /** A committed update could not be applied: stop every instance trusting the board, then rebuild it. */
  markDirty(boards: readonly string[]): void {
    for (const b of boards.filter((x) => this.isLive(x))) {
      this.pending.set(b, true);
      this.dirty.add(b);
    }
    this.kick();
  }

  isDirty(board: string): boolean {
    return this.dirty.size > 0 && this.dirty.has(board);
  }

  get pendingBoards(): string[] {
    return [...this.pending.keys()];
  }

  /** Rebuilds every board PostgreSQL knows; resolves when done (or when what failed is left pending). */
  async rebuildAll(): Promise<void> {
    for (const board of await this.served.list(this.sql)) this.request(board);
    await this.idle();
  }

  /**
   * Start-up: a board whose index is trusted and has no pending record is current, and is not
   * rebuilt. Records whose owner is gone are acted on at once; records of live owners present now
   * are given `settleMs` (a batch settles within its deadline), and those still there then are
   * taken as stale. Resolves when the boards found are rebuilt (or left pending after a failure).
   */
  async recover(settleMs: number): Promise<void> {
    const atStart = this.heartbeat ? await listPending(this.sql) : [];
    await this.check();
    if (atStart.length > 0) {
      await new Promise((r) => setTimeout(r, settleMs));
      const still = new Set((await listPending(this.sql)).map((r) => `${r.instance}:${r.token}`));
      await this.actOn(atStart.filter((r) => still.has(`${r.instance}:${r.token}`)));
    }
    await this.idle();
  }

  /** Resolves when nothing is being rebuilt right now. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), this.checkIntervalMs);
    this.timer.unref();
    this.index.onReady(() => void this.check());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.idle();
  }

  /**
   * Finds boards whose index is not trusted (Redis flushed or restarted, or a set evicted under
   * its surviving epoch), a names hash not filled since it was lost, and boards a dead instance
   * may have left stale, and rebuilds them.
   */
  async check(): Promise<void> {
    if (this.stopped || !this.index.connected) return;
    try {
      if (this.heartbeat) {
        const rows = await listPending(this.sql);
        if (rows.length > 0) {
          const alive = await this.heartbeat.alive(rows.map((r) => r.instance));
          await this.actOn(rows.filter((r) => !alive.has(r.instance) || r.ageMs > this.staleMs));
        }
      }
      const boards = await this.served.list(this.sql);
      // One script call per board (auto-pipelined per node; boards live in different cluster slots).
      const trusted = await Promise.all(boards.map((b) => this.index.trusted(b)));
      trusted.forEach((ok, i) => {
        if (!ok) this.request(boards[i]!);
      });
      // The names hash lost (evicted, flushed) and begun again by live writes lacks most names:
      // a rebuild of `global`, which holds every user, writes them all.
      if (!(await this.index.namesFilled())) this.request(GLOBAL_BOARD);
      if (this.pending.size > 0) this.kick();
    } catch (err) {
      this.log.warn({ err }, 'rank index check failed; will retry');
    }
  }

  /**
   * Pending records nobody will clear by applying them: their boards may be behind PostgreSQL, so
   * they are invalidated and rebuilt (the rebuild clears them); records naming only boards the
   * index no longer serves (past periods) are dropped.
   */
  private async actOn(rows: readonly PendingRow[]): Promise<void> {
    if (rows.length === 0) return;
    const boards = new Set<string>();
    const dead: PendingRow[] = [];
    for (const r of rows) {
      const live = r.boards.filter((b) => this.isLive(b));
      if (live.length === 0) dead.push(r);
      for (const b of live) boards.add(b);
    }
    await dropPending(this.sql, dead);
    if (boards.size === 0) return;
    this.log.warn({ records: rows.length, instances: [...new Set(rows.map((r) => r.instance))], boards: [...boards] }, 'index updates left pending; rebuilding their boards');
    this.markDirty([...boards]);
  }

  private kick(): void {
    if (this.draining || this.stopped || !this.index.connected) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    const failed = new Map<string, boolean>();
    while (this.pending.size > 0 && !this.stopped) {
      const [board, invalidate] = this.pending.entries().next().value as [string, boolean];
      this.pending.delete(board);
      this.rebuilding = board;
      try {
        if (invalidate) {
          await this.index.invalidate(board);
          this.dirty.delete(board); // every instance now reads it from PostgreSQL until rebuilt
        }
        const result = await rebuildBoard(this.index, this.sql, board, this.heartbeat?.instanceId, this.events.progress);
        if (result.status === 'rebuilt') {
          this.log.info({ board, rows: result.rows, ms: Math.round(result.ms), epoch: result.epoch, retries: result.retries }, 'rank index rebuilt');
          this.events.rebuilt?.(result);
        } else if (result.status !== 'unknown') {
          // Busy: another instance holds the board's rebuild lock (its snapshot may predate what
          // we know is missing, or it may have died holding it: the lock then expires). Expired:
          // ours ran past its mark. Either way, try again on the next check.
          failed.set(board, invalidate);
        }
      } catch (err) {
        this.log.warn({ err, board }, 'rank index rebuild failed; will retry');
        failed.set(board, invalidate || (failed.get(board) ?? false));
      } finally {
        this.rebuilding = undefined;
      }
    }
    for (const [board, invalidate] of failed) this.pending.set(board, invalidate || (this.pending.get(board) ?? false));
  }
}
