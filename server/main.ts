/**
 * The process entry: parse configuration, then run the app until a signal (lifecycle.ts); a bad
 * configuration fails fast with a clear message (exit 1).
 */
import { ConfigError, loadConfig } from './config.ts';
import { serve } from './lifecycle.ts';
import { createLogger } from './log.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  await serve(config, createLogger(config.logLevel, config.logPretty));
}

void main();
