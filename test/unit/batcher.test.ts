/**
 * The batcher: calls of one turn form one batch, at most maxConcurrent batches run, a batch that
 * hands work to `hold` keeps its slot until that work settles, and calls that wait longer than
 * maxWaitMs for a slot are refused.
 */
import { describe, expect, it } from 'vitest';
import { Batcher } from '../../server/batcher.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Batcher', () => {
  it('batches the calls of one turn and answers each with its own result', async () => {
    const sizes: number[] = [];
    const b = new Batcher<number, number>(async (xs) => xs.map((x) => (x < 0 ? new Error(`bad ${x}`) : x * 2)), { maxBatch: 10, maxConcurrent: 1 }, (n) =>
      sizes.push(n),
    );
    const results = await Promise.allSettled([1, 2, -3, 4].map((x) => b.add(x)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([2, 4, 'bad -3', 8]);
    expect(sizes).toEqual([4]);
  });

  it('keeps a slot taken by held work after the batch is answered, and frees it when the work ends', async () => {
    let finish!: () => void;
    const work = new Promise<void>((r) => (finish = r));
    const started: number[][] = [];
    const b = new Batcher<number, number>(
      async (xs, hold) => {
        started.push(xs);
        if (xs[0] === 1) hold(work);
        return xs;
      },
      { maxBatch: 1, maxConcurrent: 1 },
    );
    expect(await b.add(1)).toBe(1); // answered while its work goes on
    const second = b.add(2);
    await sleep(30);
    expect(started).toEqual([[1]]); // the only slot is still held
    finish();
    expect(await second).toBe(2);
    expect(started).toEqual([[1], [2]]);
  });

  it('refuses calls that wait for a slot longer than maxWaitMs, and runs the rest once a slot frees', async () => {
    let finish!: () => void;
    const blocked = new Promise<void>((r) => (finish = r));
    const b = new Batcher<number, number>(
      async (xs) => {
        if (xs[0] === 0) await blocked;
        return xs;
      },
      { maxBatch: 1, maxConcurrent: 1, maxWaitMs: 50, expired: () => new Error('expired') },
    );
    const first = b.add(0);
    await sleep(5);
    const waiting = b.add(1);
    const t0 = Date.now();
    await expect(waiting).rejects.toThrow('expired');
    expect(Date.now() - t0).toBeLessThan(1000);
    const late = b.add(2);
    finish();
    expect(await first).toBe(0);
    expect(await late).toBe(2);
    await sleep(10);
    expect(b.size).toBe(0);
  });

  it('never runs calls with the same key in two batches at once, keeping their order', async () => {
    const log: string[] = [];
    let inFlight = new Set<string>();
    const b = new Batcher<string, string>(
      async (xs) => {
        const keys = new Set(xs.map((x) => x[0]!));
        for (const k of keys) expect(inFlight.has(k), `key ${k} in two batches`).toBe(false);
        inFlight = new Set([...inFlight, ...keys]);
        log.push(xs.join(','));
        await sleep(5);
        for (const k of keys) inFlight.delete(k);
        return xs;
      },
      { maxBatch: 2, maxConcurrent: 4, keyOf: (x) => x[0] },
    );
    // a1 a2 fill the first batch; a3 must wait for it although slots are free; b1 c1 go at once.
    const calls = ['a1', 'a2', 'a3', 'b1', 'c1', 'a4'].map((x) => b.add(x));
    expect(await Promise.all(calls)).toEqual(['a1', 'a2', 'a3', 'b1', 'c1', 'a4']);
    expect(log).toEqual(['a1,a2', 'b1,c1', 'a3,a4']);
  });

  it('sheds at once what would wait past shedAfterMs, and takes calls again once the queue drains', async () => {
    let release!: () => void;
    let gate = new Promise<void>((r) => (release = r));
    const b = new Batcher<number, number>(
      async (xs) => {
        await gate;
        return xs;
      },
      { maxBatch: 2, maxConcurrent: 1, shedAfterMs: 50, overloaded: (ms) => new Error(`overloaded, retry in ${ms} ms`) },
    );
    // A stalled runner: nothing completes; a cold start is let run, but once the running batch is
    // older than shedAfterMs and a full batch waits, new calls are shed at once.
    const first = [b.add(1), b.add(2)]; // the running batch
    await sleep(5);
    const queued = [b.add(3), b.add(4)]; // a full batch waiting
    const cold = b.add(7); // not shed: the running batch is young
    await sleep(60);
    const started = performance.now();
    await expect(b.add(5)).rejects.toThrow(/overloaded, retry in \d+ ms/);
    expect(performance.now() - started).toBeLessThan(20);
    release();
    expect(await Promise.all(first)).toEqual([1, 2]);
    expect(await Promise.all(queued)).toEqual([3, 4]);
    expect(await cold).toBe(7);
    // Drained and completing fast again: the same call is taken.
    gate = Promise.resolve();
    expect(await b.add(6)).toBe(6);
  });

  it('refuses at once a call beyond maxQueued waiting, even while batches complete, and takes calls again below it', async () => {
    const release: (() => void)[] = [];
    const b = new Batcher<number, number>(
      async (xs) => {
        await new Promise<void>((r) => release.push(r));
        return xs;
      },
      { maxBatch: 2, maxConcurrent: 1, maxQueued: 3, overloaded: (ms) => new Error(`overloaded, retry in ${ms} ms`) },
    );
    const running = [b.add(1), b.add(2)];
    await sleep(5); // the first batch runs; what follows waits
    const waiting = [b.add(3), b.add(4), b.add(5)];
    const started = performance.now();
    await expect(b.add(6)).rejects.toThrow(/overloaded, retry in 250 ms/);
    expect(performance.now() - started).toBeLessThan(20);
    release.shift()!(); // a batch completes: 3 and 4 go out, one call waits
    expect(await Promise.all(running)).toEqual([1, 2]);
    await sleep(5);
    const taken = b.add(7); // below the bound again
    while (release.length > 0 || b.size > 0) {
      release.shift()?.();
      await sleep(5);
    }
    expect(await Promise.all(waiting)).toEqual([3, 4, 5]);
    expect(await taken).toBe(7);
  });
});
