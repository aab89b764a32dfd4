/**
 * The board picker's list: what the `boards` op returned, kept in a stable order, never losing the
 * board the viewer is on, and re-asked for when the live view suggests a new board may exist.
 */
import { FAMILY_PATTERN, GLOBAL_BOARD, parseBoard } from '../../../protocol/board.ts';

// Every ask is a PostgreSQL read per open board page: a lobby full of screens must not poll hard.
/** The list asked for again at most this often while scores keep arriving. */
export const BOARDS_REFRESH_MIN_MS = 10_000;
/** ...and at least this often when nothing happens on the viewed board. */
export const BOARDS_REFRESH_MAX_MS = 60_000;

/**
 * The tabs: board families, `global` first, then modes by name; well-formed ids only; the family of
 * `selected` (which may be a time window of it) kept even if not (yet) listed.
 */
export function boardList(listed: readonly string[], selected: string): string[] {
  const modes = new Set(listed.filter((b) => b !== GLOBAL_BOARD && FAMILY_PATTERN.test(b)));
  const family = parseBoard(selected)?.family;
  if (family !== undefined && family !== GLOBAL_BOARD) modes.add(family);
  return [GLOBAL_BOARD, ...[...modes].sort()];
}

/**
 * Whether to re-ask for the list now. A score on the viewed board may be someone's first in a new
 * mode, so activity makes the list worth refreshing sooner, but never more than once per MIN.
 */
export function boardsDue(lastAskedAt: number | undefined, now: number, sawActivity: boolean): boolean {
  if (lastAskedAt === undefined) return true;
  const age = now - lastAskedAt;
  return age >= BOARDS_REFRESH_MAX_MS || (sawActivity && age >= BOARDS_REFRESH_MIN_MS);
}
