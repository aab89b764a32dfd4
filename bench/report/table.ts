/**
 * The bench report as a terminal table (pure): aligned columns, numbers right-aligned, met / not
 * met in green / red unless colour is off (NO_COLOR set, or `color: false`).
 */
import type { BenchReport, ScenarioResult } from '../lib/result.ts';
import { formatNumber, formatRatio, hasLatency, targetStatus, totalErrors } from './format.ts';

export interface TableOptions {
  /** Default: on unless the NO_COLOR environment variable is set to anything non-empty. */
  color?: boolean;
}

const ANSI = { green: '\x1b[32m', red: '\x1b[31m', dim: '\x1b[2m', bold: '\x1b[1m', reset: '\x1b[0m' };
const ANSI_RE = /\x1b\[[0-9;]*m/g;

function visibleLength(s: string): number {
  return [...s.replace(ANSI_RE, '')].length;
}

type Align = 'left' | 'right';

function layout(header: string[], rows: string[][], align: Align[]): string[] {
  const widths = header.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => {
        const pad = ' '.repeat(widths[i]! - visibleLength(c));
        return align[i] === 'right' ? pad + c : c + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

function row(s: ScenarioResult, paint: (code: keyof typeof ANSI, text: string) => string): string[] {
  const lat = hasLatency(s.median);
  const status = targetStatus(s);
  const statusText = status === 'met' ? paint('green', 'met') : status === 'not met' ? paint('red', 'NOT MET') : paint('dim', '-');
  const errors = totalErrors(s);
  return [
    s.scenario,
    `${formatNumber(s.headline)} ${s.unit}`,
    lat ? formatNumber(s.median.p50) : '-',
    lat ? formatNumber(s.median.p99) : '-',
    lat ? formatNumber(s.median.max) : '-',
    String(s.runs.length),
    errors ? paint('red', formatNumber(errors)) : '0',
    s.target?.text ?? '-',
    statusText,
    s.comparisons.map((c) => `${c.name} ${formatRatio(c.ratio)}`).join(', ') || '-',
  ];
}

export function renderTable(report: BenchReport, opts: TableOptions = {}): string {
  const color = opts.color ?? !process.env.NO_COLOR;
  const paint = (code: keyof typeof ANSI, text: string) => (color ? `${ANSI[code]}${text}${ANSI.reset}` : text);
  const m = report.machine;
  const title = `Leaderboard bench, ${report.startedAt}${report.quick ? ' (quick: smoke sizes, no thresholds)' : ''}`;
  const machine = `${m.cores} cores, ${formatNumber(m.memoryGiB)} GiB, ${m.cpuModel}, node ${m.node}, ${m.platform}`;
  const header = ['scenario', 'result (median)', 'p50 ms', 'p99 ms', 'max ms', 'runs', 'errors', 'target', 'met', 'ours / theirs'];
  const align: Align[] = ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'left', 'left', 'left'];
  const lines = [paint('bold', title), machine, '', ...layout(header, report.scenarios.map((s) => row(s, paint)), align)];
  const notes = report.scenarios.flatMap((s) => s.notes.map((n) => `  ${s.scenario}: ${n}`));
  if (notes.length) lines.push('', 'notes:', ...notes);
  return `${lines.join('\n')}\n`;
}
