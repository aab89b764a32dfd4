/**
 * Per-board settings from the file named by BOARDS_CONFIG: today, each board's write mode (sum,
 * best or latest). The file is declarative: a board it does not list keeps the sum. It is
 * validated whole at start-up, then made true in PostgreSQL's `boards` table, which the submit
 * function reads. A board's mode may only change while it has no players: its totals would
 * otherwise mix two meanings, so such a change stops the start with the boards it would break.
 *
 *   { "boards": [ { "board": "mode:speedrun", "write_mode": "best" },
 *                 { "board": "mode:daily-challenge", "write_mode": "latest" } ] }
 */
import { z } from 'zod';
import { FAMILY_PATTERN, DEFAULT_WRITE_MODE, WRITE_MODES, type WriteMode } from '../protocol/index.ts';
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
            write_mode: z.enum(WRITE_MODES),
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

export interface BoardConfig {
  /** Boards whose write mode is not the default. */
  readonly writeModes: ReadonlyMap<string, WriteMode>;
}

export const EMPTY_BOARD_CONFIG: BoardConfig = { writeModes: new Map() };

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
    writeModes: new Map(parsed.data.boards.filter((b) => b.write_mode !== DEFAULT_WRITE_MODE).map((b) => [b.board, b.write_mode])),
  };
}

/**
 * Makes PostgreSQL's boards match the configuration, or changes nothing and throws when a board
 * with players would change mode. Instances starting together apply it one at a time (table lock).
 */
export async function applyBoardConfig(sql: Sql, cfg: BoardConfig): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`LOCK TABLE boards IN SHARE ROW EXCLUSIVE MODE`;
    const configured = [...cfg.writeModes.keys()];
    const rows = await tx<{ board: string; write_mode: WriteMode; players: boolean }[]>`
      SELECT b.board, b.write_mode, EXISTS (SELECT 1 FROM leaderboard l WHERE l.board = b.board) AS players
      FROM boards b WHERE b.write_mode <> ${DEFAULT_WRITE_MODE} OR b.board = ANY (${configured}::text[])`;
    const wanted = (board: string) => cfg.writeModes.get(board) ?? DEFAULT_WRITE_MODE;
    const refused = rows.filter((r) => r.players && r.write_mode !== wanted(r.board));
    if (refused.length > 0) {
      throw new BoardConfigError(
        `BOARDS_CONFIG would change the write mode of boards that have players: ` +
          refused.map((r) => `${r.board} is ${r.write_mode}, configured ${wanted(r.board)}`).join('; ') +
          ' (a board keeps its mode while it has players; use a new board instead)',
      );
    }
    const reset = rows.filter((r) => !cfg.writeModes.has(r.board) && r.write_mode !== DEFAULT_WRITE_MODE).map((r) => r.board);
    if (reset.length > 0) await tx`UPDATE boards SET write_mode = ${DEFAULT_WRITE_MODE} WHERE board = ANY (${reset}::text[])`;
    if (configured.length > 0) {
      await tx`
        INSERT INTO boards (board, write_mode)
        SELECT * FROM unnest(${configured}::text[], ${configured.map(wanted)}::text[])
        ON CONFLICT (board) DO UPDATE SET write_mode = EXCLUDED.write_mode
        WHERE boards.write_mode IS DISTINCT FROM EXCLUDED.write_mode`;
    }
  });
}
