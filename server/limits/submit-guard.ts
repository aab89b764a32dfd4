/**
 * Admission of a submit before it commits, shared by every instance through Redis in one round
 * trip: a per-user token bucket, and the per-minute score cap of the game mode if one is set. The
 * clock is Redis's, so instances with skewed clocks agree. When Redis is unreachable the guard
 * lets submits through (a store outage must not stop scores being recorded) and says so in a metric.
 */
import type { RedisClient } from '../store/redis.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { checkSubmitCap, type ScoreRules } from './score-rules.ts';

/**
 * KEYS: bucket (hash t, ts), minute (hash m, used)
 * ARGV: rate per second (0 = no bucket), burst, score, max per minute (-1 = none)
 * Returns {1} when admitted, {0, retry_after_ms, 'rate'} or {0, retry_after_ms, 'minute', used}.
 */
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, burst, score, maxm = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local tokens = 0
if rate > 0 then
  local b = redis.call('HMGET', KEYS[1], 't', 'ts')
  tokens = tonumber(b[1]) or burst
  local ts = tonumber(b[2]) or now
  tokens = math.min(burst, tokens + (now - ts) / 1000 * rate)
  if tokens < 1 then return {0, math.ceil((1 - tokens) / rate * 1000), 'rate'} end
end
if maxm >= 0 then
  local minute = math.floor(now / 60000)
  local m = redis.call('HMGET', KEYS[2], 'm', 'used')
  local used = 0
  if tonumber(m[1]) == minute then used = tonumber(m[2]) end
  if used + score > maxm then return {0, (minute + 1) * 60000 - now, 'minute', used} end
  redis.call('HSET', KEYS[2], 'm', minute, 'used', used + score)
  redis.call('PEXPIRE', KEYS[2], 120000)
end
if rate > 0 then
  redis.call('HSET', KEYS[1], 't', tostring(tokens - 1), 'ts', now)
  redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
end
return {1}
`;

export interface SubmitGuardOptions {
  ratePerUser: number;
  burstPerUser: number;
  scoreRules: ScoreRules;
}

type AdmitReply = [1] | [0, number, 'rate'] | [0, number, 'minute', number];

export class SubmitGuard {
  private lastWarn = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly opts: SubmitGuardOptions,
    private readonly log: Logger,
    private readonly onUnenforced: () => void,
  ) {
    redis.defineCommand('lbAdmitSubmit', { numberOfKeys: 2, lua: ADMIT });
  }

  /** Throws `bad_request` for a score over its mode's caps, `rate_limited` for a user over its rate. */
  async admit(userId: number, gameMode: string, score: number): Promise<void> {
    const cap = checkSubmitCap(this.opts.scoreRules, gameMode, score);
    if (cap) {
      this.log.warn({ user: userId, gameMode, score }, `score refused: ${cap}`);
      throw new AppError('bad_request', cap);
    }
    const perMinute = this.opts.scoreRules[gameMode]?.max_per_minute;
    if (this.opts.ratePerUser <= 0 && perMinute === undefined) return;
    let reply: AdmitReply;
    try {
      const base = `${this.prefix}:{u:${userId}}:`;
      reply = await (this.redis as unknown as { lbAdmitSubmit(...a: (string | number)[]): Promise<AdmitReply> }).lbAdmitSubmit(
        base + 'bucket',
        base + `minute:${gameMode}`,
        this.opts.ratePerUser,
        this.opts.burstPerUser,
        score,
        perMinute ?? -1,
      );
    } catch (err) {
      this.onUnenforced();
      if (Date.now() - this.lastWarn > 5000) {
        this.lastWarn = Date.now();
        this.log.warn({ err: (err as Error).message }, 'submit limits not enforced: Redis unavailable');
      }
      return;
    }
    if (reply[0] === 1) return;
    if (reply[2] === 'rate') {
      throw new AppError('rate_limited', `too many submits for user ${userId}; retry later`, { retryAfterMs: reply[1] });
    }
    const message = `score ${score} would bring user ${userId} to ${reply[3] + score} this minute in game mode "${gameMode}", over its maximum of ${perMinute} per minute`;
    this.log.warn({ user: userId, gameMode, score }, `score refused: ${message}`);
    throw new AppError('bad_request', message);
  }
}
