/** Reads redis-benchmark's `--csv` output (pure). */

export interface RedisBenchRow {
  /** The test name as printed: a built-in test ("SET") or a custom command line. */
  test: string;
  rps: number;
  /** Further columns by their header name ("avg_latency_ms", "p99_latency_ms", ...), when printed. */
  columns: Record<string, number>;
}

/**
 * redis-benchmark does not escape quotes inside the test name (a custom command containing `"` is
 * printed as is), so a row is read from the right: its last (header width - 1) fields are numbers
 * and whatever precedes them is the name. Without a header line (redis-benchmark 5 and 6.0 print
 * `"NAME","rps"`), rows are taken as two columns.
 */
export function parseRedisBenchmarkCsv(text: string): RedisBenchRow[] {
  const lines = text.split(/\r\n|\r|\n/).map((l) => l.trim()).filter((l) => l.startsWith('"') && l.endsWith('"'));
  let header = ['test', 'rps'];
  const rows: RedisBenchRow[] = [];
  for (const line of lines) {
    const parts = line.slice(1, -1).split('","');
    if (parts[0] === 'test' && parts[1] === 'rps') {
      header = parts;
      continue;
    }
    const width = header.length - 1;
    if (parts.length < width + 1) continue; // not a result row (a message line in quotes)
    const values = parts.slice(parts.length - width).map(Number);
    if (values.some((v) => !Number.isFinite(v))) continue;
    const columns: Record<string, number> = {};
    header.slice(1).forEach((name, i) => (columns[name] = values[i]!));
    rows.push({ test: parts.slice(0, parts.length - width).join('","'), rps: values[0]!, columns });
  }
  return rows;
}
