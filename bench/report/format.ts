/** Number and text formatting shared by the terminal table and the HTML report (pure). */
import type { RunResult, ScenarioResult } from '../lib/result.ts';

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Integers as they are (with thousands separators); else 3 significant figures below 100: 0.123, 4.56, 78.9, 1,234. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return grouped.format(n);
  const a = Math.abs(n);
  if (a < 1) return n.toFixed(3).replace(/0+$/, '').replace(/\.$/, '');
  if (a < 10) return n.toFixed(2);
  if (a < 100) return n.toFixed(1);
  return grouped.format(n);
}

export function formatRatio(r: number): string {
  if (!Number.isFinite(r)) return '–';
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

/** The run whose throughput is nearest the median (the one whose latencies the report shows). */
export function medianRun(s: ScenarioResult): RunResult | undefined {
  let best: RunResult | undefined;
  for (const r of s.runs) {
    if (!best || Math.abs(r.throughput - s.median.throughput) < Math.abs(best.throughput - s.median.throughput)) best = r;
  }
  return best;
}

export function hasLatency(p: { p50: number; p99: number; max: number }): boolean {
  return p.p50 > 0 || p.p99 > 0 || p.max > 0;
}

export function totalErrors(s: ScenarioResult): number {
  return s.runs.reduce((a, r) => a + r.errors, 0);
}

export function targetStatus(s: ScenarioResult): 'met' | 'not met' | 'no target' {
  if (!s.target) return 'no target';
  return s.target.met ? 'met' : 'not met';
}

/** Short axis labels: 950, 1.5k, 20k, 1.2M. */
export function formatCompact(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e6) return `${trim(n / 1e6)}M`;
  if (a >= 1e3) return `${trim(n / 1e3)}k`;
  return trim(n);
}

function trim(n: number): string {
  return String(Number(n.toFixed(Math.abs(n) < 10 ? 2 : 1)));
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** For text and attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
