/**
 * A score as a board shows it (its `display`, protocol/types.ts ScoreDisplay): the live board and
 * any client format with this, so a time reads the same everywhere. Pure; no locale beyond the
 * digit grouping of points.
 */
import type { ScoreDisplay } from './types.ts';

export const DEFAULT_DISPLAY: ScoreDisplay = Object.freeze({ format: 'points', unit: '', decimals: 0 });

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** 62417 as `time_ms` is `1:02.417`; 3723004 is `1:02:03.004`; under a minute, `9.050`. */
export function formatTimeMs(ms: number): string {
  const whole = Math.max(0, Math.trunc(ms));
  const milli = whole % 1000;
  const s = Math.floor(whole / 1000) % 60;
  const m = Math.floor(whole / 60_000) % 60;
  const h = Math.floor(whole / 3_600_000);
  if (h > 0) return `${h}:${pad(m, 2)}:${pad(s, 2)}.${pad(milli, 3)}`;
  if (m > 0) return `${m}:${pad(s, 2)}.${pad(milli, 3)}`;
  return `${s}.${pad(milli, 3)}`;
}

/** `value` in units of 10^-decimals, with exactly `decimals` digits after the point: 1250, 2 is `12.50`. */
export function formatFixed(value: number, decimals: number, group = true): string {
  const negative = value < 0;
  const digits = String(Math.abs(Math.trunc(value))).padStart(decimals + 1, '0');
  const int = digits.slice(0, digits.length - decimals);
  const frac = decimals > 0 ? `.${digits.slice(digits.length - decimals)}` : '';
  const grouped = group ? int.replace(/\B(?=(\d{3})+(?!\d))/g, ',') : int;
  return `${negative ? '-' : ''}${grouped}${frac}`;
}

/** The score as its board shows it, unit included (`1:02.417`, `12.50 km`, `1,250 pts`). */
export function formatScore(value: number, display: ScoreDisplay = DEFAULT_DISPLAY): string {
  const text = display.format === 'time_ms' ? formatTimeMs(value) : formatFixed(value, display.decimals);
  return display.unit ? `${text} ${display.unit}` : text;
}
