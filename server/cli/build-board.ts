/**
 * Builds the live board (client/board) into client/dist with Vite, when the build is missing or
 * older than any of its sources; otherwise does nothing. `npm start` runs it before the server;
 * `npm run build:board` runs it with --force. Importable: the browser test builds through it.
 *
 * The build goes to a fresh directory that replaces client/dist only once complete, so a server
 * starting meanwhile reads either the old build or the new one, never half of one.
 */
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BOARD_OUT = join(ROOT, 'client/dist');
const CONFIG = join(ROOT, 'client/board/vite.config.ts');
/** Everything the bundle is made of; package-lock.json stands for the versions of svelte and vite. */
const SOURCES = ['client/board', 'client/sdk', 'protocol', 'package-lock.json'].map((p) => join(ROOT, p));

/** The newest modification time of any file under `paths` (0 if none exists). */
export function newestMtime(paths: readonly string[]): number {
  let newest = 0;
  const visit = (path: string): void => {
    if (!existsSync(path)) return;
    const st = statSync(path);
    if (st.isDirectory()) {
      // dist: the SDK package's build output (npm run build:sdk) is not a source of the board.
      for (const name of readdirSync(path)) if (name !== 'node_modules' && name !== 'dist') visit(join(path, name));
    } else {
      newest = Math.max(newest, st.mtimeMs);
    }
  };
  paths.forEach(visit);
  return newest;
}

/** True when client/dist has no index.html or is older than some source file. */
export function boardIsStale(out = BOARD_OUT): boolean {
  const index = join(out, 'index.html');
  if (!existsSync(index)) return true;
  return statSync(index).mtimeMs < newestMtime(SOURCES);
}

/** Builds when stale (or when `force`); says which it did. */
export async function buildBoard(opts: { force?: boolean; quiet?: boolean } = {}): Promise<'built' | 'fresh'> {
  if (!opts.force && !boardIsStale()) return 'fresh';
  // Loaded only when needed: a fresh build starts the server without loading Vite at all.
  const { build } = await import('vite');
  // Under node_modules/.cache: ignored by git, and on the same file system as client/dist.
  const tmp = join(ROOT, 'node_modules/.cache', `board-build-${process.pid}`);
  try {
    await build({ configFile: CONFIG, logLevel: opts.quiet ? 'warn' : 'info', build: { outDir: tmp } });
    rmSync(BOARD_OUT, { recursive: true, force: true });
    try {
      renameSync(tmp, BOARD_OUT);
    } catch (err) {
      // Another build finished first and took the place: its output is as good as ours.
      if (!existsSync(join(BOARD_OUT, 'index.html'))) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return 'built';
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { force: { type: 'boolean', default: false } } });
  buildBoard({ force: values.force }).then(
    (result) => {
      process.stdout.write(result === 'fresh' ? 'live board is up to date (client/dist)\n' : 'live board built into client/dist\n');
    },
    (err: unknown) => {
      process.stderr.write(`building the live board failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
