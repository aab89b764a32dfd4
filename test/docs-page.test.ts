/**
 * GET /docs (server/docs-page.ts) on a real server over real stores: the page and every file it
 * names come from this server with the right types and caching, the page names no other origin,
 * and a headless Chromium renders the API's title from /openapi.json with no request leaving the
 * server's origin and no CSP violation or script error (a screenshot goes to test-artifacts/).
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchChromium } from './support/chromium.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_ROUTES, openApiDocument } from '../protocol/index.ts';
import type { RunningApp } from '../server/app.ts';
import { startTestApp } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

const SHOTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const TITLE = (openApiDocument().info as { title: string }).title;

let stores: FreshStores;
let app: RunningApp;
let origin: string;

beforeAll(async () => {
  stores = await freshStores();
  app = await startTestApp(stores);
  origin = `http://127.0.0.1:${app.port}`;
});
afterAll(async () => {
  await app?.close();
  await stores?.cleanup();
});

/** Every URL the page's markup loads or links to. */
function referencedUrls(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href|action|srcset|poster|data)\s*=\s*["']?([^"'\s>]+)/gi)].map((m) => m[1]!);
}

describe('GET /docs', () => {
  it('is an HTML page with a strict CSP that names only files of this origin, each served with its type', async () => {
    const res = await fetch(`${origin}${HTTP_ROUTES.docs.path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toMatch(/https?:|unsafe-inline|unsafe-eval|\*/);
    const html = await res.text();
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<\s]|<style|\son[a-z]+=/i); // nothing inline the CSP would refuse
    expect(html).not.toMatch(/https?:\/\/|\/\//); // no absolute or protocol-relative URL anywhere

    const urls = referencedUrls(html);
    expect(urls.length).toBeGreaterThanOrEqual(3);
    const types: string[] = [];
    for (const url of urls) {
      expect(url, url).toMatch(/^\/[^/]/);
      expect(new URL(url, origin).origin).toBe(origin);
      const asset = await fetch(`${origin}${url}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(asset.status, url).toBe(200);
      const type = asset.headers.get('content-type')!;
      types.push(type);
      expect(asset.headers.get('x-content-type-options')).toBe('nosniff');
      if (url.includes('/swagger-ui-')) {
        expect(asset.headers.get('cache-control'), url).toBe('public, max-age=31536000, immutable');
        if (!url.endsWith('.png')) expect(asset.headers.get('content-encoding'), url).toBe('gzip');
      }
      expect((await asset.arrayBuffer()).byteLength, url).toBeGreaterThan(0);
    }
    expect(types).toContain('text/css; charset=utf-8');
    expect(types).toContain('image/png');
    expect(types.filter((t) => t === 'text/javascript; charset=utf-8').length).toBeGreaterThanOrEqual(2);
  });

  it('answers 304 to a client that has the page, and a JSON 404 for a file it does not serve', async () => {
    const first = await fetch(`${origin}/docs`);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"/);
    const again = await fetch(`${origin}/docs`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const missing = await fetch(`${origin}/docs/swagger-ui-0.0.0/swagger-ui-bundle.js`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('renders the API in Chromium from this origin alone, with no CSP violation or script error', async () => {
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const page = await browser.newPage();
      const requests: string[] = [];
      const problems: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
      page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
      });
      page.on('console', (msg) => {
        if (msg.type() === 'error' || /Content Security Policy/i.test(msg.text())) problems.push(msg.text());
      });
      await page.goto(`${origin}/docs`);
      await page.locator('.info .title').filter({ hasText: TITLE }).waitFor({ timeout: 20_000 });
      // Every operation is listed, by its path.
      const paths = await page.locator('.opblock-summary-path').allTextContents();
      expect(paths.map((p) => p.replace(/\u200b/g, ''))).toEqual(expect.arrayContaining(['/api/leaderboard/submit', '/docs']));
      expect(requests.length).toBeGreaterThan(3);
      for (const url of requests) {
        if (!url.startsWith('data:')) expect(new URL(url).origin, url).toBe(origin);
      }
      expect(requests).toContain(`${origin}/openapi.json`);
      expect(problems).toEqual([]);
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: `${SHOTS}docs.png` });
    } finally {
      await browser?.close();
    }
  });
});
