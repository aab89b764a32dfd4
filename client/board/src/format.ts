/**
 * How the board writes numbers, times and board names. One formatter per kind, built once: the
 * Intl constructors are slow and the board formats hundreds of numbers per second at a busy tick.
 * `locale` undefined means the viewer's own locale (thousands separators as they expect them).
 */
import { GLOBAL_BOARD, parseBoard, type Window } from '../../../protocol/board.ts';
import { DEFAULT_DISPLAY, formatFixed, formatTimeMs } from '../../../protocol/score-format.ts';
import type { ScoreDisplay } from '../../../protocol/types.ts';

export interface Formatters {
  int(n: number): string;
  /** A score change, always signed: "+1,200", "-300". */
  delta(n: number): string;
  /** A percentile 0..100 with at most 2 decimals. */
  percentile(p: number): string;
  time(ms: number): string;
  /** A total as its board shows it (`display` from `boards`): "1,200", "1:02.417", "12.50 km". */
  score(n: number): string;
  /** A change of total, signed, in the board's format: "+1,200", "-0.512". */
  scoreDelta(n: number): string;
}

/** Formatters for a board whose scores are shown as `display` (points when unknown). */
export function formatters(locale?: string, display: ScoreDisplay = DEFAULT_DISPLAY): Formatters {
  const int = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const delta = new Intl.NumberFormat(locale, { maximumFractionDigits: 0, signDisplay: 'always' });
  const pct = new Intl.NumberFormat(locale, { minimumFractionDigits: 0, maximumFractionDigits: 2 });
  const time = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const unit = display.unit ? ` ${display.unit}` : '';
  const plainPoints = display.format !== 'time_ms' && display.decimals === 0;
  const score = (n: number): string =>
    (display.format === 'time_ms' ? formatTimeMs(n) : plainPoints ? int.format(n) : formatFixed(n, display.decimals)) + unit;
  return {
    int: (n) => int.format(n),
    delta: (n) => delta.format(n),
    score,
    // Whole numbers take the locale's signed format; times and decimals a sign before the value.
    scoreDelta: (n) => (plainPoints ? delta.format(n) + unit : (n < 0 ? '-' : '+') + score(Math.abs(n))),
    percentile: (p) => pct.format(p),
    time: (ms) => time.format(ms),
  };
}

/** The periods the board offers, all-time first. */
export const WINDOW_CHOICES: readonly { window: Window | undefined; label: string }[] = [
  { window: undefined, label: 'All time' },
  { window: 'daily', label: 'Today' },
  { window: 'weekly', label: 'This week' },
  { window: 'monthly', label: 'This month' },
];

/**
 * "global" → "Global", "mode:battle_royale" → "Battle royale", "mode:ranked:weekly" → "Ranked ·
 * this week", "global:daily:2026-11-30" → "Global · 2026-11-30".
 */
export function boardLabel(board: string): string {
  const parsed = parseBoard(board);
  const family = parsed?.family ?? board;
  let label: string;
  if (family === GLOBAL_BOARD) label = 'Global';
  else {
    const mode = family.startsWith('mode:') ? family.slice(5) : family;
    const words = mode.replace(/[_-]+/g, ' ').trim();
    label = words ? words[0]!.toUpperCase() + words.slice(1) : board;
  }
  if (!parsed?.window) return label;
  if (parsed.period) return `${label} · ${parsed.period}`;
  return `${label} · ${WINDOW_CHOICES.find((c) => c.window === parsed.window)!.label.toLowerCase()}`;
}
