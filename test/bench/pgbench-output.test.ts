/** Reading pgbench's summary, across the wordings of PostgreSQL 10 to 17. */
import { describe, expect, it } from 'vitest';
import { parsePgbenchOutput } from '../../bench/baselines/pgbench-output.ts';
import { strideFor } from '../../bench/baselines/pgbench-scripts.ts';

const PG15 = `pgbench (15.20 (Debian 15.20-0+deb12u1))
transaction type: /tmp/lb-pgbench-x4OAwZ/single-row.sql
scaling factor: 1
query mode: simple
number of clients: 8
number of threads: 2
maximum number of tries: 3
duration: 3 s
number of transactions actually processed: 8290
number of failed transactions: 0 (0.000%)
number of transactions retried: 0 (0.000%)
total number of retries: 0
latency average = 2.898 ms
initial connection time = 19.797 ms
tps = 2760.611371 (without initial connection time)
`;

const PG12 = `starting vacuum...end.
transaction type: <builtin: TPC-B (sort of)>
scaling factor: 1
query mode: simple
number of clients: 4
number of threads: 2
duration: 10 s
number of transactions actually processed: 12345
latency average = 3.241 ms
tps = 1230.5 (including connections establishing)
tps = 1234.25 (excluding connections establishing)
`;

describe('parsePgbenchOutput', () => {
  it('reads the PostgreSQL 15 summary', () => {
    expect(parsePgbenchOutput(PG15)).toEqual({
      tps: 2760.611371, transactions: 8290, failed: 0, latencyAvgMs: 2.898, clients: 8, durationS: 3, aborted: false,
    });
  });

  it('prefers the figure without connection set-up in older versions', () => {
    const r = parsePgbenchOutput(PG12);
    expect(r.tps).toBe(1234.25);
    expect(r.transactions).toBe(12345);
    expect(r.failed).toBe(0);
  });

  it('accepts CRLF line ends and ignores indented per-script figures', () => {
    const multi = `${PG15}SQL script 1: a.sql\n - weight: 1 (targets 50.0% of total)\n - 4000 transactions (48.3% of total, tps = 99.000000)\n`;
    expect(parsePgbenchOutput(multi.replace(/\n/g, '\r\n')).tps).toBe(2760.611371);
  });

  it('counts failed transactions and notices an aborted run', () => {
    const text = PG15.replace('number of failed transactions: 0 (0.000%)', 'number of failed transactions: 17 (0.204%)')
      + 'pgbench: error: client 3 script 0 aborted in command 4 query 0\nRun was aborted; the above results are incomplete.\n';
    const r = parsePgbenchOutput(text);
    expect(r.failed).toBe(17);
    expect(r.aborted).toBe(true);
  });

  it('reads "processed" with a target count (-t)', () => {
    expect(parsePgbenchOutput(PG15.replace('processed: 8290', 'processed: 8290/10000')).transactions).toBe(8290);
  });

  it('throws with the tail of the output when there is no tps line', () => {
    expect(() => parsePgbenchOutput('pgbench: error: connection to server failed\n')).toThrow(/connection to server failed/);
  });
});

describe('strideFor', () => {
  it.each([100_000, 7919, 7919 * 7927, 1000])('gives distinct batch users for %d users', (users) => {
    const stride = strideFor(users);
    expect(users % stride).not.toBe(0);
    const ids = new Set(Array.from({ length: 100 }, (_, i) => 1 + ((12345 + (i + 1) * stride) % users)));
    expect(ids.size).toBe(100);
  });
});
