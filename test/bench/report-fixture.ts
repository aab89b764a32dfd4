/** A small fake bench report for the rendering tests, with text that needs escaping. */
import type { BenchReport, RunResult } from '../../bench/lib/result.ts';

const run = (throughput: number, p99: number, timeline: number[]): RunResult => ({
  throughput, count: throughput * timeline.length, durationS: timeline.length, p50: p99 / 4, p99, max: p99 * 2, timeline, errors: 0,
});

export function fakeReport(): BenchReport {
  return {
    startedAt: '2025-01-02T03:04:05.000Z',
    machine: { cores: 2, cpuModel: 'Fake CPU <b>"turbo"</b> & co', memoryGiB: 23.4, node: 'v20.20.2', platform: 'linux x64' },
    quick: false,
    scenarios: [
      {
        scenario: 'submit',
        unit: 'submits/s',
        headline: 21_345.6,
        params: { sockets: 64, inflight: 8, durationS: 10 },
        runs: [run(20_000, 12, [19_000, 20_500, 20_500]), run(21_345.6, 14, [21_000, 21_500, 21_536]), run(22_000, 30, [22_000, 22_000, 22_000])],
        median: { throughput: 21_345.6, p50: 3.5, p99: 14, max: 28 },
        comparisons: [{ name: 'pgbench batched', value: 30_000, ratio: 0.7115 }, { name: 'socket.io peer', value: 900, ratio: 23.72 }],
        target: { text: '>= 20,000/s and >= 60% of the batched pgbench ceiling', met: true },
        notes: [],
      },
      {
        scenario: 'fanout <script>alert("x")</script>',
        unit: 'ms p99',
        headline: 140,
        params: { spectators: 5000, label: '<img src=x onerror=alert(1)>' },
        runs: [{ ...run(95_000, 140, [90_000, 97_000]), errors: 3, extra: { bytesPerSpectator: 123_456 } }],
        median: { throughput: 95_000, p50: 35, p99: 140, max: 280 },
        comparisons: [],
        target: { text: 'commit-to-screen p99 <= 100 ms', met: false },
        notes: ['spectators & writers share 2 cores; <em>not</em> isolated'],
      },
      {
        scenario: 'rebuild',
        unit: 's',
        headline: 8.2,
        params: { users: 1_000_000 },
        runs: [{ ...run(0, 0, []), throughput: 121_951, extra: { rows: 1_000_000 } }],
        median: { throughput: 121_951, p50: 0, p99: 0, max: 0 },
        comparisons: [],
        notes: [],
      },
    ],
  };
}
