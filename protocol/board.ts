/**
 * Board identifiers. v1 knows `global` (every game mode) and `mode:<game_mode>` (that mode alone).
 */

export const GAME_MODE_PATTERN = /^[a-z0-9_-]{1,32}$/;
/** Every well-formed board id. */
export const BOARD_PATTERN = /^(global|mode:[a-z0-9_-]{1,32})$/;
export const GLOBAL_BOARD = 'global';
const MODE_PREFIX = 'mode:';

export type BoardId = string;

export function modeBoard(gameMode: string): BoardId {
  return MODE_PREFIX + gameMode;
}

/** True when `board` is a well-formed board id. */
export function isBoardId(board: string): boolean {
  return BOARD_PATTERN.test(board);
}

/** The boards one committed score of `gameMode` counts on, in the order their rows are locked. */
export function boardsForMode(gameMode: string): [BoardId, BoardId] {
  return [GLOBAL_BOARD, modeBoard(gameMode)];
}

/**
 * What a board keeps per player (a spec addition, see protocol/extensions.md): the sum of their
 * scores (v1's behaviour and the default), their best single score, or their latest one.
 */
export const WRITE_MODES = ['sum', 'best', 'latest'] as const;
export type WriteMode = (typeof WRITE_MODES)[number];
export const DEFAULT_WRITE_MODE: WriteMode = 'sum';
