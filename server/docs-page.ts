/**
 * GET /docs: the OpenAPI document (GET /openapi.json) as a browsable page, rendered in the browser
 * by Swagger UI from the `swagger-ui-dist` package, served by this server: nothing on the page
 * comes from another origin. The renderer's files are read from node_modules (the image installs
 * production dependencies) and gzipped on the first request, not at start-up, so a server nobody
 * reads the docs of pays nothing for them.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { HTTP_ROUTES } from '../protocol/index.ts';
import { toAppError } from './errors.ts';
import { respondError } from './http-exchange.ts';
import type { Logger } from './log.ts';
import { IMMUTABLE, REVALIDATE, contentType, fileRequest, sendFile, staticFile, type Guard, type StaticFile } from './static.ts';
import type { TemplatedApp } from './uws.ts';

const PAGE = HTTP_ROUTES.docs.path;
const require = createRequire(import.meta.url);
const RENDERER_DIR = dirname(require.resolve('swagger-ui-dist/package.json'));
const RENDERER_VERSION = (require('swagger-ui-dist/package.json') as { version: string }).version;
/** Named by the renderer's version: a URL there never changes meaning, so browsers keep it. */
const ASSETS = `${PAGE}/swagger-ui-${RENDERER_VERSION}`;
const RENDERER_FILES = ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png'];
const INIT = `${PAGE}/init.js`;

/**
 * Same-origin only, as the board's; Swagger UI's "Try it out" calls the API with fetch (connect-src
 * 'self'), its icons are data: URIs, and it sets styles through the DOM, which CSP allows. Unlike
 * the board, the page is not meant to be framed.
 */
export const DOCS_CSP =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// Not inline: the CSP allows no inline script. validatorUrl null: Swagger UI would otherwise load
// a badge from its online validator.
const INIT_JS = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({ url: ${JSON.stringify(HTTP_ROUTES.openapi.path)}, dom_id: '#swagger-ui', deepLinking: true, validatorUrl: null });
});
`;

const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Leaderboard server HTTP API</title>
<link rel="stylesheet" href="${ASSETS}/swagger-ui.css">
<link rel="icon" type="image/png" href="${ASSETS}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${ASSETS}/swagger-ui-bundle.js"></script>
<script src="${INIT}"></script>
</body>
</html>
`;

async function loadDocs(): Promise<Map<string, StaticFile>> {
  const files = new Map<string, StaticFile>();
  files.set(PAGE, await staticFile(Buffer.from(PAGE_HTML), contentType('docs.html'), REVALIDATE));
  files.set(INIT, await staticFile(Buffer.from(INIT_JS), contentType('init.js'), REVALIDATE));
  for (const name of RENDERER_FILES) {
    files.set(`${ASSETS}/${name}`, await staticFile(await readFile(join(RENDERER_DIR, name)), contentType(name), IMMUTABLE));
  }
  return files;
}

/** Mounts /docs and its files on `app`; call before the app's catch-all 404 route. */
export function mountDocs(app: TemplatedApp, log: Logger, guard: Guard): void {
  let loading: Promise<Map<string, StaticFile>> | undefined;
  const load = () =>
    (loading ??= loadDocs().catch((err: unknown) => {
      loading = undefined; // the next request tries again
      throw err;
    }));
  for (const url of [PAGE, INIT, ...RENDERER_FILES.map((name) => `${ASSETS}/${name}`)]) {
    app.get(
      url,
      guard('docs', (x, req) => {
        const want = fileRequest(req);
        void load().then(
          (files) => sendFile(x, want, files.get(url)!, DOCS_CSP),
          (err: unknown) => {
            log.error({ err, dir: RENDERER_DIR }, 'cannot read the API docs renderer');
            respondError(x, toAppError(err));
          },
        );
      }),
    );
  }
}
