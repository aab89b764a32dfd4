/**
 * zod schemas for the individual fields of the contract, shared by WebSocket frames and HTTP bodies.
 */
import { z } from 'zod';
import { BOARD_PATTERN, GAME_MODE_PATTERN, GLOBAL_BOARD, isBoardId } from './board.ts';
import {
  MAX_RID,
  MAX_SCORE,
  MAX_SUBMISSION_ID_CODE_POINTS,
  MAX_USER_ID,
  MAX_USERNAME_CODE_POINTS,
} from './limits.ts';
import { usernameProblem } from './names.ts';

/** An integer in [min, max]. MessagePack integers of any width arrive as numbers (or BigInt when unsafe, which fails here). */
export const intIn = (min: number, max: number) =>
  z.number().int().min(min, { message: `must be >= ${min}` }).max(max, { message: `must be <= ${max}` });

export const rid = intIn(0, MAX_RID);
export const userId = intIn(1, MAX_USER_ID);
export const score = intIn(0, MAX_SCORE);
export const gameMode = z.string().regex(GAME_MODE_PATTERN, { message: 'must match ^[a-z0-9_-]{1,32}$' });

const USERNAME_PATTERN = new RegExp(`^[^\\p{Cc}]{1,${MAX_USERNAME_CODE_POINTS}}$`, 'u');
/**
 * Text that can be stored as it was sent: well-formed Unicode (no lone surrogate, which would be
 * stored as U+FFFD) and no NUL (which PostgreSQL text cannot hold).
 */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u; // with the u flag, only unpaired halves match
const storableText = () =>
  z
    .string()
    .refine((s) => !LONE_SURROGATE.test(s), { message: 'must be well-formed Unicode (no lone surrogates)' })
    .refine((s) => !s.includes('\u0000'), { message: 'must not contain NUL' });

const storableName = () =>
  storableText().regex(USERNAME_PATTERN, {
    message: `must be 1..${MAX_USERNAME_CODE_POINTS} code points with no control characters`,
  });

/**
 * A name to take (submit): also no blank name, no whitespace at either end, no invisible
 * characters (protocol/names.ts). Uniqueness is on its key, checked by the store.
 */
export const username = storableName().superRefine((name, ctx) => {
  const problem = usernameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * A name to look a user up by (`rank`): any name that could ever have been stored, so names taken
 * before the rules of `username` stay findable.
 */
export const usernameLookup = storableName();

const SUBMISSION_ID_PATTERN = new RegExp(`^[\\s\\S]{1,${MAX_SUBMISSION_ID_CODE_POINTS}}$`, 'u');
export const submissionId = storableText().regex(SUBMISSION_ID_PATTERN, {
  message: `must be 1..${MAX_SUBMISSION_ID_CODE_POINTS} code points`,
});

/** A board total: a sum of scores, so it may pass MAX_SCORE (never 2^53). */
export const total = intIn(0, Number.MAX_SAFE_INTEGER);

/**
 * A position in a board's listing order (total descending, then user id ascending): the sort key
 * of a row, which `page` pages after. It holds the total rather than the rank, because a rank
 * shifts under everyone else's writes while a row's key only moves when that user scores.
 */
export const pageCursor = z.object({ total_score: total, user_id: userId });

export const board = z
  .string()
  .regex(BOARD_PATTERN, {
    message: 'must be "global" or "mode:<game_mode>", optionally followed by ":daily", ":weekly" or ":monthly" and a period',
  })
  .refine(isBoardId, { message: 'names a period that does not exist' })
  .default(GLOBAL_BOARD);
