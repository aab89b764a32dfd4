/** Reads pgbench's summary (PostgreSQL 10 to 17 wording) into numbers (pure). */

export interface PgbenchSummary {
  /** Transactions per second, without connection time when pgbench reports both. */
  tps: number;
  /** Transactions completed (the first number of "actually processed"). */
  transactions: number;
  /** Failed transactions (pgbench 15+; 0 when not reported). */
  failed: number;
  latencyAvgMs: number | null;
  clients: number | null;
  durationS: number | null;
  /** pgbench said the run was aborted: its figures are incomplete. */
  aborted: boolean;
}

const NUM = '([0-9]+(?:\\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)';

function match(text: string, re: RegExp): string | undefined {
  return re.exec(text)?.[1];
}

export function parsePgbenchOutput(text: string): PgbenchSummary {
  const t = text.replace(/\r\n?/g, '\n');
  // Only summary lines start at column 0; per-script sections (several -f) are indented " - ".
  const tpsLines = [...t.matchAll(new RegExp(`^tps = ${NUM}(.*)$`, 'gm'))];
  if (tpsLines.length === 0) throw new Error(`pgbench output has no "tps = " line:\n${t.trim().split('\n').slice(-8).join('\n')}`);
  // Old versions print "including connections establishing" and "excluding ..."; 14+ prints one
  // line "(without initial connection time)". Prefer the one without connection set-up.
  const preferred = tpsLines.find((m) => /excluding|without/.test(m[2] ?? '')) ?? tpsLines[tpsLines.length - 1]!;
  const tps = Number(preferred[1]);

  const processed = match(t, /^number of transactions actually processed: ([0-9]+)/m);
  const failed = match(t, /^number of failed transactions: ([0-9]+)/m);
  const latency = match(t, new RegExp(`^latency average = ${NUM} ms`, 'm'));
  const clients = match(t, /^number of clients: ([0-9]+)/m);
  const duration = match(t, /^duration: ([0-9]+) s/m);
  return {
    tps,
    transactions: processed === undefined ? 0 : Number(processed),
    failed: failed === undefined ? 0 : Number(failed),
    latencyAvgMs: latency === undefined ? null : Number(latency),
    clients: clients === undefined ? null : Number(clients),
    durationS: duration === undefined ? null : Number(duration),
    aborted: /Run was aborted/.test(t),
  };
}
