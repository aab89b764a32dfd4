/**
 * Optional New Relic APM. With NEW_RELIC_LICENSE_KEY set, the agent is loaded (before the rest of
 * the app, so it can instrument what it knows), every op runs as a named web transaction, and the
 * index hit rate and live diff latency are recorded as custom metrics. Without it, the agent is
 * never imported and nothing is written anywhere.
 */
import type { Logger } from './log.ts';

export interface Apm {
  readonly enabled: boolean;
  /** Runs `fn` as a web transaction named `/<transport>/<op>`. */
  transaction<T>(transport: string, op: string, fn: () => Promise<T>): Promise<T>;
  recordMetric(name: string, value: number): void;
}

export const noApm: Apm = {
  enabled: false,
  transaction: (_transport, _op, fn) => fn(),
  recordMetric: () => undefined,
};

interface NewRelicApi {
  startWebTransaction(url: string, handle: () => unknown): unknown;
  recordMetric(name: string, value: number): void;
}

export interface ApmOptions {
  licenseKey: string | undefined;
  appName: string;
}

/**
 * The agent reads its settings from the environment: they are set here from the parsed config
 * (the agent's log goes to stdout, never to a file in the working directory).
 */
export async function loadApm(opts: ApmOptions, log: Logger, env: Record<string, string | undefined>): Promise<Apm> {
  if (!opts.licenseKey) {
    log.info('apm: New Relic disabled (NEW_RELIC_LICENSE_KEY not set)');
    return noApm;
  }
  env.NEW_RELIC_NO_CONFIG_FILE = 'true';
  env.NEW_RELIC_APP_NAME = opts.appName;
  env.NEW_RELIC_LOG = 'stdout';
  env.NEW_RELIC_LOG_LEVEL ??= 'warn';
  const moduleName = 'newrelic'; // untyped package: imported by name, typed by NewRelicApi below
  const mod = (await import(moduleName)) as { default?: NewRelicApi } & NewRelicApi;
  const nr: NewRelicApi = mod.default ?? mod;
  log.info({ appName: opts.appName }, 'apm: New Relic agent loaded');
  return {
    enabled: true,
    transaction: (transport, op, fn) => nr.startWebTransaction(`/${transport}/${op}`, fn) as ReturnType<typeof fn>,
    recordMetric: (name, value) => nr.recordMetric(name, value),
  };
}

/** Periodically reports the index hit rate (reads served by Redis / all reads) as a custom metric. */
export function reportIndexHitRate(apm: Apm, read: () => Promise<{ redis: number; postgres: number }>, everyMs: number): () => void {
  if (!apm.enabled) return () => undefined;
  let last = { redis: 0, postgres: 0 };
  const timer = setInterval(() => {
    void read().then((now) => {
      const redis = now.redis - last.redis;
      const total = redis + now.postgres - last.postgres;
      last = now;
      if (total > 0) apm.recordMetric('Custom/Leaderboard/IndexHitRate', redis / total);
    });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
