/**
 * Closes each time-window period once it has ended (server/store/window-close.ts): at start-up the
 * periods that ended while no instance ran, then, every few seconds, the periods this instance
 * has seen current once the clock has passed their end by `graceMs` (the submits taken in them
 * have had their deadline by then; one that has not is still exact, see window-close.ts). Every
 * instance does it; closing is idempotent.
 */
import { periodEnd, periodKey, type Window } from '../protocol/index.ts';
import type { Clock } from './clock.ts';
import type { Logger } from './log.ts';
import type { Sql } from './store/db.ts';
import { closePeriod, openPeriods, type Period } from './store/window-close.ts';

export interface WindowCloserDeps {
  sql: Sql;
  clock: Clock;
  log: Logger;
  /** The windows this instance's submits count in. */
  windows: readonly Window[];
  graceMs: number;
  intervalMs?: number;
}

export class WindowCloser {
  private readonly open = new Map<string, Period>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private loaded = false;

  constructor(private readonly d: WindowCloserDeps) {}

  /** Checks now and every `intervalMs`; resolves after the first check. */
  start(): Promise<void> {
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.check());
    }, this.d.intervalMs ?? 5000);
    this.timer.unref();
    this.running = this.check();
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Closes what is due; a failure is logged and retried at the next check. */
  async check(): Promise<void> {
    if (!this.loaded) {
      // The periods with boards that no close has written out, ended ones included.
      try {
        for (const p of await openPeriods(this.d.sql)) this.note(p);
        this.loaded = true;
      } catch (err) {
        this.d.log.warn({ err }, 'could not list the open periods; retrying');
        return;
      }
    }
    const now = this.d.clock.now();
    for (const window of this.d.windows) this.note({ window, period: periodKey(window, now) });
    for (const [key, p] of this.open) {
      if (periodEnd(p.window, p.period) + this.d.graceMs > now) continue;
      try {
        const rows = await closePeriod(this.d.sql, p);
        this.open.delete(key);
        this.d.log.info({ window: p.window, period: p.period, rows }, 'period closed');
      } catch (err) {
        this.d.log.warn({ err, window: p.window, period: p.period }, 'closing a period failed; retrying');
        return;
      }
    }
  }

  private note(p: Period): void {
    this.open.set(`${p.window}:${p.period}`, p);
  }
}
