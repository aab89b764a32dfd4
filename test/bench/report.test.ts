/** The terminal table and the self-contained HTML report, rendered from a small fake report. */
import { describe, expect, it } from 'vitest';
import { escapeHtml, formatNumber, formatRatio, medianRun } from '../../bench/report/format.ts';
import { renderHtml } from '../../bench/report/html.ts';
import { niceTicks } from '../../bench/report/svg.ts';
import { renderTable } from '../../bench/report/table.ts';
import { fakeReport } from './report-fixture.ts';

describe('format', () => {
  it.each([
    [0, '0'], [0.1234, '0.123'], [0.5, '0.5'], [4.567, '4.57'], [78.94, '78.9'], [1234.4, '1,234'], [21_345.6, '21,346'],
  ])('formatNumber(%d) is %s', (n, s) => expect(formatNumber(n)).toBe(s));

  it('formats ratios and escapes text', () => {
    expect(formatRatio(0.7115)).toBe('0.71×');
    expect(formatRatio(23.72)).toBe('23.7×');
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('picks the run nearest the median throughput', () => {
    expect(medianRun(fakeReport().scenarios[0]!)?.p99).toBe(14);
  });

  it.each([[0, [0, 1]], [7, [0, 2, 4, 6, 8]], [100, [0, 20, 40, 60, 80, 100]], [21_536, [0, 5000, 10_000, 15_000, 20_000, 25_000]]])(
    'niceTicks(%d)', (max, ticks) => expect(niceTicks(max)).toEqual(ticks));
});

describe('renderHtml', () => {
  const report = fakeReport();
  const html = renderHtml(report);

  it('is one self-contained page: no scripts, no external resources', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<[^>]*\ssrc=|@import|url\(/i);
    const urls = html.match(/https?:\/\/[^\s"'<>]+/g) ?? [];
    expect(urls.every((u) => u === 'http://www.w3.org/2000/svg')).toBe(true);
  });

  it('escapes every text it embeds', () => {
    expect(html).toContain('fanout &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('Fake CPU &lt;b&gt;&quot;turbo&quot;&lt;/b&gt; &amp; co');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('spectators &amp; writers share 2 cores; &lt;em&gt;not&lt;/em&gt; isolated');
    expect(html).not.toContain('<em>');
    expect(html).not.toContain('<b>');
  });

  it('has the machine, the date and a summary row per scenario with targets and ratios', () => {
    for (const text of ['2025-01-02T03:04:05.000Z', 'v20.20.2', '23.4 GiB', 'linux x64']) expect(html).toContain(text);
    const summary = html.slice(html.indexOf('<h2>Summary</h2>'), html.indexOf('</section>'));
    expect(summary.match(/<tr>/g)).toHaveLength(1 + report.scenarios.length);
    expect(summary).toContain('21,346 submits/s');
    expect(summary).toContain('pgbench batched <strong>0.71×</strong>');
    expect(summary).toContain('class="pill met"');
    expect(summary).toContain('class="pill not-met"');
    expect(summary).toContain('class="pill no-target"');
  });

  it('draws a throughput chart per scenario, one line per run, and latency bars where there are latencies', () => {
    const sections = html.split('<section id="scenario-').slice(1);
    expect(sections).toHaveLength(report.scenarios.length);
    sections.forEach((section, i) => {
      expect(section).toContain('<svg');
      const timelines = report.scenarios[i]!.runs.filter((r) => r.timeline.length > 0).length;
      expect(section.match(/<polyline/g) ?? []).toHaveLength(timelines);
    });
    expect(sections[0]!.match(/<rect/g)).toHaveLength(3);
    expect(sections[2]).toContain('No latency figures');
    expect(sections[2]).toContain('no per-second figures');
  });
});

describe('renderTable', () => {
  const report = fakeReport();

  it('has no colour codes when colour is off, and some when on', () => {
    expect(renderTable(report, { color: false })).not.toMatch(/\x1b\[/);
    expect(renderTable(report, { color: true })).toMatch(/\x1b\[32mmet/);
  });

  it('follows NO_COLOR by default', () => {
    const before = process.env.NO_COLOR;
    process.env.NO_COLOR = '1';
    try {
      expect(renderTable(report)).not.toMatch(/\x1b\[/);
    } finally {
      if (before === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = before;
    }
  });

  it('aligns the columns: right-aligned results end under their header', () => {
    const lines = renderTable(report, { color: false }).split('\n');
    const header = lines.find((l) => l.startsWith('scenario'))!;
    const end = header.indexOf('result (median)') + 'result (median)'.length;
    const rows = lines.slice(lines.indexOf(header) + 2, lines.indexOf(header) + 2 + report.scenarios.length);
    expect(rows.map((r) => r.slice(0, end).split(/\s{2,}/).pop())).toEqual(['21,346 submits/s', '140 ms p99', '8.20 s']);
    expect(rows[1]).toContain('NOT MET');
    expect(rows[0]).toContain('pgbench batched 0.71×, socket.io peer 23.7×');
  });

  it('prints the machine and the notes', () => {
    const text = renderTable(report, { color: false });
    expect(text).toContain('2 cores, 23.4 GiB, Fake CPU');
    expect(text).toContain('notes:');
    expect(text).toContain('spectators & writers share 2 cores');
  });
});
