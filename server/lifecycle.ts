/**
 * Running the app as a process: signals are handled from the first moment (one arriving during
 * start-up shuts down as soon as the app is up, instead of killing the process halfway through),
 * SIGTERM or SIGINT close it gracefully (exit 0), a failed start or shutdown exits 1. Used by the
 * server's entry (main.ts) and by the demo (cli/demo.ts), which adds its own steps around it.
 */
import { loadApm } from './apm.ts';
import type { RunningApp } from './app.ts';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import { terminalProgress } from './progress.ts';
import { systemClock } from './clock.ts';

export interface ServeHooks {
  /** Runs once the app is up (not when a signal came during start-up). */
  started?: (app: RunningApp) => Promise<void> | void;
  /** Runs before the app closes, on a signal. */
  stopping?: () => Promise<void> | void;
}

export async function serve(config: Config, log: Logger, hooks: ServeHooks = {}): Promise<void> {
  let app: RunningApp | undefined;
  let stopRequested: string | undefined;
  const stop = (signal: string) => {
    if (stopRequested) return;
    stopRequested = signal;
    log.info({ signal }, 'signal received');
    if (!app) return; // start-up finishes first, then closes
    const running = app;
    (async () => {
      await hooks.stopping?.();
      await running.close();
    })().then(
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
    app = await startApp(config, log, apm, systemClock, terminalProgress(process.stderr, process.env));
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'start-up failed');
    process.exit(1);
  }
  if (stopRequested) {
    const signal = stopRequested;
    stopRequested = undefined;
    stop(signal);
    return;
  }
  await hooks.started?.(app);
}
