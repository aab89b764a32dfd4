/** The in-flight count a graceful shutdown waits on. */
import { describe, expect, it } from 'vitest';
import { Inflight } from '../../server/inflight.ts';

const later = <T>(ms: number, v: T, fail = false) => new Promise<T>((resolve, reject) => setTimeout(() => (fail ? reject(new Error('x')) : resolve(v)), ms));

describe('Inflight', () => {
  it('counts work until it settles, rejections included, and hands the promise back unchanged', async () => {
    const f = new Inflight();
    const a = f.track(later(20, 'a'));
    const b = f.track(later(10, 'b', true));
    expect(f.size).toBe(2);
    await expect(b).rejects.toThrow('x');
    expect(f.size).toBe(1);
    expect(await a).toBe('a');
    expect(f.size).toBe(0);
  });

  it('drains to true once everything settles, work added while draining included', async () => {
    const f = new Inflight();
    f.track(later(20, 1));
    const drained = f.drain(2_000);
    setTimeout(() => f.track(later(30, 2)), 5);
    const t0 = Date.now();
    expect(await drained).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    expect(f.size).toBe(0);
    expect(await f.drain(10)).toBe(true);
  });

  it('drains to false when work outlives the deadline, and can drain again later', async () => {
    const f = new Inflight();
    f.track(later(200, 1));
    expect(await f.drain(20)).toBe(false);
    expect(f.size).toBe(1);
    expect(await f.drain(2_000)).toBe(true);
  });
});
