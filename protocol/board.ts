/**
 * Board identifiers. v1 knows `global` (every game mode) and `mode:<game_mode>` (that mode alone):
 * the board families. A spec addition (protocol/extensions.md) gives each family time windows:
 * `<family>:daily|weekly|monthly` names the current UTC day, ISO week or calendar month, and
 * `<family>:daily:2026-11-30`, `<family>:weekly:2026-W49`, `<family>:monthly:2026-11` a given one.
 * Game modes hold no ':', so every id parses one way.
 */

export const GAME_MODE_PATTERN = /^[a-z0-9_-]{1,32}$/;
/** A board family: an all-time board, which may have window boards. */
export const FAMILY_PATTERN = /^(global|mode:[a-z0-9_-]{1,32})$/;
/** The shape of every board id (isBoardId also checks that a period is a real date). */
export const BOARD_PATTERN = /^(global|mode:[a-z0-9_-]{1,32})(:(daily|weekly|monthly)(:([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-W[0-9]{2}|[0-9]{4}-[0-9]{2}))?)?$/;
export const GLOBAL_BOARD = 'global';
const MODE_PREFIX = 'mode:';

export type BoardId = string;

export function modeBoard(gameMode: string): BoardId {
  return MODE_PREFIX + gameMode;
}

/** True when `board` is a well-formed board id, naming a period that exists. */
export function isBoardId(board: string): boolean {
  return parseBoard(board) !== undefined;
}

/**
 * What a board keeps per player (a spec addition, see protocol/extensions.md): the sum of their
 * scores (v1's behaviour and the default), their best single score (the highest on a `desc`
 * board, the lowest on an `asc` one), their latest one, or their lowest or highest whatever the
 * board's order.
 */
export const WRITE_MODES = ['sum', 'best', 'latest', 'min', 'max'] as const;
export type WriteMode = (typeof WRITE_MODES)[number];
export const DEFAULT_WRITE_MODE: WriteMode = 'sum';

/** A board's order: `desc`, higher is better (v1's and the default), or `asc`, lower is better. */
export const SORT_ORDERS = ['desc', 'asc'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];
export const DEFAULT_SORT_ORDER: SortOrder = 'desc';

/**
 * How a board's scores are shown: `points` (a count), `time_ms` (milliseconds, shown as
 * 1:02.417), `distance` (in units of 10^-decimals of `unit`, shown as 12.50 km).
 */
export const SCORE_FORMATS = ['points', 'time_ms', 'distance'] as const;
export type ScoreFormat = (typeof SCORE_FORMATS)[number];

export const WINDOWS = ['daily', 'weekly', 'monthly'] as const;
export type Window = (typeof WINDOWS)[number];

export interface ParsedBoard {
  /** `global` or `mode:<game_mode>`. */
  family: string;
  window?: Window;
  /** The period's key (`2026-11-30`, `2026-W49`, `2026-11`); absent for the current one. */
  period?: string;
}

const DAY_MS = 86_400_000;

/**
 * Parsed ids, since every request parses its board several times (schema, index rule, live views):
 * bounded and emptied when full, so made-up ids cannot grow it. Entries are frozen: shared.
 */
const parsed = new Map<string, ParsedBoard | undefined>();
const PARSED_KEPT = 4096;

/** Parses a board id; undefined when it is malformed or names a period that does not exist. */
export function parseBoard(board: string): ParsedBoard | undefined {
  if (parsed.has(board)) return parsed.get(board);
  const b = parseBoardUncached(board);
  if (parsed.size >= PARSED_KEPT) parsed.clear();
  parsed.set(board, b && Object.freeze(b));
  return b;
}

function parseBoardUncached(board: string): ParsedBoard | undefined {
  const m = BOARD_PATTERN.exec(board);
  if (!m) return undefined;
  const [, family, , window, , period] = m as unknown as [string, string, string?, Window?, string?, string?];
  if (!window) return { family };
  if (period === undefined) return { family, window };
  if (periodStart(window, period) === undefined) return undefined;
  return { family, window, period };
}

/** The board's family, window and period as one id. */
export function formatBoard(b: ParsedBoard): string {
  return b.window ? `${b.family}:${b.window}${b.period ? `:${b.period}` : ''}` : b.family;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** The key of the period of `window` holding the instant `ms` (UTC; ISO weeks start on Monday). */
export function periodKey(window: Window, ms: number): string {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  if (window === 'daily') return `${y}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  if (window === 'monthly') return `${y}-${pad(d.getUTCMonth() + 1)}`;
  // ISO week: the week's Thursday decides its year.
  const day = Math.floor(ms / DAY_MS);
  const weekday = (((day + 3) % 7) + 7) % 7; // 0 = Monday (1970-01-01 was a Thursday)
  const thursday = new Date((day - weekday + 3) * DAY_MS);
  const isoYear = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(isoYear, 0, 1)) / (7 * DAY_MS));
  return `${isoYear}-W${pad(week)}`;
}

/** Start of a period in ms since the epoch, or undefined when the key names no real period. */
export function periodStart(window: Window, key: string): number | undefined {
  let start: number;
  if (window === 'daily') {
    const [y, m, d] = key.split('-').map(Number) as [number, number, number];
    start = Date.UTC(y, m - 1, d);
  } else if (window === 'monthly') {
    const [y, m] = key.split('-').map(Number) as [number, number];
    if (m < 1 || m > 12) return undefined;
    start = Date.UTC(y, m - 1, 1);
  } else {
    const [y, w] = key.split('-W').map(Number) as [number, number];
    if (w < 1) return undefined;
    const jan4 = Date.UTC(y, 0, 4);
    const jan4Weekday = (new Date(jan4).getUTCDay() + 6) % 7;
    start = jan4 - jan4Weekday * DAY_MS + (w - 1) * 7 * DAY_MS;
  }
  // Round-tripping rejects 2026-02-30, 2026-13 and week 53 of a 52-week year.
  return Number.isFinite(start) && periodKey(window, start) === key ? start : undefined;
}

/** The first instant after the period. */
export function periodEnd(window: Window, key: string): number {
  const start = periodStart(window, key)!;
  if (window === 'daily') return start + DAY_MS;
  if (window === 'weekly') return start + 7 * DAY_MS;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** The concrete board an id means at `ms`: a current-period id becomes its period's id. */
export function resolveBoard(board: string, ms: number): string {
  const b = parseBoard(board);
  if (!b?.window || b.period) return board;
  return formatBoard({ ...b, period: periodKey(b.window, ms) });
}

/** True for an id naming the current period of a window (`global:daily`), which moves with time. */
export function isCurrentPeriodAlias(board: string): boolean {
  const b = parseBoard(board);
  return b?.window !== undefined && b.period === undefined;
}

/**
 * The boards the rank index serves at `ms` when it keeps the windows `windows`: all-time boards,
 * and each kept window's current period (its id with the period, or the alias without). Boards of
 * past and future periods, and of windows not kept, are served from PostgreSQL.
 */
export function isIndexedBoard(board: string, windows: readonly Window[], ms: number): boolean {
  const b = parseBoard(board);
  if (!b?.window) return b !== undefined;
  return windows.includes(b.window) && (b.period === undefined || b.period === periodKey(b.window, ms));
}

/** The suffixes (`:daily:2026-11-30`, ...) of the periods holding `ms`, for the given windows. */
export function periodSuffixes(windows: readonly Window[], ms: number): string[] {
  return windows.map((w) => `:${w}:${periodKey(w, ms)}`);
}
