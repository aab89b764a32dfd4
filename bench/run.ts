/**
 * The bench's front door: `npm run bench -- [scenario ...] [--quick] [--runs N] [--duration S]
 * [--warmup S] [--threads N] [--no-baselines] [--<option> value ...]`.
 *
 * Scenarios: submit, submit-rate, ping, rank, top, fanout, idle, rebuild, http, peer-submit,
 * peer-fanout (default: all). Baselines (pgbench, redis-benchmark) are measured in the same run.
 * Writes a table to the terminal, JSON and an HTML report to bench/results/. On a terminal (outside
 * CI) stderr shows scenario i of n, its runs done and its time so far.
 */
import { growth } from './scenarios/growth.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runPgbenchBaselines } from './baselines/pgbench.ts';
import { runRedisBaselines } from './baselines/redis-benchmark.ts';
import type { BenchContext } from './lib/context.ts';
import type { BenchReport, MachineInfo, ScenarioResult } from './lib/result.ts';
import { PG_BASE } from './lib/servers.ts';
import { terminalProgress, type Progress } from '../server/progress.ts';
import { renderHtml } from './report/html.ts';
import { renderTable } from './report/table.ts';
import { fanout } from './scenarios/fanout.ts';
import { http } from './scenarios/http.ts';
import { idle } from './scenarios/idle.ts';
import { peerFanout, peerSubmit } from './scenarios/peer.ts';
import { rebuild } from './scenarios/rebuild.ts';
import { pingClosed, rankClosed, submitClosed, submitRate, topClosed } from './scenarios/socket-requests.ts';
import { judge, type Baselines } from './targets.ts';

const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<ScenarioResult>> = {
  submit: submitClosed,
  'submit-rate': submitRate,
  ping: pingClosed,
  rank: rankClosed,
  top: topClosed,
  fanout,
  idle,
  rebuild,
  growth,
  http,
  'peer-submit': peerSubmit,
  'peer-fanout': peerFanout,
};

const FLAGS = new Set(['quick', 'no-baselines', 'help']);

function parse(argv: string[]): { names: string[]; flags: Set<string>; options: Record<string, string> } {
  const names: string[] = [];
  const flags = new Set<string>();
  const options: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      names.push(a);
      continue;
    }
    const key = a.slice(2);
    if (FLAGS.has(key)) flags.add(key);
    else {
      const value = argv[++i];
      if (value === undefined) throw new Error(`--${key} needs a value`);
      options[key] = value;
    }
  }
  return { names, flags, options };
}

function machine(): MachineInfo {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

async function main(): Promise<void> {
  const { names, flags, options } = parse(process.argv.slice(2));
  if (flags.has('help')) {
    process.stdout.write(`usage: npm run bench -- [${Object.keys(SCENARIOS).join('|')} ...] [--quick] [--runs N] [--duration S] [--threads N] [--no-baselines]\n`);
    return;
  }
  const quick = flags.has('quick');
  const selected = names.length > 0 ? names : Object.keys(SCENARIOS);
  for (const n of selected) if (!SCENARIOS[n]) throw new Error(`unknown scenario "${n}"; known: ${Object.keys(SCENARIOS).join(', ')}`);
  const num = (k: string, full: number, q: number) => Number(options[k] ?? (quick ? q : full));
  const progress = terminalProgress(process.stderr, process.env);
  let line: Progress | undefined;
  const ctx: BenchContext = {
    quick,
    runs: num('runs', 3, 1),
    durationS: num('duration', 10, 2),
    warmupS: num('warmup', 2, 0.5),
    threads: num('threads', 1, 1),
    options,
    log: (m) => {
      // Every scenario logs `  run N: ...` as its run N ends.
      const run = /^\s*run (\d+):/.exec(m);
      if (run) line?.update(Number(run[1]));
      const write = () => process.stdout.write(`${m}\n`);
      if (line) line.aside(write);
      else write();
    },
  };
  const m = machine();
  const startedAt = new Date().toISOString();
  process.stdout.write(`bench on ${m.cores} cores, ${m.memoryGiB} GiB, ${m.cpuModel}, node ${m.node}${quick ? ' (quick)' : ''}\n`);

  const baselines: Baselines = {};
  if (!flags.has('no-baselines')) {
    process.stdout.write('baselines\n');
    const pg = await runPgbenchBaselines({ databaseUrl: `${PG_BASE}/postgres`, durationS: quick ? 2 : 10, clients: 8, users: quick ? 10_000 : 100_000 });
    baselines.pgbench = { singleRowTps: pg.singleRowTps, batchedRowsPerSec: pg.batchedRowsPerSec };
    process.stdout.write(`  pgbench: ${Math.round(pg.singleRowTps)} single-row tps, ${Math.round(pg.batchedRowsPerSec)} rows/s in 100-row transactions\n`);
    baselines.redis = await runRedisBaselines({ host: '127.0.0.1', port: 6379, requests: quick ? 20_000 : 200_000, clients: 50, pipeline: 1 });
    process.stdout.write(`  redis-benchmark: ${Object.entries(baselines.redis).map(([k, v]) => `${k} ${Math.round(v)}/s`).join(', ')}\n`);
  }

  const results: ScenarioResult[] = [];
  for (const [i, name] of selected.entries()) {
    process.stdout.write(`${name}\n`);
    line = progress.start(`bench ${i + 1}/${selected.length} ${name}`, ctx.runs, 'runs');
    let outcome = 'failed';
    try {
      results.push(await SCENARIOS[name]!(ctx));
      outcome = 'done';
    } finally {
      line.finish(outcome);
      line = undefined;
    }
  }
  const report: BenchReport = { startedAt, machine: m, quick, scenarios: judge(results, baselines, quick) };
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt.replace(/[:.]/g, '-');
  writeFileSync(`${dir}/bench-${stamp}.json`, JSON.stringify({ ...report, baselines }, null, 2));
  writeFileSync(`${dir}/bench-${stamp}.html`, renderHtml(report));
  writeFileSync(`${dir}/latest.html`, renderHtml(report));
  process.stdout.write(`\n${renderTable(report)}\n`);
  process.stdout.write(`results: bench/results/bench-${stamp}.json, bench/results/bench-${stamp}.html\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
