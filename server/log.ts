/** The pino logger. Tokens never reach a log line: the redact list covers where they could appear. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { pid: process.pid },
    redact: { paths: ['token', 'authorization', 'headers.authorization', 'req.headers.authorization'], censor: '[redacted]' },
  });
}
