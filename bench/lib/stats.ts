/** Latency and run statistics for the bench (pure). */

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Latency samples in a growable Float64Array (millions of samples without boxing). */
export class Samples {
  private data = new Float64Array(1 << 16);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }

  merge(other: Float64Array): void {
    for (let i = 0; i < other.length; i++) this.push(other[i]!);
  }

  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort();
  }

  toArray(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

export function summarize(latencies: Float64Array, count: number, durationS: number) {
  const s = latencies.slice().sort();
  return { throughput: count / durationS, p50: percentile(s, 50), p99: percentile(s, 99), max: s.length ? s[s.length - 1]! : 0 };
}
