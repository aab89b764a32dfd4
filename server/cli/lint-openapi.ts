/**
 * `npm run lint:openapi`: writes the OpenAPI document (protocol/openapi.ts, as GET /openapi.json
 * serves it) to a temporary file and lints it with Redocly CLI under redocly.yaml. Exits with the
 * linter's status, so any error or warning fails the script. A dev tool: not part of dist/.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '../../protocol/openapi.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
const cliPackage = require.resolve('@redocly/cli/package.json');
const bin = (require(cliPackage) as { bin: Record<string, string> }).bin.redocly!;

const dir = mkdtempSync(join(tmpdir(), 'openapi-lint-'));
try {
  const file = join(dir, 'openapi.json');
  writeFileSync(file, JSON.stringify(openApiDocument(), null, 2));
  const run = spawnSync(process.execPath, [join(dirname(cliPackage), bin), 'lint', file, '--config', join(ROOT, 'redocly.yaml'), '--format', 'stylish'], {
    stdio: 'inherit',
  });
  if (run.error) throw run.error;
  process.exitCode = run.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
