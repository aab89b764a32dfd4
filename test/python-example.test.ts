/**
 * examples/python/leaderboard_client.py --check against a real server process: the example must
 * speak the protocol as a non-JS client does (standard MessagePack from python3-msgpack, the
 * bearer subprotocol or ?token= from python3-websockets), and its submit must be in PostgreSQL
 * exactly once after its retry. Skips itself without a python3 that has both modules.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, storeEnv, token, type ChildServer } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SCRIPT = 'examples/python/leaderboard_client.py';
const RUN_TIMEOUT_MS = 60_000;

/**
 * The first python3 that imports both modules. Debian's packages install for /usr/bin/python3, which
 * a python3 earlier on PATH (pyenv, a venv) does not see, so both are tried.
 */
function findPython(): string | undefined {
  const candidates = [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  return candidates.find((py) => spawnSync(py, ['-c', 'import msgpack, websockets'], { stdio: 'ignore' }).status === 0);
}

const PYTHON = findPython();
if (!PYTHON) {
  console.warn(
    'test/python-example.test.ts skipped: no python3 with the msgpack and websockets modules ' +
      '(apt-get install -y python3-msgpack python3-websockets; .ci/run installs them)',
  );
}

interface Run {
  code: number | string;
  output: string;
}

/** Runs the example with `args`, killed (and failed) after RUN_TIMEOUT_MS. */
async function runExample(args: string[]): Promise<Run> {
  const child = spawn(PYTHON!, [SCRIPT, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(timer);
  return { code: code ?? signal ?? 'unknown', output };
}

describe.skipIf(!PYTHON)('the Python example client', () => {
  let stores: FreshStores;
  let server: ChildServer;
  let url: string;

  beforeAll(async () => {
    stores = await freshStores();
    server = await spawnServer(storeEnv(stores));
    url = `ws://127.0.0.1:${server.port}/ws`;
  });

  afterAll(async () => {
    if (server) {
      server.process.kill('SIGTERM');
      await server.exited;
    }
    await stores?.cleanup();
  });

  async function sessionsOf(submissionId: string) {
    const sql = postgres(stores.databaseUrl, { max: 1, onnotice: () => undefined });
    try {
      const rows = await sql`
        SELECT user_id::text AS user_id, score::int, game_mode FROM game_sessions
        WHERE submission_id = ${submissionId}`;
      return rows.map((r) => ({ ...r }));
    } finally {
      await sql.end({ timeout: 5 });
    }
  }

  it('passes its --check scenario with a server token in Sec-WebSocket-Protocol', async () => {
    const submissionId = `py-${randomBytes(6).toString('hex')}`;
    const run = await runExample([
      '--check', '--url', url, '--token', token('server'), '--user-id', '4242',
      '--score', '1500', '--game-mode', 'python-ci', '--submission-id', submissionId,
    ]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('duplicate True');
    expect(run.output).toMatch(/diff seq \d+/);
    // Submitted once, retried once: one session.
    expect(await sessionsOf(submissionId)).toEqual([{ user_id: '4242', score: 1500, game_mode: 'python-ci' }]);
  }, RUN_TIMEOUT_MS + 10_000);

  it('passes with a player token sent as ?token=', async () => {
    const submissionId = `py-${randomBytes(6).toString('hex')}`;
    const run = await runExample([
      '--check', '--url', url, '--token', token('player', '77'), '--token-in', 'query', '--user-id', '77',
      '--score', '30', '--game-mode', 'python-ci-q', '--submission-id', submissionId,
    ]);
    expect(run.code, run.output).toBe(0);
    expect(await sessionsOf(submissionId)).toEqual([{ user_id: '77', score: 30, game_mode: 'python-ci-q' }]);
  }, RUN_TIMEOUT_MS + 10_000);
});
