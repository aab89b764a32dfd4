/**
 * The bench report as one self-contained HTML page (pure): no scripts, fonts or anything fetched;
 * charts are inline SVG. Every text taken from the report is escaped.
 */
import type { BenchReport, ScenarioResult } from '../lib/result.ts';
import { escapeHtml as e, formatNumber, formatRatio, hasLatency, medianRun, targetStatus, totalErrors } from './format.ts';
import { barChart, lineChart } from './svg.ts';

const STYLE = `
:root { color-scheme: light dark; --bg: #f7f7f5; --fg: #1b1b1f; --muted: #55575e; --card: #ffffff; --line: #d6d6d9;
  --ok-bg: #dff3e5; --ok-fg: #0c5a26; --bad-bg: #fbe3e3; --bad-fg: #8f1419; --na-bg: #ebebee; --na-fg: #44464d; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #131416; --fg: #ececef; --muted: #a8abb3; --card: #1d1f23; --line: #3a3d44;
    --ok-bg: #173d24; --ok-fg: #9fe3b4; --bad-bg: #4a1a1c; --bad-fg: #ffb4b4; --na-bg: #2b2d33; --na-fg: #c9cbd1; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header, main, footer { max-width: 1100px; margin: 0 auto; padding: 0 16px; }
header { padding-top: 24px; }
h1 { font-size: 1.7rem; margin: 0 0 4px; }
h2 { font-size: 1.3rem; margin: 0 0 8px; }
.muted { color: var(--muted); }
.machine { display: flex; flex-wrap: wrap; gap: 8px 24px; margin: 12px 0 0; padding: 0; }
.machine div { display: flex; gap: 6px; }
.machine dt { color: var(--muted); }
.machine dd { margin: 0; font-weight: 600; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px; margin: 20px 0; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .85rem; color: var(--muted); font-weight: 600; }
td.num { text-align: right; white-space: nowrap; }
table.summary { min-width: 820px; } /* scrolls sideways on a phone rather than wrapping every cell */
.pill { display: inline-block; padding: 1px 10px; border-radius: 999px; font-size: .85rem; font-weight: 600; white-space: nowrap; }
.pill.met { background: var(--ok-bg); color: var(--ok-fg); }
.pill.not-met { background: var(--bad-bg); color: var(--bad-fg); }
.pill.no-target { background: var(--na-bg); color: var(--na-fg); }
.headline { font-size: 1.6rem; font-weight: 700; margin: 0 8px 0 0; }
.head-row { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px; margin-bottom: 8px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 16px; }
figure { margin: 0; }
figcaption { font-size: .9rem; color: var(--muted); }
svg.chart { width: 100%; height: auto; display: block; color: var(--fg); }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg text { fill: currentColor; font-size: 15px; }
svg .legend, svg .axis-label { font-size: 14px; }
svg .tick, svg .axis-label, svg .empty { fill: var(--muted); }
svg .value { font-weight: 600; }
ul.comparisons, ul.notes { margin: 8px 0 0; padding-left: 20px; }
details { margin-top: 10px; }
footer { padding-bottom: 24px; font-size: .85rem; color: var(--muted); }
`;

function pill(s: ScenarioResult): string {
  const status = targetStatus(s);
  return `<span class="pill ${status.replace(' ', '-')}">${status}</span>`;
}

function comparisonsInline(s: ScenarioResult): string {
  if (s.comparisons.length === 0) return '<span class="muted">–</span>';
  return s.comparisons.map((c) => `${e(c.name)} <strong>${formatRatio(c.ratio)}</strong>`).join('<br>');
}

function summaryTable(report: BenchReport): string {
  const rows = report.scenarios.map((s) => {
    const lat = hasLatency(s.median);
    return `<tr>
<td><a href="#${anchor(s)}">${e(s.scenario)}</a></td>
<td class="num">${formatNumber(s.headline)} ${e(s.unit)}</td>
<td class="num">${lat ? formatNumber(s.median.p50) : '–'}</td>
<td class="num">${lat ? formatNumber(s.median.p99) : '–'}</td>
<td class="num">${lat ? formatNumber(s.median.max) : '–'}</td>
<td class="num">${s.runs.length}</td>
<td>${s.target ? e(s.target.text) : '<span class="muted">–</span>'} ${pill(s)}</td>
<td>${comparisonsInline(s)}</td>
</tr>`;
  });
  return `<section><h2>Summary</h2><div class="table-wrap"><table class="summary">
<thead><tr><th>scenario</th><th>result (median)</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th><th>runs</th><th>target</th><th>compared with (ours / theirs)</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div></section>`;
}

function anchor(s: ScenarioResult): string {
  return `scenario-${s.scenario.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
}

function scenarioSection(s: ScenarioResult): string {
  const runs = s.runs.map((r, i) => ({ name: `run ${i + 1}`, values: r.timeline }));
  const throughput = lineChart({ title: `${s.scenario}: operations per second over time, one line per run`, unit: 'ops/s', series: runs });
  const mr = medianRun(s);
  const lat = mr && hasLatency(mr) ? mr : undefined;
  const latency = lat
    ? barChart({ title: `${s.scenario}: latency of the median run`, unit: 'ms', bars: [{ label: 'p50', value: lat.p50 }, { label: 'p99', value: lat.p99 }, { label: 'max', value: lat.max }] })
    : '';
  const comparisons = s.comparisons.length
    ? `<ul class="comparisons">${s.comparisons.map((c) => `<li>${e(c.name)}: ${formatNumber(c.value)} ${e(s.unit)}, ours / theirs = <strong>${formatRatio(c.ratio)}</strong></li>`).join('')}</ul>`
    : '';
  const params = Object.entries(s.params);
  const errors = totalErrors(s);
  const extras = mr?.extra ? Object.entries(mr.extra) : [];
  return `<section id="${anchor(s)}">
<h2>${e(s.scenario)}</h2>
<div class="head-row"><span class="headline">${formatNumber(s.headline)} ${e(s.unit)}</span>${s.target ? `<span>target ${e(s.target.text)}</span>` : ''} ${pill(s)}${errors ? ` <span class="pill not-met">${formatNumber(errors)} errors</span>` : ''}</div>
${comparisons}
<div class="charts">
<figure>${throughput}<figcaption>Throughput per second of each run.</figcaption></figure>
${lat ? `<figure>${latency}<figcaption>Latency of the median run (ms).</figcaption></figure>` : '<p class="muted">No latency figures for this scenario.</p>'}
</div>
${s.notes.length ? `<ul class="notes">${s.notes.map((n) => `<li>${e(n)}</li>`).join('')}</ul>` : ''}
${params.length || extras.length ? `<details><summary>Parameters and figures</summary><div class="table-wrap"><table><tbody>
${params.map(([k, v]) => `<tr><th>${e(k)}</th><td>${e(String(v))}</td></tr>`).join('\n')}
${extras.map(([k, v]) => `<tr><th>${e(k)} (median run)</th><td>${formatNumber(v)}</td></tr>`).join('\n')}
</tbody></table></div></details>` : ''}
</section>`;
}

export function renderHtml(report: BenchReport): string {
  const m = report.machine;
  const date = e(report.startedAt);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Leaderboard bench, ${date}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Leaderboard bench</h1>
<p class="muted">Started ${date}${report.quick ? ' · quick mode (smoke sizes, figures not meaningful)' : ''}</p>
<dl class="machine">
<div><dt>cores</dt><dd>${formatNumber(m.cores)}</dd></div>
<div><dt>memory</dt><dd>${formatNumber(m.memoryGiB)} GiB</dd></div>
<div><dt>CPU</dt><dd>${e(m.cpuModel)}</dd></div>
<div><dt>node</dt><dd>${e(m.node)}</dd></div>
<div><dt>platform</dt><dd>${e(m.platform)}</dd></div>
</dl>
</header>
<main>
${summaryTable(report)}
${report.scenarios.map(scenarioSection).join('\n')}
</main>
<footer>Server, PostgreSQL, Redis and the load generator all ran on the machine above. Latencies in milliseconds; results are medians over the runs.</footer>
</body>
</html>
`;
}
