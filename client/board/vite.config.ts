/**
 * Vite config of the live board: built into client/dist (hashed files under /assets/, served by
 * server/static.ts), or served by `npm run dev` with hot reload, proxying the socket and the API
 * to a server already running on PORT (default 8000).
 */
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('../../', import.meta.url));
// The dev proxy's target is a developer's setting, not the server's config: read here only.
const target = `127.0.0.1:${process.env.PORT || '8000'}`;

export default defineConfig({
  root,
  base: '/',
  // The board imports ../sdk and ../../protocol directly: no workspace packages, no copies.
  plugins: [svelte({ configFile: false })],
  clearScreen: false,
  build: {
    outDir: fileURLToPath(new URL('../dist', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
  },
  server: {
    fs: { allow: [repo] },
    proxy: {
      '/ws': { target: `ws://${target}`, ws: true },
      '/api': { target: `http://${target}` },
      '/health': { target: `http://${target}` },
    },
  },
});
