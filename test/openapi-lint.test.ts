/**
 * Keeps the OpenAPI document (protocol/openapi.ts) clean under Redocly's recommended rules,
 * warnings included (redocly.yaml), by running `npm run lint:openapi` as CI would; and checks
 * that the same configuration does fail a document that breaks them, so a pass means something.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../protocol/index.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const run = promisify(execFile);
const QUIET = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' };
const dir = mkdtempSync(join(tmpdir(), 'openapi-lint-test-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Lints `doc` with the project's configuration; never throws on a failing lint. */
async function lint(doc: object): Promise<{ code: number; output: string }> {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@redocly/cli/package.json');
  const bin = join(dirname(pkg), (require(pkg) as { bin: Record<string, string> }).bin.redocly!);
  const file = join(dir, `doc-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(doc));
  try {
    const r = await run(process.execPath, [bin, 'lint', file, '--config', join(ROOT, 'redocly.yaml'), '--format', 'stylish'], { env: QUIET, timeout: 50_000 });
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('OpenAPI lint (Redocly recommended-strict)', () => {
  it('npm run lint:openapi passes with no error and no warning', async () => {
    const r = await run('npm', ['run', '--silent', 'lint:openapi'], { cwd: ROOT, env: QUIET, timeout: 50_000 });
    const output = r.stdout + r.stderr;
    expect(output).toContain('Your API description is valid');
    // A problem is a stylish line "  12:3  warning  rule-id  message" (the CLI's own Node 20 notice is not one).
    expect(output).not.toMatch(/^\s+\d+:\d+\s+(error|warning)\s/m);
  });

  it('fails a document with no servers, an operation without security or a 4XX reply', async () => {
    const doc = openApiDocument() as { servers?: unknown; paths: Record<string, Record<string, Record<string, unknown>>> };
    delete doc.servers;
    const health = doc.paths['/health']!.get!;
    delete health.security;
    health.responses = { 200: (health.responses as Record<string, unknown>)[200] };
    const r = await lint(doc);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('no-empty-servers');
    expect(r.output).toContain('security-defined');
    expect(r.output).toContain('operation-4xx-response');
    expect(r.output).toMatch(/^\s+\d+:\d+\s+error\s+no-empty-servers/m);
  });
});
