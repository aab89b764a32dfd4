/**
 * `npm run reconcile [-- --check]`: compares every board's Redis rank index with PostgreSQL and
 * (unless --check) repairs drift by rebuilding the drifted boards. Exit 0 when the index matches
 * PostgreSQL at the end, 1 otherwise; the report is one JSON document on stdout. On a terminal
 * (outside CI) stderr shows the boards checked so far.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { hasDrift, reconcile } from '../rank-index/reconcile.ts';
import { RankIndex } from '../rank-index/rank-index.ts';
import { terminalProgress } from '../progress.ts';
import { connect } from '../store/db.ts';
import { createRedis } from '../store/redis.ts';

const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
const config = loadConfig(process.env);
const sql = connect({ url: config.databaseUrl, poolSize: 2, connectTimeoutS: 5 });
const redis = createRedis(
  { url: config.redisUrl, clusterNodes: config.redisClusterNodes },
  { maxRetriesPerRequest: 1, connectTimeout: config.startupTimeoutMs },
);
try {
  const index = new RankIndex(redis, config.redisPrefix);
  const { before, after } = await reconcile(index, sql, !values.check, Date.now(), terminalProgress(process.stderr, process.env));
  const drifted = before.filter(hasDrift).map((d) => d.board);
  const stillDrifted = values.check ? drifted : after.filter(hasDrift).map((d) => d.board);
  process.stdout.write(JSON.stringify({ boards: before.length, drifted, repaired: values.check ? [] : drifted, stillDrifted, report: before }, null, 2) + '\n');
  process.exitCode = stillDrifted.length === 0 ? 0 : 1;
} finally {
  await sql.end({ timeout: 5 });
  redis.disconnect();
}
