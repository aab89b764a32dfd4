/**
 * Serves the built live board (client/dist) on the uWS app: `/` and `/index.html`, the hashed
 * files under `/assets/`, and any other top-level file of the build. Every file is read (and
 * gzipped when that helps) once at start-up, so a request never touches the disk and no request
 * path ever becomes a file path.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip, gzipSync } from 'node:zlib';
import { AppError } from './errors.ts';
import { respondError, writeResponse, type Exchange } from './http-exchange.ts';
import type { Logger } from './log.ts';
import type { HttpRequest, HttpResponse, TemplatedApp } from './uws.ts';

/** Where `npm run build:board` (server/cli/build-board.ts) writes the board. */
export const BOARD_DIST = fileURLToPath(new URL('../client/dist', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
};

/** Vite names everything under assets/ by content hash: a URL there never changes meaning. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Anything else (index.html above all) names the current hashes: revalidate every time. */
export const REVALIDATE = 'no-cache';

/**
 * The page may only load from its own origin; `ws:`/`wss:` of the same host is 'self' in CSP 3.
 * No frame-ancestors: the board is meant to be embedded in stream overlays.
 */
const CSP = "default-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'";

export interface StaticFile {
  body: Buffer;
  /** Present when gzip makes the file meaningfully smaller. */
  gzip: Buffer | undefined;
  type: string;
  cacheControl: string;
  etag: string;
}

export function contentType(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

function compressible(type: string): boolean {
  return /^(text\/|application\/(json|manifest)|image\/svg)/.test(type);
}

function staticEntry(body: Buffer, packed: Buffer | undefined, type: string, cacheControl: string): StaticFile {
  return {
    body,
    gzip: packed && packed.length < body.length * 0.9 ? packed : undefined,
    type,
    cacheControl,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
  };
}

const gzipAsync = promisify(gzip);

/** A file made after start-up (the API docs' renderer): gzipped off the event loop. */
export async function staticFile(body: Buffer, type: string, cacheControl: string): Promise<StaticFile> {
  const packed = compressible(type) && body.length > 1024 ? await gzipAsync(body, { level: 9 }) : undefined;
  return staticEntry(body, packed, type, cacheControl);
}

/** Reads every file under `dir`, keyed by its URL path ("/index.html", "/assets/index-abc.js"). */
export function loadStatic(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const rel of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const full = join(dir, rel);
    if (!statSync(full).isFile()) continue;
    const url = '/' + rel.split(sep).join('/');
    const body = readFileSync(full);
    const type = contentType(rel);
    const packed = compressible(type) && body.length > 1024 ? gzipSync(body, { level: 9 }) : undefined;
    files.set(url, staticEntry(body, packed, type, url.startsWith('/assets/') ? IMMUTABLE : REVALIDATE));
  }
  return files;
}

function notFound(x: Exchange, message: string): void {
  respondError(x, new AppError('not_found', message));
}

/** What a file's reply depends on in the request, copied out of it before any await. */
export interface FileRequest {
  ifNoneMatch: string;
  acceptEncoding: string;
}

export function fileRequest(req: HttpRequest): FileRequest {
  return { ifNoneMatch: req.getHeader('if-none-match'), acceptEncoding: req.getHeader('accept-encoding') };
}

function send(x: Exchange, req: HttpRequest, file: StaticFile): void {
  sendFile(x, fileRequest(req), file);
}

/** Answers with `file` (304 when the client has it); an HTML page gets `csp`, the board's by default. */
export function sendFile(x: Exchange, want: FileRequest, file: StaticFile, csp = CSP): void {
  const notModified = want.ifNoneMatch === file.etag;
  const gzip = file.gzip && /\bgzip\b/.test(want.acceptEncoding) ? file.gzip : undefined;
  const headers: Record<string, string> = {
    'cache-control': file.cacheControl,
    etag: file.etag,
    'x-content-type-options': 'nosniff',
  };
  if (file.gzip) headers.vary = 'accept-encoding';
  if (notModified) {
    writeResponse(x, { status: 304, headers }, undefined);
    return;
  }
  headers['content-type'] = file.type;
  if (file.type.startsWith('text/html')) headers['content-security-policy'] = csp;
  if (gzip) headers['content-encoding'] = 'gzip';
  // Written with backpressure (see http-exchange.ts): a reader that does not keep up holds the
  // server to this one file, never to a queue of copies.
  writeResponse(x, { status: 200, headers }, gzip ?? file.body);
}

/** Wraps a route handler with the HTTP edge's rate limit and error guard (HttpEdge.guarded). */
export type Guard = (route: string, fn: (x: Exchange, req: HttpRequest) => void) => (res: HttpResponse, req: HttpRequest) => void;

/**
 * Mounts the board's files on `app`; call before the app's catch-all 404 route. Returns how many
 * files are served (0 when the board is not built: `/` then answers 404 saying so).
 */
export function mountStatic(app: TemplatedApp, dir: string, log: Logger, guard: Guard): number {
  let files = new Map<string, StaticFile>();
  try {
    if (existsSync(join(dir, 'index.html'))) files = loadStatic(dir);
  } catch (err) {
    // A build replacing the directory right now, say: the server is still worth starting.
    log.warn({ err, dir }, 'cannot read the live board build');
  }
  const index = files.get('/index.html');
  if (!index) {
    log.warn({ dir }, 'live board is not built (run npm run build:board); / will answer 404');
    app.get('/', guard('static', (x) => notFound(x, 'the live board is not built: run npm run build:board')));
    return 0;
  }
  app.get('/', guard('static', (x, req) => send(x, req, index)));
  for (const [url, file] of files) {
    if (!url.startsWith('/assets/')) app.get(url, guard('static', (x, req) => send(x, req, file)));
  }
  app.get(
    '/assets/*',
    guard('static', (x, req) => {
      const url = req.getUrl();
      const file = files.get(url);
      if (file) send(x, req, file);
      else notFound(x, `no such asset: ${url.slice(0, 256)}`);
    }),
  );
  log.info({ dir, files: files.size }, 'serving the live board at /');
  return files.size;
}
