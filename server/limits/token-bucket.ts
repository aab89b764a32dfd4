/**
 * An in-process token bucket: `rate` tokens per second up to `burst`, and buckets by key. Pure
 * apart from the clock passed in, so test/unit/token-bucket.test.ts tests it without waiting.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes one token: 0 when allowed, else the milliseconds until one will be available. */
  take(now: number): number {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }

  /** The milliseconds until a token is available (0: one is), taking nothing. */
  wait(now: number): number {
    const tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / this.rate) * 1000);
  }

  /** True when the bucket is full again (it can be forgotten). */
  idle(now: number): boolean {
    return this.tokens + ((now - this.last) / 1000) * this.rate >= this.burst;
  }
}

/** Buckets by key (an IP, say), forgetting full ones so memory follows the active keys only. */
export class BucketMap {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {}

  take(key: string, now: number): number {
    let b = this.buckets.get(key);
    if (!b) {
      b = new TokenBucket(this.rate, this.burst, now);
      this.buckets.set(key, b);
    }
    return b.take(now);
  }

  /** As TokenBucket.wait; 0 for a key with no bucket (a full one). */
  wait(key: string, now: number): number {
    return this.buckets.get(key)?.wait(now) ?? 0;
  }

  sweep(now: number): void {
    for (const [k, b] of this.buckets) if (b.idle(now)) this.buckets.delete(k);
  }

  get size(): number {
    return this.buckets.size;
  }
}
