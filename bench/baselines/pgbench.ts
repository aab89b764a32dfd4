/**
 * The PostgreSQL write ceiling: pgbench running the writes of a submit, one transaction per submit
 * and 100 submits per transaction, against a scratch database (our migrations, seeded users) on the
 * same server as the bench's database. The scratch database is dropped even when a run fails.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { connect } from '../../server/store/db.ts';
import { migrate } from '../../server/store/migrate.ts';
import { assertLoopback } from './loopback.ts';
import { BATCH_SCRIPT, SINGLE_ROW_SCRIPT, seedSql, strideFor } from './pgbench-scripts.ts';
import { parsePgbenchOutput, type PgbenchSummary } from './pgbench-output.ts';
import { runTool, tail } from './run-tool.ts';

export const PGBENCH = '/usr/bin/pgbench';

export interface PgbenchBaselineOptions {
  databaseUrl: string;
  durationS: number;
  clients: number;
  /** Seeded users (default 100,000). */
  users?: number;
  /** Submits per batched transaction (default 100). */
  batchRows?: number;
}

export interface PgbenchBaselines {
  singleRowTps: number;
  batchedRowsPerSec: number;
  raw: string;
}

function checkTarget(url: URL): void {
  // An empty host means libpq's default Unix socket, which is local too.
  const host = url.hostname || url.searchParams.get('host') || 'localhost';
  assertLoopback(host, 'pgbench baseline');
}

function withDatabase(url: URL, name: string): string {
  const u = new URL(url.toString());
  u.pathname = `/${name}`;
  return u.toString();
}

export async function runPgbenchBaselines(opts: PgbenchBaselineOptions): Promise<PgbenchBaselines> {
  const base = new URL(opts.databaseUrl);
  checkTarget(base);
  const users = Math.max(1000, Math.floor(opts.users ?? 100_000));
  const rows = Math.max(1, Math.floor(opts.batchRows ?? 100));
  if (rows * 10 > users) throw new Error(`pgbench baseline: batchRows ${rows} needs at least ${rows * 10} users`);
  const clients = Math.max(1, Math.floor(opts.clients));
  const durationS = Math.max(1, Math.round(opts.durationS));

  const name = `lb_pgbench_${randomBytes(5).toString('hex')}`;
  const scratchUrl = withDatabase(base, name);
  const admin = postgres(withDatabase(base, 'postgres'), { max: 1, connect_timeout: 10, onnotice: () => undefined });
  const dir = await mkdtemp(join(tmpdir(), 'lb-pgbench-'));
  let created = false;
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
    created = true;
    const db = connect({ url: scratchUrl, poolSize: 1, connectTimeoutS: 10 });
    try {
      await migrate(db);
      await db.unsafe(seedSql(users));
      await db.unsafe('VACUUM ANALYZE');
    } finally {
      await db.end({ timeout: 5 });
    }

    const single = join(dir, 'single-row.sql');
    const batch = join(dir, 'batch.sql');
    await writeFile(single, SINGLE_ROW_SCRIPT);
    await writeFile(batch, BATCH_SCRIPT);
    const vars = ['-D', `users=${users}`, '-D', `rows=${rows}`, '-D', `stride=${strideFor(users)}`];
    const common = ['-n', '-M', 'simple', '-c', String(clients), '-j', String(Math.min(2, clients)), '-T', String(durationS), '--max-tries=3', ...vars];

    const run = async (label: string, script: string): Promise<{ summary: PgbenchSummary; raw: string }> => {
      const out = await runTool(PGBENCH, [...common, '-f', script, scratchUrl], { timeoutMs: (durationS + 30) * 1000 });
      const raw = `## pgbench ${label}\n${out.stdout}${out.stderr ? `\n${out.stderr}` : ''}`;
      if (out.timedOut) throw new Error(`pgbench ${label} did not finish within ${durationS + 30} s\n${tail(raw)}`);
      if (out.code !== 0) throw new Error(`pgbench ${label} exited with ${out.code ?? out.signal}\n${tail(raw)}`);
      const summary = parsePgbenchOutput(out.stdout);
      if (summary.aborted || summary.transactions === 0) throw new Error(`pgbench ${label} did not complete\n${tail(raw)}`);
      return { summary, raw };
    };

    const a = await run('single-row transactions', single);
    const b = await run(`${rows}-row transactions`, batch);
    return { singleRowTps: a.summary.tps, batchedRowsPerSec: b.summary.tps * rows, raw: `${a.raw}\n${b.raw}` };
  } finally {
    try {
      if (created) await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await admin.end({ timeout: 5 });
      await rm(dir, { recursive: true, force: true });
    }
  }
}
