/**
 * Admission of a submit before it commits: its game mode (game-modes.ts), its score caps
 * (score-rules.ts) and, shared by every instance through Redis in one round trip, the per-user
 * token bucket and the per-minute budgets of its mode and of all modes together. The clock is
 * Redis's, so instances with skewed clocks agree.
 *
 * Charging. Admission reserves: one script takes the bucket's token and adds the score to the
 * per-minute counters atomically, before the commit, so concurrent submits on any number of
 * instances cannot all pass on the same budget. (Checking without charging and charging after
 * the commit was rejected for that reason: a burst of concurrent submits would all see a full
 * bucket, and a flood would only be limited as fast as commits finish.) Once the submit has
 * settled, what it did not use is given back: a duplicate, a username conflict, a failure or an
 * unknown outcome refunds its token and its score; only a committed submit keeps its charge, and
 * a submit refused here is charged nothing. An unknown outcome that did commit after all (its
 * answer was lost) is therefore not counted in the budgets: the rare price of never charging a
 * client for the server's failure. A retry of a committed submit is answered `duplicate` whatever
 * the limits now say: leaderboard.ts looks its submission_id up when admission refuses it. (A
 * retry racing its own original, still uncommitted, can meet the refusal; the next retry then
 * answers `duplicate`.)
 *
 * The bucket applies to player tokens; trusted `server` and `admin` tokens (a game server sending
 * several events for one player) skip it unless SUBMIT_RATE_APPLIES_TO=all. Score caps apply to
 * every caller.
 *
 * Redis unreachable: with LIMITS_WHEN_REDIS_DOWN=open (the default) submits that need the shared
 * limits are let through without them (a store outage must not stop scores being recorded); with
 * `closed` they are refused `unavailable`. Either is counted in a metric and logged.
 */
import type { SubmitRequest } from '../../protocol/index.ts';
import { isTrusted, type Principal } from '../auth/policy.ts';
import { defineScripts, type RedisClient } from '../store/redis.ts';
import { submitLimitKeys, type SubmitLimitKeys } from '../rank-index/keys.ts';
import { AppError, unavailable } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ModeGate, SubmitOutcome } from './game-modes.ts';
import { ALL_MODES, checkSubmitCap, modeRule, resolveScoreRules, type ScoreLimits, type ScoreRules } from './score-rules.ts';

/**
 * KEYS: bucket (hash t, ts), the mode's minute (hash m, used), all modes' minute (hash m, used)
 * ARGV: rate per second (0 = no bucket), burst, score, max per minute of the mode, of all modes (-1 = none)
 * Returns {1, minute} when admitted and charged, {0, retry_after_ms, 'rate'}, or
 * {0, retry_after_ms, 'minute', used, 1 (the mode's cap) | 2 (all modes' cap)}.
 */
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, burst, score = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local maxes = {tonumber(ARGV[4]), tonumber(ARGV[5])}
local minute = math.floor(now / 60000)
local tokens = 0
if rate > 0 then
  local b = redis.call('HMGET', KEYS[1], 't', 'ts')
  tokens = tonumber(b[1]) or burst
  local ts = tonumber(b[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - ts) / 1000 * rate)
  if tokens < 1 then return {0, math.ceil((1 - tokens) / rate * 1000), 'rate'} end
end
local used = {0, 0}
for i = 1, 2 do
  if maxes[i] >= 0 then
    local m = redis.call('HMGET', KEYS[i + 1], 'm', 'used')
    if tonumber(m[1]) == minute then used[i] = tonumber(m[2]) end
    if used[i] + score > maxes[i] then return {0, (minute + 1) * 60000 - now, 'minute', used[i], i} end
  end
end
for i = 1, 2 do
  if maxes[i] >= 0 then
    redis.call('HSET', KEYS[i + 1], 'm', minute, 'used', used[i] + score)
    redis.call('PEXPIRE', KEYS[i + 1], 120000)
  end
end
if rate > 0 then
  redis.call('HSET', KEYS[1], 't', tostring(tokens - 1), 'ts', now)
  redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
end
return {1, minute}
`;

/**
 * Gives back what ADMIT charged. KEYS as ADMIT's.
 * ARGV: rate (0 = no token was taken), burst, score, the minute charged, mode charged, all modes charged (1 or 0)
 * A counter of a later minute has nothing of this submit in it and is left alone.
 */
const REFUND = `
local rate, burst, score, minute = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if rate > 0 then
  local b = redis.call('HMGET', KEYS[1], 't', 'ts')
  local tokens = tonumber(b[1])
  if tokens then
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    local ts = tonumber(b[2]) or now
    tokens = math.min(burst, tokens + math.max(0, now - ts) / 1000 * rate + 1)
    redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', now)
  end
end
for i = 1, 2 do
  if ARGV[4 + i] == '1' then
    local m = redis.call('HMGET', KEYS[i + 1], 'm', 'used')
    if tonumber(m[1]) == minute then redis.call('HSET', KEYS[i + 1], 'used', math.max(0, tonumber(m[2]) - score)) end
  end
end
return 1
`;

export interface SubmitGuardOptions {
  ratePerUser: number;
  burstPerUser: number;
  scoreRules: ScoreRules;
  /** Whose submits the per-user bucket limits: player tokens only, or every token. */
  rateAppliesTo: 'players' | 'all';
  /** While Redis cannot be reached: let submits through without the shared limits, or refuse them. */
  whenRedisDown: 'open' | 'closed';
}

export interface SubmitGuardHooks {
  /** A submit let through without the shared limits (Redis did not answer). */
  unenforced(): void;
  /** A submit refused because Redis did not answer and the policy is `closed`. */
  refusedRedisDown(): void;
}

/** Called once the submit has settled, with what became of it: keeps or gives back its charge. */
export type Admitted = (outcome: SubmitOutcome) => Promise<void>;

type AdmitReply = [1, number] | [0, number, 'rate'] | [0, number, 'minute', number, 1 | 2];
/** What ADMIT charged, as REFUND takes it back (the caps: 1 when charged). */
type Charge = [rate: number, burst: number, score: number, minute: number, modeCharged: 0 | 1, allCharged: 0 | 1];

/** ADMIT and REFUND as commands (see index/commands.ts); max -1 is no cap. */
interface SubmitScripts {
  lbAdmitSubmit(bucket: string, modeMinute: string, allMinute: string, rate: number, burst: number, score: number, modeMax: number, allMax: number): Promise<AdmitReply>;
  lbRefundSubmit(bucket: string, modeMinute: string, allMinute: string, ...charge: Charge): Promise<number>;
}

/** One warning per this long about Redis not answering. */
const WARN_EVERY_MS = 5000;

export class SubmitGuard {
  private readonly limits: ScoreLimits;
  private readonly redis: RedisClient & SubmitScripts;
  private lastWarn = 0;

  constructor(
    redis: RedisClient,
    private readonly prefix: string,
    private readonly opts: SubmitGuardOptions,
    private readonly log: Logger,
    private readonly hooks: SubmitGuardHooks,
    private readonly modes?: ModeGate,
  ) {
    this.limits = resolveScoreRules(opts.scoreRules);
    this.redis = defineScripts<SubmitScripts>(redis, {
      lbAdmitSubmit: { numberOfKeys: 3, lua: ADMIT },
      lbRefundSubmit: { numberOfKeys: 3, lua: REFUND },
    });
  }

  /**
   * Throws `bad_request` for a mode or score the rules refuse, `rate_limited` for a user over its
   * rate, `unavailable` when the limits cannot be checked and must be; else charges the submit.
   */
  async admit(req: Pick<SubmitRequest, 'user_id' | 'game_mode' | 'score'>, principal: Principal): Promise<Admitted> {
    const { user_id: userId, game_mode: gameMode, score } = req;
    const cap = checkSubmitCap(this.limits, gameMode, score);
    if (cap) {
      this.log.warn({ user: userId, gameMode, score }, `score refused: ${cap}`);
      throw new AppError('bad_request', cap);
    }
    const settleMode = (await this.modes?.admit(gameMode)) ?? (() => undefined);
    const rate = this.opts.rateAppliesTo === 'all' || !isTrusted(principal) ? this.opts.ratePerUser : 0;
    const modeMax = modeRule(this.limits, gameMode)?.max_per_minute;
    const allMax = this.limits.global?.max_per_minute;
    const keep: Admitted = async (outcome) => settleMode(outcome);
    if (rate <= 0 && modeMax === undefined && allMax === undefined) return keep;

    const keys = submitLimitKeys(this.prefix, userId, gameMode);
    let reply: AdmitReply;
    try {
      reply = await this.redis.lbAdmitSubmit(keys.bucket, keys.modeMinute, keys.allMinute, rate, this.opts.burstPerUser, score, modeMax ?? -1, allMax ?? -1);
    } catch (err) {
      settleMode('not_committed');
      if (this.opts.whenRedisDown === 'closed') {
        this.hooks.refusedRedisDown();
        this.warnRedisDown(err, 'submits refused: Redis unavailable and LIMITS_WHEN_REDIS_DOWN=closed');
        throw unavailable('the submit limits cannot be checked while Redis is unreachable (LIMITS_WHEN_REDIS_DOWN=closed); retry later', err);
      }
      this.hooks.unenforced();
      this.warnRedisDown(err, 'submit limits not enforced: Redis unavailable');
      return keep;
    }
    if (reply[0] === 1) {
      const minute = reply[1];
      const charged: Charge = [rate, this.opts.burstPerUser, score, minute, modeMax === undefined ? 0 : 1, allMax === undefined ? 0 : 1];
      return async (outcome) => {
        settleMode(outcome);
        if (outcome !== 'committed') await this.refund(keys, charged);
      };
    }
    settleMode('not_committed');
    if (reply[2] === 'rate') {
      throw new AppError('rate_limited', `too many submits for user ${userId}; retry later`, { retryAfterMs: reply[1] });
    }
    const [, , , used, which] = reply;
    const message =
      which === 1
        ? `score ${score} would bring user ${userId} to ${used + score} this minute in game mode "${gameMode}", over its maximum of ${modeMax} per minute`
        : `score ${score} would bring user ${userId} to ${used + score} this minute across all game modes, over the maximum of ${allMax} per minute (the "${ALL_MODES}" rule of SCORE_LIMITS)`;
    this.log.warn({ user: userId, gameMode, score }, `score refused: ${message}`);
    throw new AppError('bad_request', message);
  }

  /** Gives a settled submit's charge back; a refund Redis does not take is logged (the budget then errs strict). */
  private async refund(keys: SubmitLimitKeys, charged: Charge): Promise<void> {
    try {
      await this.redis.lbRefundSubmit(keys.bucket, keys.modeMinute, keys.allMinute, ...charged);
    } catch (err) {
      this.warnRedisDown(err, 'submit limits: could not give back the charge of a submit that did not commit');
    }
  }

  private warnRedisDown(err: unknown, message: string): void {
    if (Date.now() - this.lastWarn > WARN_EVERY_MS) {
      this.lastWarn = Date.now();
      this.log.warn({ err: (err as Error).message }, message);
    }
  }
}
