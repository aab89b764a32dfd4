/**
 * Servers under test: in-process apps (fast, inspectable) and real child processes (for SIGKILL,
 * SIGTERM and several instances), always on port 0 so nothing depends on a fixed port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { startApp, type RunningApp } from '../../server/app.ts';
import type { Clock } from '../../server/clock.ts';
import { signToken, type Role } from '../../server/auth/jwt.ts';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import { Connection, type WebSocketCtor } from '../../client/sdk/connection.ts';
import type { FreshStores } from './stores.ts';

export const TEST_SECRET = 'test-secret-0123456789abcdef-0123456789';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function storeEnv(stores: FreshStores, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: stores.databaseUrl,
    REDIS_URL: stores.redisUrl,
    REDIS_PREFIX: stores.redisPrefix,
    JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Load-shaped tests would trip the abuse limits; test/limits.test.ts sets them explicitly.
    SUBMIT_RATE_PER_USER: '0',
    WS_RATE_PER_SOCKET: '0',
    UPGRADE_RATE_PER_IP: '0',
    HTTP_RATE_PER_IP: '0',
    ...extra,
  };
}

export async function startTestApp(stores: FreshStores, extra: Record<string, string> = {}, clock?: Clock): Promise<RunningApp> {
  const config = loadConfig(storeEnv(stores, extra));
  const app = await startApp(config, createLogger(config.logLevel), undefined, clock);
  await app.indexReady;
  return app;
}

/** A token of `role`; player tokens must expire, so they get an hour from now. */
export function token(role: Role, sub?: string, secret = TEST_SECRET): string {
  const iat = Math.floor(Date.now() / 1000);
  return signToken({ sub: sub ?? role, role, ...(role === 'player' ? { iat, exp: iat + 3600 } : {}) }, secret);
}

export function connectWs(port: number, tokenValue?: string): Promise<Connection> {
  return Connection.open(`ws://127.0.0.1:${port}/ws`, {
    token: tokenValue,
    WebSocket: WebSocket as unknown as WebSocketCtor,
    timeoutMs: 15_000,
  });
}

export interface ChildServer {
  port: number;
  process: ChildProcess;
  /** Everything the child wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/** How `npm start` runs the server: from source, through tsx. */
export const SOURCE_ENTRY: readonly string[] = ['--import', 'tsx', 'server/main.ts'];

/**
 * Starts the server as a real process and waits for it to listen: `server/main.ts` through tsx
 * unless `nodeArgs` says otherwise (test/build.test.ts runs the compiled `dist/server/main.js`).
 */
export async function spawnServer(env: Record<string, string>, timeoutMs = 20_000, nodeArgs = SOURCE_ENTRY): Promise<ChildServer> {
  const child = spawn(process.execPath, nodeArgs, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, LOG_LEVEL: env.LOG_LEVEL === 'silent' ? 'info' : (env.LOG_LEVEL ?? 'info') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // never leave an orphan behind a failed start
      reject(new Error(`server did not listen within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = () => {
      const m = /"port":(\d+),"msg":"listening"/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${out}`));
    });
  });
  return { port, process: child, output: () => out, exited };
}

/** Waits until `cond` holds, polling; fails with `what` after `timeoutMs`. */
export async function eventually(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
