/** The bench's latency statistics. */
import { describe, expect, it } from 'vitest';
import { median, percentile, Samples, summarize } from '../../bench/lib/stats.ts';

describe('stats', () => {
  it('takes nearest-rank percentiles of sorted samples', () => {
    const s = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(s, 50)).toBe(50);
    expect(percentile(s, 99)).toBe(99);
    expect(percentile(s, 100)).toBe(100);
    expect(percentile(s, 0)).toBe(1);
    expect(percentile([], 99)).toBe(0);
  });

  it('takes medians of odd and even counts without reordering its input', () => {
    const v = [5, 1, 3];
    expect(median(v)).toBe(3);
    expect(v).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBe(0);
  });

  it('grows past its first buffer and merges', () => {
    const s = new Samples();
    for (let i = 0; i < 70_000; i++) s.push(70_000 - i);
    s.merge(Float64Array.of(0.5));
    expect(s.length).toBe(70_001);
    const sorted = s.sorted();
    expect(sorted[0]).toBe(0.5);
    expect(sorted[70_000]).toBe(70_000);
  });

  it('summarizes throughput and latency percentiles (numerically, not as text)', () => {
    const lat = Float64Array.of(10, 2, 100, 9, 1);
    expect(summarize(lat, 50, 10)).toEqual({ throughput: 5, p50: 9, p99: 100, max: 100 });
    expect(Array.from(lat)).toEqual([10, 2, 100, 9, 1]);
  });
});
