/**
 * The targets, and how each scenario compares with its baselines and the peer. Pure:
 * takes the finished results, returns them with `target` and `comparisons` filled in.
 */
import type { ScenarioResult } from './lib/result.ts';

export interface Baselines {
  pgbench?: { singleRowTps: number; batchedRowsPerSec: number };
  redis?: Record<string, number>;
}

const find = (all: ScenarioResult[], name: string) => all.find((s) => s.scenario === name);

/** Fills in comparisons, and targets unless `quick` (smoke sizes say nothing about targets). */
export function judge(all: ScenarioResult[], b: Baselines, quick = false): ScenarioResult[] {
  for (const s of all) {
    const m = s.median;
    switch (s.scenario) {
      case 'submit': {
        const ceiling = b.pgbench?.batchedRowsPerSec;
        if (ceiling) s.comparisons.push({ name: 'pgbench 100-row batched transactions (rows/s)', value: ceiling, ratio: m.throughput / ceiling });
        if (b.pgbench?.singleRowTps) s.comparisons.push({ name: 'pgbench single-row transactions (tps)', value: b.pgbench.singleRowTps, ratio: m.throughput / b.pgbench.singleRowTps });
        const peer = find(all, 'peer-submit');
        if (peer) s.comparisons.push({ name: 'Socket.IO peer (submits/s)', value: peer.median.throughput, ratio: m.throughput / peer.median.throughput });
        s.target = {
          text: '>= 20,000/s and >= 0.25x the batched pgbench ceiling',
          met: m.throughput >= 20_000 && (ceiling === undefined || m.throughput >= 0.25 * ceiling),
        };
        break;
      }
      case 'submit-rate':
        s.target =
          Number(s.params.rate) >= 10_000
            ? { text: 'p99 <= 50 ms at a steady 10,000/s', met: m.p99 <= 50 }
            : { text: 'p99 <= 20 ms at a steady 2,000/s', met: m.p99 <= 20 && Number(s.params.rate) >= 2000 };
        break;
      case 'rank':
      case 'top': {
        const rank = s.scenario === 'rank';
        const script = rank ? 'EVALSHA read_ranks 1' : 'EVALSHA read_range 0 9';
        const r = b.redis?.[script];
        if (r) s.comparisons.push({ name: `redis-benchmark ${script} (ops/s)`, value: r, ratio: m.throughput / r });
        // The server's own ceiling on the same sockets, measured in the same run.
        const ping = find(all, 'ping')?.median.throughput;
        if (ping) s.comparisons.push({ name: 'ping over the same sockets (ops/s)', value: ping, ratio: m.throughput / ping });
        const [floor, share] = rank ? [50_000, 0.5] : [100_000, 0.8];
        s.target = {
          text: `>= ${floor.toLocaleString('en')}/s and >= ${share}x ping on the same sockets`,
          met: m.throughput >= floor && ping !== undefined && m.throughput >= share * ping,
        };
        break;
      }
      case 'ping':
        break;
      case 'fanout': {
        const peer = find(all, 'peer-fanout');
        if (peer) {
          s.comparisons.push({ name: 'Socket.IO peer frames delivered/s', value: peer.median.throughput, ratio: m.throughput / peer.median.throughput });
          s.comparisons.push({ name: 'Socket.IO peer commit-to-screen p99 (ms, theirs/ours)', value: peer.median.p99, ratio: peer.median.p99 / Math.max(m.p99, 0.001) });
        }
        s.target = { text: 'commit-to-screen p99 <= 100 ms (5,000 spectators, 2 instances, 1,000 submits/s)', met: m.p99 <= 100 && Number(s.params.spectators) >= 5000 };
        break;
      }
      case 'idle':
        s.target = { text: '<= 8 KiB per socket at 10,000 sockets', met: s.headline <= 8 && Number(s.params.sockets) >= 10_000 };
        break;
      case 'rebuild':
        s.target = { text: '<= 10 s for 1M users', met: s.headline <= 10 && Number(s.params.users) >= 1_000_000 };
        break;
      case 'growth': {
        const errors = s.runs.reduce((n, r) => n + r.errors, 0);
        s.target = {
          text: 'no errors from the first second after /health is 200, and >= 0.8x the empty-database rate within 30 s (1M users, 5M sessions)',
          met: errors === 0 && s.headline >= 0.8 && Number(s.params.users) >= 1_000_000,
        };
        break;
      }
      case 'peer-submit':
      case 'peer-fanout':
        break;
    }
  }
  if (quick) for (const s of all) delete s.target;
  const ours = find(all, 'submit');
  const peer = find(all, 'peer-submit');
  if (ours && peer) ours.notes.push(`versus the peer: ${(ours.median.throughput / peer.median.throughput).toFixed(1)}x its submit throughput (target >= 5x)`);
  return all;
}
