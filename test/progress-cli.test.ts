/**
 * Progress of the long-running tools (server/progress.ts) reaches a terminal only: `bench:seed` and
 * `reconcile` with piped output write no progress at all, on a pseudo-terminal they draw it, and
 * with CI set they do not.
 */
import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDatabase } from '../server/store/db.ts';
import { storeEnv } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Carriage returns and escape sequences: what a progress line is drawn with. */
const DRAWING = /[\r\x1b]/;
/** util-linux `script` runs a command on a pseudo-terminal. */
const SCRIPT = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

let stores: FreshStores;

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...storeEnv(stores), ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

/** The command on a pseudo-terminal (stdout and stderr both the terminal): all it printed. */
function onTerminal(args: string[], env: Record<string, string> = {}): Promise<string> {
  const command = [process.execPath, '--import', 'tsx', ...args].map((a) => `'${a}'`).join(' ');
  return new Promise((resolve, reject) => {
    execFile(
      'script',
      ['--quiet', '--return', '--command', command, '/dev/null'],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', TERM: 'xterm', ...storeEnv(stores), ...env }, timeout: 60_000 },
      (err, stdout) => (err && typeof err.code !== 'number' ? reject(err) : resolve(stdout)),
    );
  });
}

beforeAll(async () => {
  stores = await freshStores();
  await ensureDatabase(stores.databaseUrl, 5);
});
afterAll(async () => {
  await stores?.cleanup();
});

describe('piped output', () => {
  it('bench:seed writes its summary to stdout and no progress anywhere', async () => {
    const r = await run(['bench/seed.ts', '--users', '300', '--sessions', '1500', '--modes', 'a,b']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^seeded 300 users, 1500 sessions, 3 boards in [\d.]+ s\n$/);
    expect(r.stderr).not.toMatch(DRAWING);
    expect(r.stdout).not.toMatch(DRAWING);
  });

  it('reconcile writes its JSON report and no progress anywhere', async () => {
    // Nothing is indexed yet: all three boards drift, which --check only reports.
    const r = await run(['server/cli/reconcile.ts', '--check']);
    expect((JSON.parse(r.stdout) as { boards: number }).boards).toBe(3);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toMatch(DRAWING);
  });
});

describe.skipIf(!SCRIPT)('on a terminal', () => {
  it('reconcile draws the boards checked, and ends with a final line', async () => {
    const out = await onTerminal(['server/cli/reconcile.ts', '--check']);
    expect(out).toMatch(/\r\x1b\[Kreconcile --check {2}3\/3 boards {2}100% .* {2}done\r?\n/);
  });

  it('with CI set it draws nothing', async () => {
    const out = await onTerminal(['server/cli/reconcile.ts', '--check'], { CI: 'true' });
    expect(out).toContain('"boards": 3');
    expect(out).not.toContain('\x1b[K');
    expect(out).not.toContain('reconcile --check');
  });
});
