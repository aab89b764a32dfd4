/**
 * The pino logger: JSON lines, or pino-pretty in development. Tokens never reach a log line: the
 * server never logs URLs or headers, and the redact list covers where one could still appear.
 *
 * Warnings and errors are rate-limited per message: a failure that repeats (one warning per batch
 * while Redis is down, say) writes its first line, then at most one line per REPEAT_WINDOW_MS
 * carrying `repeated`, the number of lines left out since the last one written. Every line left
 * out is counted (logLinesSuppressed, exported as a metric).
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

const redact = {
  paths: ['token', 'authorization', 'headers.authorization', 'req.headers.authorization'],
  censor: '[redacted]',
};

export const REPEAT_WINDOW_MS = 5000;
/** Levels at and above warn (pino's numbers) are rate-limited. */
const LIMITED_FROM = 40;
/** Distinct messages remembered at once; past it the oldest windows are forgotten. */
const MAX_TRACKED = 1000;

let suppressed = 0;
/** Log lines left out by the rate limit since the process started. */
export function logLinesSuppressed(): number {
  return suppressed;
}

interface Window {
  /** When the last line of this message was written (ms, monotonic). */
  at: number;
  /** Lines of it left out since. */
  skipped: number;
}

/** The pino hook that rate-limits repeated warnings and errors (see the module header). */
export function repeatLimiter(now: () => number = () => performance.now()): NonNullable<LoggerOptions['hooks']>['logMethod'] {
  const windows = new Map<string, Window>();
  return function (this: Logger, args: Parameters<Logger['info']>, method: (...a: unknown[]) => void, level: number) {
    if (level < LIMITED_FROM) return method.apply(this, args);
    const msg = typeof args[0] === 'string' ? args[0] : typeof args[1] === 'string' ? args[1] : '';
    const key = `${level}:${msg}`;
    const t = now();
    const w = windows.get(key);
    if (w && t - w.at < REPEAT_WINDOW_MS) {
      w.skipped++;
      suppressed++;
      return;
    }
    if (!w && windows.size >= MAX_TRACKED) {
      for (const [k, old] of windows) if (t - old.at >= REPEAT_WINDOW_MS) windows.delete(k);
      if (windows.size >= MAX_TRACKED) windows.clear();
    }
    windows.set(key, { at: t, skipped: 0 });
    if (!w || w.skipped === 0) return method.apply(this, args);
    // Carry the count of what was left out on the line that is written.
    const [first, ...rest] = args as unknown[];
    const withCount = first !== null && typeof first === 'object' && !(first instanceof Error) ? [{ ...first, repeated: w.skipped }, ...rest] : [{ repeated: w.skipped }, first, ...rest];
    return method.apply(this, withCount);
  };
}

export function createLogger(level: string, pretty = false): Logger {
  const hooks = { logMethod: repeatLimiter() };
  if (pretty) {
    try {
      return pino({ level, redact, hooks, transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l' } } });
    } catch (err) {
      // pino-pretty is a dev dependency: a production install without it still logs, as JSON.
      const log = pino({ level, redact, hooks });
      log.warn({ err: (err as Error).message }, 'pino-pretty unavailable; logging JSON');
      return log;
    }
  }
  return pino({ level, base: { pid: process.pid }, redact, hooks });
}
