/**
 * Score sanity: optional caps per submission and per user per minute, declared in SCORE_LIMITS as
 * JSON keyed by game mode, e.g. {"ranked": {"max_per_submit": 5000, "max_per_minute": 20000}}.
 * Two keys are not modes: `*` is the rule of every mode the object does not list (so inventing a
 * mode does not escape the caps), and `global` caps every submit whatever its mode, its
 * `max_per_minute` counting a user's scores across all modes together. A mode literally named
 * `global` therefore gets the `*` rule. Pure: the per-minute counters live in submit-guard.ts.
 */
import { z } from 'zod';
import { GAME_MODE_PATTERN, MAX_SCORE } from '../../protocol/index.ts';

/** The key of the rule for modes SCORE_LIMITS does not list. */
export const ANY_MODE = '*';
/** The key of the rule every submit also meets, its per-minute budget shared by all modes. */
export const ALL_MODES = 'global';

const rule = z
  .object({
    max_per_submit: z.number().int().min(0).max(MAX_SCORE).optional(),
    max_per_minute: z.number().int().min(0).optional(),
  })
  .strict();

export const scoreRulesSchema = z.record(
  z.string().refine((k) => k === ANY_MODE || GAME_MODE_PATTERN.test(k), `keys must be game modes, "${ANY_MODE}" or "${ALL_MODES}"`),
  rule,
);
export type ScoreRules = z.output<typeof scoreRulesSchema>;
export type ScoreRule = z.output<typeof rule>;

/** SCORE_LIMITS resolved for lookups (a Map: a mode named like an Object property is just a mode). */
export interface ScoreLimits {
  readonly modes: ReadonlyMap<string, ScoreRule>;
  readonly fallback: ScoreRule | undefined;
  readonly global: ScoreRule | undefined;
}

export function resolveScoreRules(rules: ScoreRules): ScoreLimits {
  const modes = new Map(Object.entries(rules).filter(([k]) => k !== ANY_MODE && k !== ALL_MODES));
  const own = (k: string) => (Object.hasOwn(rules, k) ? rules[k] : undefined);
  return { modes, fallback: own(ANY_MODE), global: own(ALL_MODES) };
}

/** The rule of one game mode: its own, else the `*` one. */
export function modeRule(limits: ScoreLimits, gameMode: string): ScoreRule | undefined {
  return limits.modes.get(gameMode) ?? limits.fallback;
}

/** A reason the score is refused outright, or undefined. (The per-minute caps need the shared counters.) */
export function checkSubmitCap(limits: ScoreLimits, gameMode: string, score: number): string | undefined {
  const max = modeRule(limits, gameMode)?.max_per_submit;
  if (max !== undefined && score > max) {
    const which = limits.modes.has(gameMode) ? '' : ` (the "${ANY_MODE}" rule of SCORE_LIMITS)`;
    return `score ${score} exceeds the maximum of ${max} per submission for game mode "${gameMode}"${which}`;
  }
  const all = limits.global?.max_per_submit;
  if (all !== undefined && score > all) {
    return `score ${score} exceeds the maximum of ${all} per submission in any game mode (the "${ALL_MODES}" rule of SCORE_LIMITS)`;
  }
  return undefined;
}
