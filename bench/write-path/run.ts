/**
 * Times the write-path candidates (candidates.ts) with pgbench on a scratch database: our
 * migrations, `--users` seeded users with rows on `global` and `mode:bench`, each candidate's own
 * tables. Rounds interleave the candidates so that a noisy minute hits them all alike; the table
 * gives each one's median submits/s, its ratio to `minimal` in the same rounds, WAL bytes and rows
 * written per submit, and the share of its updates that were HOT.
 *
 *   node --import tsx bench/write-path/run.ts [--rounds 3] [--seconds 8] [--clients 4] [--rows 100] [--users 100000] [--only a,b]
 *
 * The scratch database is dropped even when a run fails. Loopback PostgreSQL only.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { connect } from '../../server/store/db.ts';
import { migrate } from '../../server/store/migrate.ts';
import { assertLoopback } from '../baselines/loopback.ts';
import { PGBENCH } from '../baselines/pgbench.ts';
import { parsePgbenchOutput } from '../baselines/pgbench-output.ts';
import { seedSql, strideFor } from '../baselines/pgbench-scripts.ts';
import { runTool, tail } from '../baselines/run-tool.ts';
import { CANDIDATES } from './candidates.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '8' },
    clients: { type: 'string', default: '4' },
    rows: { type: 'string', default: '100' },
    users: { type: 'string', default: '100000' },
    only: { type: 'string' },
    url: { type: 'string', default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const rounds = Number(args.rounds);
const seconds = Number(args.seconds);
const clients = Number(args.clients);
const rows = Number(args.rows);
const users = Number(args.users);
const candidates = args.only ? CANDIDATES.filter((c) => args.only!.split(',').includes(c.name)) : CANDIDATES;

interface Sample {
  perSec: number;
  walPerSubmit: number;
  rowsPerSubmit: number;
  hotShare: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const base = new URL(args.url);
  assertLoopback(base.hostname || 'localhost', 'write-path bench');
  const name = `lb_writepath_${randomBytes(4).toString('hex')}`;
  const at = (db: string) => Object.assign(new URL(base.toString()), { pathname: `/${db}` }).toString();
  const admin = postgres(at('postgres'), { max: 1, onnotice: () => undefined });
  const dir = await mkdtemp(join(tmpdir(), 'lb-writepath-'));
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  const samples = new Map<string, Sample[]>();
  try {
    const db = connect({ url: at(name), poolSize: 1, connectTimeoutS: 10 });
    await migrate(db);
    await db.unsafe(seedSql(users));
    for (const c of candidates) if (c.setup) await db.unsafe(c.setup);
    await db.unsafe('VACUUM ANALYZE');
    const stats = async () => {
      await db.unsafe('SELECT pg_stat_clear_snapshot()');
      const [w] = await db.unsafe<{ lsn: string }[]>('SELECT pg_current_wal_lsn()::text AS lsn');
      const [t] = await db.unsafe<{ ins: string; upd: string; hot: string }[]>(
        'SELECT sum(n_tup_ins)::text AS ins, sum(n_tup_upd)::text AS upd, sum(n_tup_hot_upd)::text AS hot FROM pg_stat_user_tables',
      );
      const [lsn] = await db.unsafe<{ b: string }[]>(`SELECT pg_wal_lsn_diff('${w!.lsn}', '0/0')::text AS b`);
      return { wal: Number(lsn!.b), ins: Number(t!.ins), upd: Number(t!.upd), hot: Number(t!.hot) };
    };
    const vars = ['-D', `users=${users}`, '-D', `rows=${rows}`, '-D', `stride=${strideFor(users)}`, '-D', 'day=20261201'];
    for (let r = 1; r <= rounds; r++) {
      for (const c of candidates) {
        const file = join(dir, `${c.name}.sql`);
        await writeFile(file, c.script);
        const before = await stats();
        const out = await runTool(PGBENCH, ['-n', '-M', 'simple', '-c', String(clients), '-j', String(Math.min(2, clients)), '-T', String(seconds), ...vars, '-f', file, at(name)], {
          timeoutMs: (seconds + 60) * 1000,
        });
        if (out.code !== 0) throw new Error(`pgbench ${c.name} failed\n${tail(out.stdout + out.stderr)}`);
        const s = parsePgbenchOutput(out.stdout);
        await new Promise((res) => setTimeout(res, 700)); // statistics reach pg_stat within a second
        const after = await stats();
        const submits = s.transactions * rows;
        const sample: Sample = {
          perSec: s.tps * rows,
          walPerSubmit: (after.wal - before.wal) / submits,
          rowsPerSubmit: (after.ins - before.ins + after.upd - before.upd) / submits,
          hotShare: after.upd > before.upd ? (after.hot - before.hot) / (after.upd - before.upd) : 0,
        };
        (samples.get(c.name) ?? samples.set(c.name, []).get(c.name)!).push(sample);
        process.stderr.write(`round ${r} ${c.name}: ${Math.round(sample.perSec)} submits/s, ${Math.round(sample.walPerSubmit)} WAL B/submit\n`);
      }
    }
    await db.end({ timeout: 5 });
  } finally {
    await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end({ timeout: 5 });
    await rm(dir, { recursive: true, force: true });
  }
  const minimal = samples.get('minimal');
  console.log(`| candidate | what one submit writes | submits/s (median of ${rounds}) | x minimal | WAL bytes/submit | rows written/submit | HOT share of updates |`);
  console.log('|---|---|---|---|---|---|---|');
  for (const c of candidates) {
    const ss = samples.get(c.name)!;
    const ratio = minimal ? median(ss.map((s, i) => s.perSec / minimal[i]!.perSec)) : NaN;
    console.log(
      `| ${c.name} | ${c.what} | ${Math.round(median(ss.map((s) => s.perSec))).toLocaleString('en')} | ${ratio.toFixed(2)} | ${Math.round(median(ss.map((s) => s.walPerSubmit)))} | ${median(ss.map((s) => s.rowsPerSubmit)).toFixed(1)} | ${Math.round(100 * median(ss.map((s) => s.hotShare)))}% |`,
    );
  }
}

await main();
