/**
 * `rebuild`: seeds U users and S sessions (skewed), then times rebuilding the rank index of every
 * board from PostgreSQL, in-process, as a server does at start-up.
 */
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { RankIndex } from '../../server/rank-index/rank-index.ts';
import { rebuildBoard } from '../../server/rank-index/rebuild.ts';
import { ensureDatabase, connect, type Sql } from '../../server/store/db.ts';
import { migrate } from '../../server/store/migrate.ts';
import { listBoards } from '../../server/store/scores.ts';
import { opt, type BenchContext } from '../lib/context.ts';
import type { RunResult, ScenarioResult } from '../lib/result.ts';
import { freshBenchStores } from '../lib/servers.ts';
import { seed } from '../seed.ts';
import { summarizeRuns } from './socket-requests.ts';

export async function rebuild(ctx: BenchContext): Promise<ScenarioResult> {
  const users = opt(ctx, 'users', 1_000_000, 20_000);
  const sessions = opt(ctx, 'sessions', users * 5, users * 5);
  const stores = freshBenchStores();
  await ensureDatabase(stores.databaseUrl, 5);
  const seedSql = postgres(stores.databaseUrl, { max: 1, onnotice: () => undefined }) as unknown as Sql;
  const sql = connect({ url: stores.databaseUrl, poolSize: 4, connectTimeoutS: 5 });
  const redis = new Redis(stores.redisUrl);
  try {
    await migrate(seedSql);
    const s = await seed(seedSql, { users, sessions, modes: ['ranked', 'casual', 'arena', 'blitz'] });
    ctx.log(`  seeded ${s.users} users, ${s.sessions} sessions in ${s.seconds.toFixed(1)} s (${Math.round(s.sessions / s.seconds)} sessions/s)`);
    const index = new RankIndex(redis, stores.redisPrefix);
    const runs: RunResult[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      const started = performance.now();
      let rows = 0;
      let globalS = 0;
      for (const board of await listBoards(sql)) {
        const r = await rebuildBoard(index, sql, board);
        if (r.status !== 'rebuilt') throw new Error(`rebuild of ${board}: ${r.status}`);
        rows += r.rows;
        if (board === 'global') globalS = r.ms / 1000;
      }
      const seconds = (performance.now() - started) / 1000;
      ctx.log(`  run ${run + 1}: ${rows} rows on all boards in ${seconds.toFixed(2)} s (global, ${users} users: ${globalS.toFixed(2)} s), ${Math.round(rows / seconds)} rows/s`);
      runs.push({ throughput: rows / seconds, count: rows, durationS: seconds, p50: 0, p99: 0, max: 0, timeline: [], errors: 0, extra: { seconds, globalSeconds: globalS } });
    }
    const result = summarizeRuns('rebuild', 's (global board)', runs, { users, sessions }, () => 0);
    const g = runs.map((r) => r.extra!.globalSeconds!).sort((a, b) => a - b);
    result.headline = g[Math.floor(g.length / 2)]!;
    return result;
  } finally {
    redis.disconnect();
    await sql.end();
    await seedSql.end();
    await stores.drop();
  }
}
