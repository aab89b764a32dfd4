/** `http`: autocannon against the HTTP API (top and rank) of one instance with seeded data. */
import autocannon from 'autocannon';
import postgres from 'postgres';
import { ensureDatabase, type Sql } from '../../server/store/db.ts';
import { migrate } from '../../server/store/migrate.ts';
import { opt, type BenchContext } from '../lib/context.ts';
import type { RunResult, ScenarioResult } from '../lib/result.ts';
import { freshBenchStores, startBenchServer } from '../lib/servers.ts';
import { seed } from '../seed.ts';
import { summarizeRuns } from './socket-requests.ts';

interface CannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; max: number };
  non2xx: number;
  errors: number;
}

export async function http(ctx: BenchContext): Promise<ScenarioResult> {
  const users = opt(ctx, 'users', 100_000, 2000);
  const connections = opt(ctx, 'connections', 64, 8);
  const stores = freshBenchStores();
  await ensureDatabase(stores.databaseUrl, 5);
  const sql = postgres(stores.databaseUrl, { max: 1, onnotice: () => undefined }) as unknown as Sql;
  try {
    await migrate(sql);
    await seed(sql, { users, sessions: users * 5, modes: ['ranked', 'casual'] });
  } finally {
    await sql.end();
  }
  const server = await startBenchServer(stores);
  try {
    const runs: RunResult[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      const r = (await autocannon({
        url: `http://127.0.0.1:${server.port}`,
        connections,
        pipelining: 1,
        duration: ctx.durationS,
        requests: [
          { method: 'GET', path: '/api/leaderboard/top?limit=10' },
          { method: 'GET', path: `/api/leaderboard/rank/${1 + (run * 7919) % users}` },
        ],
      })) as unknown as CannonResult;
      ctx.log(`  run ${run + 1}: ${Math.round(r.requests.average)} req/s p50 ${r.latency.p50} ms p99 ${r.latency.p99} ms non-2xx ${r.non2xx}`);
      runs.push({ throughput: r.requests.average, count: r.requests.total, durationS: ctx.durationS, p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, timeline: [], errors: r.errors + r.non2xx });
    }
    return summarizeRuns('http', 'req/s', runs, { connections, users, routes: 'top, rank' }, (m) => m.throughput);
  } finally {
    await server.stop();
    await stores.drop();
  }
}
