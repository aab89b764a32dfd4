/**
 * Progress of long work (bench runs, seeding, reconcile, index rebuilds) as one line updated in
 * place: label, done/total, percent, rate, elapsed time and ETA, redrawn at most ten times a second
 * and ended with a final line. It is drawn only on a terminal outside CI: piped output, files and
 * CI logs get nothing at all. The formatting is pure; `terminalProgress` is the one place that writes.
 */

export interface ProgressSnapshot {
  label: string;
  done: number;
  /** Unknown totals show a count without percent or ETA. */
  total?: number;
  /** What is counted ("rows", "boards"), printed after the counts. */
  unit?: string;
  elapsedMs: number;
}

/** 1234567 -> "1,234,567" (not toLocaleString: the line must not depend on the machine's locale). */
export function formatCount(n: number): string {
  return String(Math.floor(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A rate per second, short: "0.4/min" under one a second, then "12/s", "12.3k/s", "4.5M/s". */
export function formatRate(perSec: number): string {
  if (!Number.isFinite(perSec) || perSec <= 0) return '0/s';
  if (perSec < 1) return `${trim(perSec * 60)}/min`;
  if (perSec < 1000) return `${trim(perSec)}/s`;
  if (perSec < 1_000_000) return `${trim(perSec / 1000)}k/s`;
  return `${trim(perSec / 1_000_000)}M/s`;
}

/** Three significant figures at most, no trailing zeros: 12.345 -> "12.3", 950 -> "950", 2 -> "2". */
function trim(x: number): string {
  return x >= 100 ? String(Math.round(x)) : String(Number(x.toFixed(x >= 10 ? 1 : 2)));
}

/** "42s", "3m05s", "1h02m". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Time left at the rate so far; undefined without a total or before anything is done. */
export function etaMs(done: number, total: number | undefined, elapsedMs: number): number | undefined {
  if (total === undefined || done <= 0 || elapsedMs <= 0) return undefined;
  return (Math.max(0, total - done) * elapsedMs) / done;
}

/**
 * The line for a snapshot: `rebuild global  120,000/1,000,000 rows  12%  45.1k/s  2s  ETA 19s`;
 * the final one ends with its outcome (`done`, `failed`) instead of the ETA.
 */
export function formatProgress(s: ProgressSnapshot, outcome?: string): string {
  const unit = s.unit ? ` ${s.unit}` : '';
  const parts = [s.label];
  if (s.total === undefined) {
    parts.push(`${formatCount(s.done)}${unit}`);
  } else {
    parts.push(`${formatCount(s.done)}/${formatCount(s.total)}${unit}`);
    const ratio = s.total > 0 ? s.done / s.total : 1;
    parts.push(`${Math.min(100, Math.floor(ratio * 100))}%`);
  }
  if (s.elapsedMs > 0 && s.done > 0) parts.push(formatRate(s.done / (s.elapsedMs / 1000)));
  parts.push(formatDuration(s.elapsedMs));
  if (outcome !== undefined) {
    parts.push(outcome);
  } else {
    const eta = etaMs(s.done, s.total, s.elapsedMs);
    if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`);
  }
  return parts.join('  ');
}

/** Cuts a line to the terminal's width: a line that wraps can no longer be redrawn in place. */
export function fitWidth(line: string, columns: number | undefined): string {
  if (!columns || columns < 2 || line.length < columns) return line;
  return `${line.slice(0, columns - 2)}…`;
}

/** Says when a redraw is due: the first call, then once per `intervalMs` at most. */
export class Throttle {
  private last = -Infinity;
  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  due(): boolean {
    const t = this.now();
    if (t - this.last < this.intervalMs) return false;
    this.last = t;
    return true;
  }
}

/** The part of a stream progress needs (process.stderr; a fake in tests). */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): unknown;
}

/** A terminal outside CI. `CI` counts as set unless empty, `0` or `false` (as CI services set it). */
export function progressEnabled(stream: ProgressStream, env: Readonly<Record<string, string | undefined>>): boolean {
  const ci = env.CI?.trim().toLowerCase();
  return stream.isTTY === true && (ci === undefined || ci === '' || ci === '0' || ci === 'false');
}

/** One task's line. */
export interface Progress {
  /** Sets how much is done (and the total, when it changes); redraws when the throttle allows. */
  update(done: number, total?: number): void;
  /** Runs `write` (other output to the same terminal) with the line cleared first and redrawn after. */
  aside(write: () => void): void;
  /** Draws the final line (once), ending with `outcome`; the line then ignores updates. */
  finish(outcome?: string): void;
}

/** Where progress lines go. One line at a time: start the next after finishing the last. */
export interface ProgressOutput {
  /** False when nothing would be drawn: callers skip work done only for progress (counting a total). */
  readonly enabled: boolean;
  start(label: string, total?: number, unit?: string): Progress;
}

const SILENT_LINE: Progress = {
  update: () => undefined,
  aside: (write) => write(),
  finish: () => undefined,
};

/** Draws nothing. */
export const NO_PROGRESS: ProgressOutput = { enabled: false, start: () => SILENT_LINE };

export interface TerminalOptions {
  now?: () => number;
  /** Least time between redraws. */
  intervalMs?: number;
  /** Redraws this often while nothing is updated, so elapsed time and ETA keep moving; 0: never. */
  tickMs?: number;
}

const CLEAR_LINE = '\r\x1b[K';

/** Progress lines on `stream` (normally process.stderr) when it is a terminal outside CI; otherwise NO_PROGRESS. */
export function terminalProgress(stream: ProgressStream, env: Readonly<Record<string, string | undefined>>, opts: TerminalOptions = {}): ProgressOutput {
  if (!progressEnabled(stream, env)) return NO_PROGRESS;
  const now = opts.now ?? (() => performance.now());
  const intervalMs = opts.intervalMs ?? 100;
  const tickMs = opts.tickMs ?? 1000;
  return {
    enabled: true,
    start(label, total, unit) {
      const started = now();
      const throttle = new Throttle(intervalMs, now);
      let done = 0;
      let shown = false;
      let finished = false;
      const snapshot = (): ProgressSnapshot => ({ label, done, total, unit, elapsedMs: now() - started });
      const draw = (outcome?: string) => {
        stream.write(`${CLEAR_LINE}${fitWidth(formatProgress(snapshot(), outcome), stream.columns)}${outcome === undefined ? '' : '\n'}`);
        shown = outcome === undefined;
      };
      const ticker = tickMs > 0 ? setInterval(() => throttle.due() && draw(), tickMs) : undefined;
      ticker?.unref();
      if (throttle.due()) draw();
      return {
        update(d, t) {
          if (finished) return;
          done = d;
          if (t !== undefined) total = t;
          if (throttle.due()) draw();
        },
        aside(write) {
          if (shown) stream.write(CLEAR_LINE);
          write();
          if (shown) draw();
        },
        finish(outcome = 'done') {
          if (finished) return;
          finished = true;
          clearInterval(ticker);
          draw(outcome);
        },
      };
    },
  };
}
