/**
 * Loads uWebSockets.js's native binary directly. The package silently falls back to a slow pure-JS
 * shim when its binary does not load; a server that quietly runs at a fraction of its speed is
 * worse than one that refuses to start, so this fails loudly instead.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as UWS from 'uWebSockets.js';

const require = createRequire(import.meta.url);
const binary = join(
  dirname(require.resolve('uWebSockets.js/package.json')),
  'binaries',
  `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`,
);

let native: typeof UWS;
try {
  native = require(binary) as typeof UWS;
} catch (err) {
  throw new Error(`uWebSockets.js native binary failed to load (${binary}); refusing the slow fallback`, { cause: err });
}

export const uWS = native;
export type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, us_listen_socket, us_socket_context_t } from 'uWebSockets.js';
