/**
 * The pino logger: JSON lines, or pino-pretty in development. Tokens never reach a log line: the
 * server never logs URLs or headers, and the redact list covers where one could still appear.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const redact = {
  paths: ['token', 'authorization', 'headers.authorization', 'req.headers.authorization'],
  censor: '[redacted]',
};

export function createLogger(level: string, pretty = false): Logger {
  if (pretty) {
    try {
      return pino({ level, redact, transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l' } } });
    } catch (err) {
      // pino-pretty is a dev dependency: a production install without it still logs, as JSON.
      const log = pino({ level, redact });
      log.warn({ err: (err as Error).message }, 'pino-pretty unavailable; logging JSON');
      return log;
    }
  }
  return pino({ level, base: { pid: process.pid }, redact });
}
