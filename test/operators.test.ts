/**
 * What operators rely on: the Prometheus output, the OpenAPI document, New Relic on and off, the
 * compose stack's consistency with the configuration schema, and the docs listing every setting.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  ERROR_CODE_LIST,
  HTTP_EXAMPLES,
  HTTP_ROUTES,
  REQUEST_SCHEMAS,
  aroundReply,
  boardsReply,
  healthReply,
  historyReply,
  httpError,
  httpSubmitReply,
  httpPageQuery,
  httpTopReply,
  pageReply,
  rankReply,
  ranksReply,
} from '../protocol/index.ts';
import type { RunningApp } from '../server/app.ts';
import { CONFIG_VARIABLES, loadConfig } from '../server/config.ts';
import { http } from './support/http.ts';
import { connectWs, spawnServer, startTestApp, storeEnv, token } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
let stores: FreshStores;
let app: RunningApp;

beforeAll(async () => {
  stores = await freshStores();
  app = await startTestApp(stores);
});
afterAll(async () => {
  await app?.close();
  await stores?.cleanup();
});

/** Parses Prometheus text format strictly enough to catch a malformed line. */
function parseProm(text: string) {
  const types = new Map<string, string>();
  const samples: { name: string; labels: string; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const t = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (t) {
      types.set(t[1]!, t[2]!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    expect(m, `malformed metrics line: ${line}`).not.toBeNull();
    samples.push({ name: m![1]!, labels: m![2] ?? '', value: Number(m![3]) });
  }
  return { types, samples };
}

describe('/metrics', () => {
  it('is valid Prometheus text with the metric set operators alert on, named by convention', async () => {
    const ws = await connectWs(app.port, token('server'));
    await ws.request('submit', { user_id: 1, score: 10, game_mode: 'ranked' });
    await ws.request('top', {});
    await ws.request('top', { limit: 0 }).catch(() => undefined);
    await ws.request('subscribe', { board: 'global' });
    const res = await http(app.port, 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const { types, samples } = parseProm(res.body as string);
    for (const [name, type] of types) {
      if (type === 'counter') expect(name, `counter ${name}`).toMatch(/_total$/);
      // Histograms carry their unit: seconds for durations, or a count of things (group sizes).
      if (type === 'histogram' && name.startsWith('leaderboard_') && !name.includes('nodejs')) expect(name).toMatch(/_(seconds|bytes|size)$/);
    }
    const value = (name: string, labels = '') =>
      samples.filter((s) => s.name === name && s.labels.includes(labels)).reduce((a, s) => a + s.value, 0);
    expect(value('leaderboard_requests_total', 'op="submit",transport="ws",outcome="ok"')).toBe(1);
    expect(value('leaderboard_errors_total', 'code="bad_request"')).toBe(1);
    expect(value('leaderboard_submits_committed_total')).toBe(1);
    // The refused top never reached a handler: it is counted, but has no latency.
    expect(value('leaderboard_request_duration_seconds_count', 'op="top",transport="ws"')).toBe(1);
    expect(value('leaderboard_store_call_duration_seconds_count', 'store="postgres",call="submit"')).toBe(1);
    expect(value('leaderboard_store_call_duration_seconds_count', 'store="redis"')).toBeGreaterThan(0);
    expect(value('leaderboard_index_reads_total', 'source="redis"')).toBeGreaterThan(0);
    expect(value('leaderboard_ws_connections')).toBe(1);
    expect(value('leaderboard_live_subscriptions')).toBe(1);
    for (const name of [
      'leaderboard_live_pushes_total',
      'leaderboard_live_resyncs_total',
      'leaderboard_live_slow_consumer_drops_total',
      'leaderboard_live_diff_latency_seconds',
      'leaderboard_index_rebuilds_total',
      'leaderboard_index_write_failures_total',
      'leaderboard_group_commit_size',
      'leaderboard_nodejs_eventloop_lag_seconds',
      'leaderboard_process_resident_memory_bytes',
    ]) {
      expect(types.has(name), name).toBe(true);
    }
    ws.close();
  });
});

describe('/openapi.json', () => {
  it('describes every HTTP route, and every example in it validates against the contract', async () => {
    const res = await http(app.port, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body as { openapi: string; paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>> };
    expect(doc.openapi).toBe('3.1.0');
    for (const route of Object.values(HTTP_ROUTES)) {
      const path = route.path.replace(/:([a-z_]+)/g, '{$1}');
      expect(doc.paths[path]?.[route.method.toLowerCase()], `${route.method} ${route.path}`).toBeDefined();
    }
    expect(doc.paths['/api/leaderboard/rank/{user_id}']!.get!.parameters).toContainEqual(expect.objectContaining({ name: 'user_id', in: 'path' }));
    const e = HTTP_EXAMPLES;
    expect(REQUEST_SCHEMAS.submit.safeParse(e.submit.request).success).toBe(true);
    expect(httpSubmitReply.safeParse(e.submit.reply).success).toBe(true);
    for (const op of ['top', 'boards', 'rank', 'around', 'history'] as const) {
      expect(REQUEST_SCHEMAS[op].safeParse(e[op].query).success, `${op} query`).toBe(true);
    }
    expect(httpTopReply.safeParse(e.top.reply).success).toBe(true);
    expect(boardsReply.safeParse(e.boards.reply).success).toBe(true);
    expect(rankReply.safeParse(e.rank.reply).success).toBe(true);
    expect(aroundReply.safeParse(e.around.reply).success).toBe(true);
    expect(historyReply.safeParse(e.history.reply).success).toBe(true);
    expect(healthReply.safeParse(e.health.reply).success).toBe(true);
    expect(httpError.safeParse(e.error.reply).success).toBe(true);
    // Additions to v1: `page` takes its cursor as flat query parameters over HTTP.
    expect(REQUEST_SCHEMAS.ranks.safeParse(e.ranks.query).success).toBe(true);
    expect(ranksReply.safeParse(e.ranks.reply).success).toBe(true);
    expect(httpPageQuery.safeParse(e.page.query).success).toBe(true);
    expect(pageReply.safeParse(e.page.reply).success).toBe(true);
    expect(doc.paths['/api/leaderboard/ranks']!.get!.parameters).toContainEqual(expect.objectContaining({ name: 'user_ids', in: 'query', style: 'form', explode: false }));
    expect(doc.paths['/api/leaderboard/page']!.get!.parameters!.map((p) => p.name).sort()).toEqual(['after_total', 'after_user_id', 'board', 'limit']);
  });
});

describe('New Relic', () => {
  const agentLog = `${ROOT}/newrelic_agent.log`;
  it('is not loaded and writes nothing without a licence key', async () => {
    rmSync(agentLog, { force: true });
    const server = await spawnServer(storeEnv(stores));
    try {
      expect((await http(server.port, 'GET', '/health')).status).toBe(200);
      expect(server.output()).toContain('New Relic disabled');
      expect(server.output()).not.toContain('"name":"newrelic"');
    } finally {
      server.process.kill('SIGTERM');
      await server.exited;
    }
    expect(existsSync(agentLog)).toBe(false);
  });

  it('loads the agent with a licence key, names transactions, and serves as usual (collector on loopback only)', async () => {
    const server = await spawnServer(
      storeEnv(stores, {
        NEW_RELIC_LICENSE_KEY: '0123456789abcdef0123456789abcdef01234567',
        NEW_RELIC_HOST: '127.0.0.1',
        NEW_RELIC_PORT: '9',
      }),
    );
    try {
      expect(server.output()).toContain('apm: New Relic agent loaded');
      const ws = await connectWs(server.port, token('server'));
      const reply = await ws.request('submit', { user_id: 5, score: 7, game_mode: 'ranked' });
      expect(reply.total_score).toBe(7);
      ws.close();
      expect((await http(server.port, 'GET', '/api/leaderboard/top')).status).toBe(200);
    } finally {
      server.process.kill('SIGTERM');
      await server.exited;
    }
    expect(existsSync(agentLog)).toBe(false);
  });
});

describe('docker-compose.yml', () => {
  const compose = parseYaml(readFileSync(`${ROOT}/docker-compose.yml`, 'utf8'), { merge: true }) as {
    services: Record<string, { environment?: Record<string, string>; healthcheck?: { test: string[] }; ports?: string[]; build?: string; image?: string }>;
  };
  const nginx = readFileSync(`${ROOT}/deploy/nginx.conf`, 'utf8');
  const dockerfile = readFileSync(`${ROOT}/Dockerfile`, 'utf8');

  it('runs PostgreSQL 15+, Redis 7, two servers and a load balancer, each with a health check', () => {
    const s = compose.services;
    expect(Object.keys(s).sort()).toEqual(['lb', 'postgres', 'redis', 'server1', 'server2']);
    expect(Number(/postgres:(\d+)/.exec(s.postgres!.image!)?.[1])).toBeGreaterThanOrEqual(15);
    expect(s.redis!.image).toMatch(/^redis:7/);
    for (const [name, svc] of Object.entries(s)) expect(svc.healthcheck?.test.length, `${name} health check`).toBeGreaterThan(0);
    expect(s.lb!.ports).toEqual(['8080:80']);
  });

  it('gives the servers only settings the configuration schema knows, with valid values', () => {
    for (const name of ['server1', 'server2']) {
      const env = compose.services[name]!.environment!;
      for (const key of Object.keys(env)) expect(CONFIG_VARIABLES, `${name}: ${key}`).toContain(key);
      expect(env.NODE_ENV).toBe('production');
      expect(env.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?/);
      expect(new URL(env.DATABASE_URL!).hostname).toBe('postgres');
      expect(new URL(env.REDIS_URL!).hostname).toBe('redis');
      expect(nginx).toContain(`server ${name}:${env.PORT}`);
      // Behind the lb service: without it every player shares nginx's address (issue 12, item 8).
      expect(env.TRUST_PROXY).toBe('true');
      expect(env.HOST).toBe('0.0.0.0');
      expect(loadConfig({ ...env, JWT_SECRET: 'x'.repeat(32) })).toMatchObject({ trustProxy: true, host: '0.0.0.0', env: 'production' });
    }
  });

  it('nginx sets X-Forwarded-For to the address it saw and logs no query string (tokens)', () => {
    expect(nginx).toMatch(/^\s*proxy_set_header X-Forwarded-For \$remote_addr;$/m);
    const format = /log_format (\w+) ([^;]*);/.exec(nginx);
    expect(format, 'a log_format').not.toBeNull();
    expect(format![2]).toContain('$uri');
    expect(format![2]).not.toMatch(/\$request\b|\$request_uri|\$args|\$query_string|\$arg_|\$http_referer/);
    // Every access log uses it (or is off): a bare access_log would fall back to the query-logging `combined`.
    const logs = nginx.match(/^\s*access_log [^;]*;$/gm)!;
    expect(logs.length).toBeGreaterThan(0);
    for (const line of logs) expect(line.trim()).toMatch(new RegExp(`^access_log (\\S+ ${format![1]}|off);$`));
  });

  it('proxies WebSocket upgrades, and the image is multi-stage and runs as non-root', () => {
    expect(nginx).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(nginx).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
    expect(dockerfile.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
  });
});

describe('docs', () => {
  const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
  it('the README documents every configuration variable and every error code', () => {
    for (const v of CONFIG_VARIABLES) expect(readme, v).toContain(`\`${v}\``);
    for (const code of ERROR_CODE_LIST) expect(readme, code).toContain(`\`${code}\``);
  });
});
