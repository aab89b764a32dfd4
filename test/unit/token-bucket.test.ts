/**
 * The token bucket and the buckets by key, on a clock passed in: a full burst at first, refusal
 * with the wait until the next token, refill at `rate` up to `burst`, and forgetting full buckets.
 */
import { describe, expect, it } from 'vitest';
import { BucketMap, TokenBucket } from '../../server/limits/token-bucket.ts';

describe('TokenBucket', () => {
  it('allows a full burst at once, then refuses with the milliseconds until the next token', () => {
    const b = new TokenBucket(2, 3, 0); // 2 tokens a second, up to 3
    expect([b.take(0), b.take(0), b.take(0)]).toEqual([0, 0, 0]);
    expect(b.take(0)).toBe(500); // one token takes 1/rate seconds
    expect(b.take(0)).toBe(500); // a refusal takes nothing
  });

  it('reports the remaining wait as the next token refills', () => {
    const b = new TokenBucket(2, 1, 0);
    expect(b.take(0)).toBe(0);
    expect(b.take(250)).toBe(250); // half a token back after 250 ms
    expect(b.wait(375)).toBe(125);
    expect(b.take(499)).toBeGreaterThan(0);
    expect(b.take(500)).toBe(0);
  });

  it('refills at rate tokens a second, never past the burst', () => {
    const b = new TokenBucket(10, 5, 0);
    for (let i = 0; i < 5; i++) expect(b.take(0)).toBe(0);
    expect(b.take(0)).toBeGreaterThan(0);
    // 300 ms at 10/s: three tokens back.
    expect([b.take(300), b.take(300), b.take(300)]).toEqual([0, 0, 0]);
    expect(b.take(300)).toBe(100);
    // A long idle spell refills to the burst only.
    let taken = 0;
    while (b.take(60_000) === 0) taken++;
    expect(taken).toBe(5);
  });

  it('rounds a fractional wait up, so a retry after it finds a token', () => {
    const b = new TokenBucket(3, 1, 0);
    expect(b.take(0)).toBe(0);
    const wait = b.take(0);
    expect(wait).toBe(334); // 1/3 s
    expect(b.take(wait - 1)).toBeGreaterThan(0);
    expect(b.take(wait)).toBe(0);
  });

  it('waits without taking', () => {
    const b = new TokenBucket(1, 1, 0);
    expect(b.wait(0)).toBe(0);
    expect(b.wait(0)).toBe(0);
    expect(b.take(0)).toBe(0);
    expect(b.wait(250)).toBe(750);
    expect(b.wait(1000)).toBe(0);
    expect(b.take(1000)).toBe(0);
  });

  it('is idle once full again', () => {
    const b = new TokenBucket(4, 2, 0);
    expect(b.idle(0)).toBe(true);
    b.take(0);
    expect(b.idle(0)).toBe(false);
    expect(b.idle(249)).toBe(false);
    expect(b.idle(250)).toBe(true);
  });
});

describe('BucketMap', () => {
  it('keeps one bucket per key', () => {
    const m = new BucketMap(1, 2);
    expect([m.take('a', 0), m.take('a', 0)]).toEqual([0, 0]);
    expect(m.take('a', 0)).toBe(1000);
    expect(m.take('b', 0)).toBe(0); // another key has its own burst
    expect(m.wait('a', 0)).toBe(1000);
    expect(m.wait('b', 0)).toBe(0);
    expect(m.wait('unknown', 0)).toBe(0); // no bucket: a full one
    expect(m.size).toBe(2);
  });

  it('forgets full buckets on a sweep and keeps the others', () => {
    const m = new BucketMap(1, 2);
    m.take('a', 0);
    m.take('a', 0);
    m.take('b', 0);
    m.sweep(1000); // b is full again (1 + 1), a holds one token of two
    expect(m.size).toBe(1);
    expect(m.wait('b', 1000)).toBe(0);
    expect(m.take('a', 1000)).toBe(0);
    expect(m.take('a', 1000)).toBe(1000); // a's state survived the sweep
    m.sweep(3000);
    expect(m.size).toBe(0);
  });
});
