/**
 * The production build (issue 17): `npm run build:server` compiles server/ and protocol/ into
 * dist/, with sql/ and the built board beside them, and `node dist/server/main.js`, with no
 * TypeScript loader, migrates a fresh database, serves /health, the board, a submit and a top over
 * HTTP, and exits 0 on SIGTERM. It builds into the real dist/ (the script empties it first).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBoard } from '../server/cli/build-board.ts';
import { http } from './support/http.ts';
import { spawnServer, storeEnv, token } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DIST = join(ROOT, 'dist');
const run = promisify(execFile);

let stores: FreshStores;

beforeAll(async () => {
  // The board as `npm start` builds it (only when stale): a forced rebuild would replace
  // client/dist under other test files' servers. `npm run build` forces it; the rest is the same.
  [stores] = await Promise.all([freshStores(), buildBoard({ quiet: true })]);
  await run('npm', ['run', '--silent', 'build:server'], { cwd: ROOT, timeout: 50_000 });
});

afterAll(async () => {
  await stores?.cleanup();
});

/** Every file under `dir`, relative to it, with `/` separators. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1).split('\\').join('/'));
}

/** The package names the compiled code imports or requires (node: builtins left out). */
function importedPackages(files: string[]): Set<string> {
  const names = new Set<string>();
  const specifier = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire(?:\.resolve)?\s*\(\s*)['"]([^'"]+)['"]/g;
  for (const file of files) {
    for (const m of readFileSync(join(DIST, file), 'utf8').matchAll(specifier)) {
      const spec = m[1]!;
      if (spec.startsWith('.') || spec.startsWith('node:')) continue;
      const parts = spec.split('/');
      names.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
    }
  }
  return names;
}

describe('npm run build', () => {
  it('emits JavaScript for server/ and protocol/ only, with sql/ and the board, importing only production dependencies', () => {
    const files = filesUnder(DIST);
    expect(files).toContain('server/main.js');
    expect(files).toContain('server/store/migrate.js');
    expect(files).toContain('protocol/index.js');
    expect(files).toContain('sql/001_schema.sql');
    expect(files).toContain('client/dist/index.html');
    const js = files.filter((f) => f.endsWith('.js') && !f.startsWith('client/dist/'));
    expect(js.every((f) => f.startsWith('server/') || f.startsWith('protocol/')), js.join(', ')).toBe(true);
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    // Relative imports were rewritten to .js: nothing compiled still names a .ts module.
    for (const f of js) expect(readFileSync(join(DIST, f), 'utf8'), f).not.toMatch(/from\s*['"]\.{1,2}\/[^'"]*\.ts['"]|import\(\s*['"]\.{1,2}\/[^'"]*\.ts['"]/);
    // The image installs with --omit=dev: a devDependency imported here would fail only there.
    const deps = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
    const imported = [...importedPackages(js)];
    expect(imported).toContain('postgres');
    expect(imported.filter((name) => !deps.includes(name))).toEqual([]);
  });

  it('runs with plain node: fresh database migrated, /health, the board, submit and top over HTTP, SIGTERM exits 0', async () => {
    const server = await spawnServer(storeEnv(stores), 20_000, [join(DIST, 'server/main.js')]);
    try {
      expect(server.output()).toContain('"msg":"listening"');
      expect((await http(server.port, 'GET', '/health')).status).toBe(200);
      const page = await http(server.port, 'GET', '/');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);

      const auth = token('server');
      const first = await http(server.port, 'POST', '/api/leaderboard/submit', {
        token: auth,
        body: { user_id: 42, score: 1200, game_mode: 'ranked', username: 'nova', submission_id: 'build-1' },
      });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ success: true, user_id: 42, total_score: 1200, rank: 1, duplicate: false });
      const second = await http(server.port, 'POST', '/api/leaderboard/submit', {
        token: auth,
        body: { user_id: 7, score: 3000, game_mode: 'ranked', username: 'ace', submission_id: 'build-1' },
      });
      expect(second.status).toBe(200);

      const top = await http(server.port, 'GET', '/api/leaderboard/top?limit=3');
      expect(top.status).toBe(200);
      expect(top.body).toMatchObject({
        board: 'global',
        top_players: [
          { rank: 1, user_id: 7, username: 'ace', total_score: 3000 },
          { rank: 2, user_id: 42, username: 'nova', total_score: 1200 },
        ],
      });
    } finally {
      server.process.kill('SIGTERM');
    }
    expect(await server.exited).toBe(0);
  });
});
