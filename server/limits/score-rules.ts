/**
 * Score sanity per game mode: optional caps per submission and per user per minute, declared in
 * SCORE_LIMITS as JSON, e.g. {"ranked": {"max_per_submit": 5000, "max_per_minute": 20000}}.
 */
import { z } from 'zod';
import { GAME_MODE_PATTERN, MAX_SCORE } from '../../protocol/index.ts';

const rule = z
  .object({
    max_per_submit: z.number().int().min(0).max(MAX_SCORE).optional(),
    max_per_minute: z.number().int().min(0).optional(),
  })
  .strict();

export const scoreRulesSchema = z.record(z.string().regex(GAME_MODE_PATTERN, 'keys must be game modes'), rule);
export type ScoreRules = z.output<typeof scoreRulesSchema>;
export type ScoreRule = z.output<typeof rule>;

/** A reason the score is refused outright, or undefined. (The per-minute cap needs the shared counter.) */
export function checkSubmitCap(rules: ScoreRules, gameMode: string, score: number): string | undefined {
  const max = rules[gameMode]?.max_per_submit;
  if (max !== undefined && score > max) return `score ${score} exceeds the maximum of ${max} per submission for game mode "${gameMode}"`;
  return undefined;
}
