/**
 * The report's two charts as inline SVG (pure): throughput over time, one line per run, and
 * latency percentiles as bars. Colours of text and axes come from the page's CSS (`currentColor`
 * and classes), so the charts follow its light or dark scheme.
 */
import { escapeHtml, formatCompact, formatNumber } from './format.ts';

/** Distinguishable on light and dark backgrounds, and for the common colour-vision deficiencies. */
export const SERIES_COLOURS = ['#2f6fdf', '#e07b00', '#179c74', '#c9388c', '#8a5cd6', '#0f93b3', '#8c6d1f'];

const W = 640;
const H = 280;
const M = { left: 60, right: 16, top: 36, bottom: 46 };

/** Ticks from 0 to at least `max`, 3 to 6 of them, on 1/2/2.5/5 steps. */
export function niceTicks(max: number): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks.length * step).toPrecision(12)));
  return ticks;
}

function frame(label: string, body: string, height = H): string {
  return `<svg class="chart" viewBox="0 0 ${W} ${height}" role="img" aria-label="${escapeHtml(label)}" xmlns="http://www.w3.org/2000/svg"><title>${escapeHtml(label)}</title>${body}</svg>`;
}

function yAxis(ticks: number[], y: (v: number) => number, unit: string): string {
  let out = '';
  for (const t of ticks) {
    const py = y(t).toFixed(1);
    out += `<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${py}" y2="${py}"/>`;
    out += `<text class="tick" x="${M.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${escapeHtml(formatCompact(t))}</text>`;
  }
  out += `<text class="axis-label" x="12" y="${M.top - 14}">${escapeHtml(unit)}</text>`;
  return out;
}

export interface Series {
  name: string;
  values: readonly number[];
}

export function lineChart(opts: { title: string; unit: string; series: readonly Series[] }): string {
  const n = Math.max(0, ...opts.series.map((s) => s.values.length));
  if (n === 0) {
    return frame(opts.title, `<text class="empty" x="${W / 2}" y="40" text-anchor="middle">no per-second figures for this scenario</text>`, 70);
  }
  const max = Math.max(0, ...opts.series.flatMap((s) => s.values));
  const ticks = niceTicks(max);
  const top = ticks[ticks.length - 1]!;
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const x = (i: number) => M.left + (n === 1 ? plotW / 2 : (i / (n - 1)) * plotW);
  const y = (v: number) => M.top + plotH - (v / top) * plotH;

  let body = yAxis(ticks, y, opts.unit);
  const every = Math.ceil(n / 12);
  for (let i = 0; i < n; i += every) {
    body += `<text class="tick" x="${x(i).toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle">${i + 1}</text>`;
  }
  body += `<text class="axis-label" x="${M.left + plotW / 2}" y="${H - 6}" text-anchor="middle">second of the run</text>`;
  opts.series.forEach((s, si) => {
    const colour = SERIES_COLOURS[si % SERIES_COLOURS.length]!;
    const pts = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    body += `<polyline fill="none" stroke="${colour}" stroke-width="2.5" stroke-linejoin="round" points="${pts.join(' ')}"><title>${escapeHtml(s.name)}</title></polyline>`;
    if (n <= 40) for (const p of pts) body += `<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${colour}"/>`;
    // Right-aligned, clear of the unit label at the top left.
    const inRow = Math.min(6, opts.series.length - (si < 6 ? 0 : 6));
    const lx = W - M.right - (inRow - (si % 6)) * 96 + 8;
    const ly = si < 6 ? 10 : 24; // a second legend row past six runs
    body += `<line x1="${lx}" x2="${lx + 18}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="3"/>`;
    body += `<text class="legend" x="${lx + 24}" y="${ly}" dominant-baseline="middle">${escapeHtml(s.name)}</text>`;
  });
  return frame(opts.title, body);
}

export function barChart(opts: { title: string; unit: string; bars: ReadonlyArray<{ label: string; value: number }> }): string {
  const max = Math.max(0, ...opts.bars.map((b) => b.value));
  const ticks = niceTicks(max);
  const top = ticks[ticks.length - 1]!;
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const y = (v: number) => M.top + plotH - (v / top) * plotH;
  const slot = plotW / Math.max(1, opts.bars.length);
  const bw = Math.min(120, slot * 0.6);

  let body = yAxis(ticks, y, opts.unit);
  opts.bars.forEach((b, i) => {
    const cx = M.left + slot * i + slot / 2;
    const by = y(b.value);
    const colour = SERIES_COLOURS[i % SERIES_COLOURS.length]!;
    body += `<rect x="${(cx - bw / 2).toFixed(1)}" y="${by.toFixed(1)}" width="${bw.toFixed(1)}" height="${(M.top + plotH - by).toFixed(1)}" fill="${colour}" rx="3"><title>${escapeHtml(`${b.label}: ${formatNumber(b.value)} ${opts.unit}`)}</title></rect>`;
    body += `<text class="value" x="${cx.toFixed(1)}" y="${(by - 6).toFixed(1)}" text-anchor="middle">${escapeHtml(formatNumber(b.value))}</text>`;
    body += `<text class="tick" x="${cx.toFixed(1)}" y="${H - M.bottom + 18}" text-anchor="middle">${escapeHtml(b.label)}</text>`;
  });
  return frame(opts.title, body);
}
