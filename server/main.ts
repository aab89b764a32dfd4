/**
 * The process entry: parse configuration, start the app, and shut down gracefully on SIGTERM or
 * SIGINT (exit 0), or fail fast with a clear message (exit 1).
 */
import { loadApm } from './apm.ts';
import type { RunningApp } from './app.ts';
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

  // Signals are handled from the first moment: one arriving during start-up shuts down as soon
  // as the app is up, instead of killing the process halfway through.
  let app: RunningApp | undefined;
  let stopRequested: string | undefined;
  const stop = (signal: string) => {
    if (stopRequested) return;
    stopRequested = signal;
    log.info({ signal }, 'signal received');
    if (!app) return; // start-up finishes first, then closes
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    // The APM agent goes first so it can instrument the modules the app loads after it.
    const apm = await loadApm({ licenseKey: config.newRelicLicenseKey, appName: config.newRelicAppName }, log, process.env);
    const { startApp } = await import('./app.ts');
    app = await startApp(config, log, apm);
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'start-up failed');
    process.exit(1);
  }
  if (stopRequested) {
    const signal = stopRequested;
    stopRequested = undefined;
    stop(signal);
  }
}

void main();
