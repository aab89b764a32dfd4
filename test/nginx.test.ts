/**
 * The shipped deploy/nginx.conf in front of a real server: it refuses a duplicated Content-Length
 * (which uWS would accept), passes WebSocket upgrades with the token in the query or in
 * Sec-WebSocket-Protocol, and its access log holds no token. The file is used as shipped, with
 * only its addresses and log path moved into a temp dir; nginx listens on a Unix socket there (no
 * port to pick), is started by the test and stopped by its pid. Skips itself without nginx.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBPROTOCOL } from '../protocol/index.ts';
import type { RunningApp } from '../server/app.ts';
import { Connection, type WebSocketCtor } from '../client/sdk/connection.ts';
import { eventually, startTestApp, token } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const NGINX = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin']
  .filter((d) => d !== '')
  .map((d) => join(d, 'nginx'))
  .find((p) => existsSync(p));
if (!NGINX) console.warn('test/nginx.test.ts skipped: nginx is not installed (apt-get install -y nginx-light; .ci/run installs it)');

/** The shipped server block with its upstreams, listen address and log path moved; each must be found. */
function adapt(shipped: string, dir: string, appPort: number): string {
  const steps: [RegExp, string][] = [
    [/^\s*server server1:8000[^;]*;\n\s*server server2:8000[^;]*;$/m, `  server 127.0.0.1:${appPort};`],
    [/^\s*listen 80;$/m, `  listen unix:${dir}/nginx.sock;`],
    [/access_log \/var\/log\/nginx\/access\.log leaderboard;/, `access_log ${dir}/access.log leaderboard;`],
  ];
  let conf = shipped;
  for (const [from, to] of steps) {
    if (!from.test(conf)) throw new Error(`deploy/nginx.conf no longer has ${from}: update test/nginx.test.ts`);
    conf = conf.replace(from, to);
  }
  return conf;
}

/** Sends raw bytes over the socket and returns all nginx answered before closing. */
function rawRequest(sock: string, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(sock);
    let out = '';
    c.on('data', (d: Buffer) => (out += d.toString('latin1')));
    c.on('end', () => resolve(out));
    c.on('error', reject);
    c.setTimeout(5000, () => c.destroy(new Error(`no answer within 5 s; so far: ${out}`)));
    // No half-close: nginx would take it for a client that gave up. Each request asks to close.
    c.write(bytes);
  });
}

describe.skipIf(!NGINX)('deploy/nginx.conf in front of the server', () => {
  let stores: FreshStores;
  let app: RunningApp;
  let dir: string;
  let sock: string;
  let nginx: ChildProcess;
  let nginxOut = '';
  const open: Connection[] = [];

  beforeAll(async () => {
    stores = await freshStores();
    app = await startTestApp(stores, { TRUST_PROXY: 'true' });
    dir = mkdtempSync(join(tmpdir(), 'lb-nginx-'));
    chmodSync(dir, 0o755); // nginx's workers run as another user when the test runs as root
    mkdirSync(join(dir, 'tmp'));
    sock = join(dir, 'nginx.sock');
    writeFileSync(join(dir, 'leaderboard.conf'), adapt(readFileSync(join(ROOT, 'deploy/nginx.conf'), 'utf8'), dir, app.port));
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/tmp/${t};`).join('\n');
    writeFileSync(
      join(dir, 'nginx.conf'),
      `daemon off;\nworker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log info;\nevents { worker_connections 64; }\nhttp {\n${temp}\n  access_log off;\n  include ${dir}/leaderboard.conf;\n}\n`,
    );
    nginx = spawn(NGINX!, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
    nginx.stdout!.on('data', (d: Buffer) => (nginxOut += d.toString()));
    nginx.stderr!.on('data', (d: Buffer) => (nginxOut += d.toString()));
    await eventually(`nginx listening on ${sock} (${nginxOut})`, () => existsSync(sock) || nginx.exitCode !== null, 10_000);
    if (nginx.exitCode !== null) throw new Error(`nginx exited (${nginx.exitCode}): ${nginxOut}`);
  });

  afterAll(async () => {
    for (const c of open) c.close();
    if (nginx && nginx.exitCode === null) {
      const exited = once(nginx, 'exit');
      process.kill(nginx.pid!, 'SIGTERM');
      await exited;
    }
    await app?.close();
    await stores?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const accessLog = () => (existsSync(join(dir, 'access.log')) ? readFileSync(join(dir, 'access.log'), 'utf8') : '');

  it('passes a well-formed request to the server (the control)', async () => {
    const body = '{"user_id":1,"score":1,"game_mode":"ranked"}';
    const reply = await rawRequest(sock, `POST /api/leaderboard/submit HTTP/1.1\r\nHost: lb\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    expect(reply).toMatch(/^HTTP\/1\.1 401 /);
    expect(reply).toContain('"unauthorized"');
  });

  it('refuses a request with a duplicated Content-Length: nginx answers 400 itself, once, and nothing is smuggled through', async () => {
    const smuggled = 'GET /api/leaderboard/top HTTP/1.1\r\nHost: lb\r\n\r\n';
    for (const lengths of [['2', String(2 + smuggled.length)], ['2', '2'], [String(2 + smuggled.length), '2']]) {
      const reply = await rawRequest(
        sock,
        `POST /api/leaderboard/submit HTTP/1.1\r\nHost: lb\r\nConnection: close\r\nContent-Type: application/json\r\n${lengths.map((l) => `Content-Length: ${l}\r\n`).join('')}\r\n{}${smuggled}`,
      );
      expect(reply, `Content-Length: ${lengths.join(', ')}`).toMatch(/^HTTP\/1\.1 400 /);
      expect(reply).toMatch(/^Server: nginx/m);
      expect(reply).not.toContain('"unauthorized"'); // the server's own answer would be 401 JSON
      expect(reply.match(/^HTTP\/1\.1 /gm)).toHaveLength(1);
    }
  });

  it('passes WebSocket upgrades with the token in the query and in Sec-WebSocket-Protocol; the access log has no token', async () => {
    const viaQuery = token('player', '77');
    const viaProtocol = token('server', 'gs-behind-nginx');
    const Ctor = WebSocket as unknown as WebSocketCtor;
    const url = `ws+unix:${sock}:/ws`;
    const q = await Connection.open(url, { token: viaQuery, tokenIn: 'query', WebSocket: Ctor });
    open.push(q);
    expect(await q.request('submit', { user_id: 77, score: 5, game_mode: 'ranked' })).toMatchObject({ user_id: 77, total_score: 5 });
    const p = await Connection.open(url, { token: viaProtocol, WebSocket: Ctor });
    open.push(p);
    expect(await p.request('submit', { user_id: 78, score: 6, game_mode: 'ranked' })).toMatchObject({ user_id: 78, total_score: 6 });
    // The subprotocol answer crosses nginx unchanged: leaderboard.v1, never the token.
    const raw = new WebSocket(url, [SUBPROTOCOL, `bearer.${viaProtocol}`]);
    // ws emits upgrade and open in one turn: listen for both before awaiting either.
    const [[res]] = (await Promise.all([once(raw, 'upgrade'), once(raw, 'open')])) as [[{ headers: Record<string, string> }], unknown];
    expect(res.headers['sec-websocket-protocol']).toBe(SUBPROTOCOL);
    raw.close();
    q.close();
    p.close();
    // nginx writes a WebSocket's line when the connection ends.
    await eventually('the three /ws lines in the access log', () => (accessLog().match(/"GET \/ws HTTP\/1\.1" 101 /g) ?? []).length >= 3);
    const log = accessLog();
    for (const t of [viaQuery, viaProtocol]) {
      for (const part of t.split('.')) expect(log).not.toContain(part);
    }
    expect(log).not.toContain('token=');
    expect(log).not.toContain('?');
    expect(log).toContain('"POST /api/leaderboard/submit HTTP/1.1" 401 ');
  });
});
