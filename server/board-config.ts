/**
 * Per-board settings from the file named by BOARDS_CONFIG: each board family's kind (README,
 * "Board kinds"): its sort order (`desc`, higher is better, the default; `asc`, lower is better),
 * its write mode (sum, best, latest, min, max) and how its scores are shown. The file is
 * declarative: a board it does not list is a `desc` sum of points. It is validated whole at
 * start-up, then made true in PostgreSQL's `boards` table, which the submit function reads. A
 * board's order and mode may only change while it has no players: its totals would otherwise mix
 * two meanings, so such a change stops the start with the boards it would break. Its display may
 * change at any time (it changes no stored value).
 *
 *   { "boards": [ { "board": "mode:speedrun", "sort_order": "asc", "write_mode": "best",
 *                   "display": { "format": "time_ms" } },
 *                 { "board": "mode:daily-challenge", "write_mode": "latest" } ] }
 */
import { z } from 'zod';
import {
  DEFAULT_DISPLAY,
  DEFAULT_SORT_ORDER,
  DEFAULT_WRITE_MODE,
  FAMILY_PATTERN,
  SCORE_FORMATS,
  SORT_ORDERS,
  WRITE_MODES,
  type ScoreDisplay,
  type SortOrder,
  type WriteMode,
} from '../protocol/index.ts';
import type { Sql } from './store/db.ts';

const MAX_CONFIGURED_BOARDS = 10_000;

const fileSchema = z
  .object({
    boards: z
      .array(
        z
          .object({
            // A family: its window boards follow its mode.
            board: z.string().regex(FAMILY_PATTERN, { message: 'must be "global" or "mode:<game_mode>"' }),
            write_mode: z.enum(WRITE_MODES).default(DEFAULT_WRITE_MODE),
            sort_order: z.enum(SORT_ORDERS).default(DEFAULT_SORT_ORDER),
            display: z
              .object({
                format: z.enum(SCORE_FORMATS),
                unit: z.string().max(16).regex(/^[^\p{Cc}]*$/u, { message: 'must hold no control character' }).default(''),
                decimals: z.number().int().min(0).max(6).default(0),
              })
              .strict()
              .optional(),
          })
          .strict(),
      )
      .max(MAX_CONFIGURED_BOARDS),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.boards.forEach((b, i) => {
      if (seen.has(b.board)) ctx.addIssue({ code: 'custom', path: ['boards', i, 'board'], message: `"${b.board}" is listed twice` });
      seen.add(b.board);
    });
  });

/** What kind of board a family is; its window boards are of the same kind. */
export interface BoardKind {
  readonly sortOrder: SortOrder;
  readonly writeMode: WriteMode;
  readonly display: ScoreDisplay;
}

export const DEFAULT_KIND: BoardKind = Object.freeze({ sortOrder: DEFAULT_SORT_ORDER, writeMode: DEFAULT_WRITE_MODE, display: DEFAULT_DISPLAY });

export interface BoardConfig {
  /** The families listed in the file, each with its kind (a listed board is created at start-up). */
  readonly kinds: ReadonlyMap<string, BoardKind>;
}

export const EMPTY_BOARD_CONFIG: BoardConfig = { kinds: new Map() };

export class BoardConfigError extends Error {}

/** Parses the file's text; every problem is reported at once, with its path in the file. */
export function parseBoardConfig(text: string, source = 'BOARDS_CONFIG'): BoardConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BoardConfigError(`${source}: not valid JSON: ${(err as Error).message}`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new BoardConfigError(`${source}: ${problems.join('; ')}`);
  }
  return {
    kinds: new Map(
      parsed.data.boards.map((b) => [
        b.board,
        Object.freeze({ sortOrder: b.sort_order, writeMode: b.write_mode, display: Object.freeze({ ...DEFAULT_DISPLAY, ...b.display }) }),
      ]),
    ),
  };
}

/**
 * Makes PostgreSQL's boards match the configuration, or changes nothing and throws when a board
 * with players would change order or mode. Instances starting together apply it one at a time
 * (table lock). Every listed board is created, so it is listed before its first score.
 */
export async function applyBoardConfig(sql: Sql, cfg: BoardConfig): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`LOCK TABLE boards IN SHARE ROW EXCLUSIVE MODE`;
    const configured = [...cfg.kinds.keys()];
    const rows = await tx<{ board: string; write_mode: WriteMode; sort_order: SortOrder; players: boolean }[]>`
      SELECT b.board, b.write_mode, b.sort_order, EXISTS (SELECT 1 FROM leaderboard l WHERE l.board = b.board) AS players
      FROM boards b
      WHERE b.write_mode <> ${DEFAULT_WRITE_MODE} OR b.sort_order <> ${DEFAULT_SORT_ORDER} OR b.board = ANY (${configured}::text[])`;
    const wanted = (board: string) => cfg.kinds.get(board) ?? DEFAULT_KIND;
    const changes = (r: (typeof rows)[number]) => r.write_mode !== wanted(r.board).writeMode || r.sort_order !== wanted(r.board).sortOrder;
    const refused = rows.filter((r) => r.players && changes(r));
    if (refused.length > 0) {
      const kind = (order: SortOrder, mode: WriteMode) => `${order} ${mode}`;
      throw new BoardConfigError(
        `BOARDS_CONFIG would change boards that have players: ` +
          refused.map((r) => `${r.board} is ${kind(r.sort_order, r.write_mode)}, configured ${kind(wanted(r.board).sortOrder, wanted(r.board).writeMode)}`).join('; ') +
          ' (a board keeps its sort order and write mode while it has players; use a new board instead)',
      );
    }
    const reset = rows.filter((r) => !cfg.kinds.has(r.board) && changes(r)).map((r) => r.board);
    if (reset.length > 0) {
      await tx`UPDATE boards SET write_mode = ${DEFAULT_WRITE_MODE}, sort_order = ${DEFAULT_SORT_ORDER} WHERE board = ANY (${reset}::text[])`;
    }
    if (configured.length > 0) {
      await tx`
        INSERT INTO boards (board, write_mode, sort_order)
        SELECT * FROM unnest(${configured}::text[], ${configured.map((b) => wanted(b).writeMode)}::text[], ${configured.map((b) => wanted(b).sortOrder)}::text[])
        ON CONFLICT (board) DO UPDATE SET write_mode = EXCLUDED.write_mode, sort_order = EXCLUDED.sort_order
        WHERE (boards.write_mode, boards.sort_order) IS DISTINCT FROM (EXCLUDED.write_mode, EXCLUDED.sort_order)`;
    }
  });
}
