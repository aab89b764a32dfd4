/**
 * The shapes every bench scenario reports, shared by the runner, the terminal table, the JSON in
 * bench/results/ and the HTML report.
 */

/** One measured run of a scenario. Latencies in milliseconds, throughput in operations per second. */
export interface RunResult {
  throughput: number;
  count: number;
  durationS: number;
  p50: number;
  p99: number;
  max: number;
  /** Operations completed in each second of the run (for the throughput-over-time chart). */
  timeline: number[];
  /** Scenario-specific figures (bytes per spectator, memory per socket, rows per second, ...). */
  extra?: Record<string, number>;
  errors: number;
}

/** A figure the result is compared with, measured in the same session on the same machine. */
export interface Comparison {
  name: string;
  /** Same unit as the scenario's headline figure. */
  value: number;
  /** ours / theirs (for latencies: theirs / ours, so > 1 is always "better than"). */
  ratio: number;
}

export interface ScenarioResult {
  scenario: string;
  /** What the headline figure is: 'submits/s', 'ms p99', 'KiB/socket', 's' ... */
  unit: string;
  /** The headline figure: the median over runs. */
  headline: number;
  params: Record<string, string | number | boolean>;
  runs: RunResult[];
  median: { throughput: number; p50: number; p99: number; max: number };
  comparisons: Comparison[];
  /** The target for this scenario, if it has one. */
  target?: { text: string; met: boolean };
  notes: string[];
}

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
}

export interface BenchReport {
  startedAt: string;
  machine: MachineInfo;
  quick: boolean;
  scenarios: ScenarioResult[];
}

/** " (unavailable 12, rate_limited 3)" for a run with error replies, else "". */
export function errorBreakdown(r: RunResult): string {
  const parts = Object.entries(r.extra ?? {})
    .filter(([k, n]) => k.startsWith('error:') && n > 0)
    .map(([k, n]) => `${k.slice('error:'.length)} ${n}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}
