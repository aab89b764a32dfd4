/** Reading redis-benchmark's --csv output, including its unescaped quotes in custom command names. */
import { describe, expect, it } from 'vitest';
import { parseRedisBenchmarkCsv } from '../../bench/baselines/redis-csv.ts';
import { isLoopbackHost } from '../../bench/baselines/loopback.ts';

const HEADER = '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"';

describe('parseRedisBenchmarkCsv', () => {
  it('reads redis-benchmark 7 rows by their header', () => {
    const rows = parseRedisBenchmarkCsv(`${HEADER}\n"ZADD bench:rb:z __rand_int__ __rand_int__","36166.37","0.100","0.032","0.087","0.175","0.487","2.519"\n`);
    expect(rows).toEqual([{
      test: 'ZADD bench:rb:z __rand_int__ __rand_int__',
      rps: 36166.37,
      columns: { rps: 36166.37, avg_latency_ms: 0.1, min_latency_ms: 0.032, p50_latency_ms: 0.087, p95_latency_ms: 0.175, p99_latency_ms: 0.487, max_latency_ms: 2.519 },
    }]);
  });

  it('keeps a name holding unescaped quotes and commas whole', () => {
    const rows = parseRedisBenchmarkCsv(`${HEADER}\r\n"EVAL "return 1","2" 0","1000.00","0.1","0.1","0.1","0.1","0.1","0.1"\r\n`);
    expect(rows[0]!.test).toBe('EVAL "return 1","2" 0');
    expect(rows[0]!.rps).toBe(1000);
  });

  it('reads the two-column format of older versions and several rows', () => {
    const rows = parseRedisBenchmarkCsv('"PING_INLINE","19230.77"\n"SET","60606.06"\n');
    expect(rows.map((r) => [r.test, r.rps])).toEqual([['PING_INLINE', 19230.77], ['SET', 60606.06]]);
  });

  it('skips progress and error lines', () => {
    const text = `${HEADER}\nZADD: rps=12000.0 (overall: 11000.0) avg_msec=0.2\r"ZADD","5.00","1","1","1","1","1","1"\nError from server: NOSCRIPT No matching script\n`;
    expect(parseRedisBenchmarkCsv(text).map((r) => r.test)).toEqual(['ZADD']);
  });

  it('finds nothing in empty output', () => {
    expect(parseRedisBenchmarkCsv('')).toEqual([]);
    expect(parseRedisBenchmarkCsv(HEADER)).toEqual([]);
  });
});

describe('isLoopbackHost', () => {
  it.each(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '/var/run/postgresql'])('%s is local', (h) => {
    expect(isLoopbackHost(h)).toBe(true);
  });
  it.each(['10.0.0.1', 'example.com', '0.0.0.0', '128.0.0.1', '127.0.0.1.example.com'])('%s is not', (h) => {
    expect(isLoopbackHost(h)).toBe(false);
  });
});
