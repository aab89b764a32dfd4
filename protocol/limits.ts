/** Fixed numeric bounds of the v1 contract. */

/** A message whose payload exceeds this closes the socket with 1009. */
export const MAX_FRAME_BYTES = 4096;
export const MAX_SCORE = 1_000_000_000;
export const MAX_USER_ID = Number.MAX_SAFE_INTEGER; // 2^53 - 1
export const MAX_RID = 0xffff_ffff;
export const MAX_USERNAME_CODE_POINTS = 32;
export const MAX_SUBMISSION_ID_CODE_POINTS = 64;

export const TOP_LIMIT = { min: 1, max: 100, default: 10 } as const;
export const AROUND_RADIUS = { min: 0, max: 50, default: 5 } as const;
export const HISTORY_LIMIT = { min: 1, max: 100, default: 20 } as const;
export const SUBSCRIBE_LIMIT = { min: 1, max: 100, default: 10 } as const;

// Additions to v1 (protocol/extensions.md).
/** How many user ids one `ranks` request may list. */
export const RANKS_USER_IDS = { min: 1, max: 100 } as const;
/** Page sizes of `page`: the same bounds and default as `top`. */
export const PAGE_LIMIT = TOP_LIMIT;

/**
 * While the rank index cannot give a submit's rank (Redis away, the board rebuilding), PostgreSQL
 * counts at most this many players ahead of it: a submit never costs work that grows with the
 * number of players. Past it the reply's rank is this plus one, with `rank_exact: false`.
 */
export const SUBMIT_RANK_COUNT_CAP = 100;
