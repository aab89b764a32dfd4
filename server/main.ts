/**
 * The process entry: parse configuration, start the app, and shut down gracefully on SIGTERM or
 * SIGINT (exit 0), or fail fast with a clear message (exit 1).
 */
import { loadApm } from './apm.ts';
import { ConfigError, loadConfig } from './config.ts';
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
  const log = createLogger(config.logLevel, config.logPretty);
  let app;
  try {
    // The APM agent goes first so it can instrument the modules the app loads after it.
    const apm = await loadApm({ licenseKey: config.newRelicLicenseKey, appName: config.newRelicAppName }, log, process.env);
    const { startApp } = await import('./app.ts');
    app = await startApp(config, log, apm);
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'start-up failed');
    process.exit(1);
  }
  const stop = (signal: string) => {
    log.info({ signal }, 'signal received');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

void main();
