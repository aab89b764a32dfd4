/**
 * Coalesces calls made in the same event-loop turn (and while earlier batches are in flight) into
 * batches, runs at most `maxConcurrent` batches at once, and gives each caller its own result.
 * A batch may be answered before its work is over (a deadline passed): it then holds its slot
 * until that work ends, so abandoned work never piles up behind the limit. A call that waits
 * longer than `maxWaitMs` for a slot is refused. Under light load a call goes out alone on the
 * next turn; under heavy load batches grow by themselves, which is what makes group commit cheap:
 * no timer ever holds a request back. When the work has stopped moving (nothing completed for
 * `shedAfterMs`, every running batch older than that, a full batch waiting), new calls are refused
 * at once with `overloaded()` rather than after waiting out `maxWaitMs`, and calls are taken again
 * as soon as a batch completes. A queue that is moving but longer than `maxQueued` refuses new
 * calls at once too: offered more than it can take, the batcher answers the excess fast instead
 * of letting every call wait near its deadline.
 */
export interface BatcherOptions<I = unknown> {
  maxBatch: number;
  maxConcurrent: number;
  /** A call still waiting for a slot after this long is rejected with `expired()`. */
  maxWaitMs?: number;
  expired?: () => Error;
  /** Refuse new calls at once while nothing has completed for this long (see expectedWaitMs). */
  shedAfterMs?: number;
  overloaded?: (retryAfterMs: number) => Error;
  /** Calls waiting (not yet in a batch) beyond which a new call is refused at once with `overloaded()`. */
  maxQueued?: number;
  /**
   * Calls with the same key never run in two batches at once, so they take effect in the order
   * they were made (several may share one batch: the runner keeps their order within it).
   */
  keyOf?: (input: I) => unknown;
}

interface Pending<I, O> {
  input: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
  at: number;
}

/**
 * Runs one batch: returns one result (or an Error to reject with) per input, in order. Work that
 * goes on after the batch is answered is passed to `hold`: the slot stays taken until it settles.
 */
export type BatchRunner<I, O> = (inputs: I[], hold: (work: Promise<unknown>) => void) => Promise<(O | Error)[]>;

/** The wait suggested to a call refused because the queue is full (it drains within about that). */
const QUEUE_FULL_RETRY_MS = 250;

export class Batcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private running = 0;
  private scheduled = false;
  private sweeper: NodeJS.Timeout | undefined;
  /** Keys of the calls in running batches (a key is in one running batch at most: see take()). */
  private readonly busy = new Set<unknown>();
  /** When a batch last completed (performance.now()). */
  private lastCompleted = -Infinity;
  /** When each running batch started. */
  private readonly started = new Set<{ at: number }>();

  constructor(
    private readonly run: BatchRunner<I, O>,
    private readonly opts: BatcherOptions<I>,
    private readonly onBatch?: (size: number) => void,
  ) {}

  add(input: I): Promise<O> {
    const shed = this.queue.length >= (this.opts.maxQueued ?? Infinity) ? QUEUE_FULL_RETRY_MS : this.expectedWaitMs();
    if (shed !== undefined) return Promise.reject(this.opts.overloaded?.(Math.min(1000, Math.ceil(shed))) ?? new Error('overloaded'));
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject, at: Date.now() });
      if (this.opts.maxWaitMs !== undefined && !this.sweeper) this.armSweeper(this.opts.maxWaitMs);
      if (!this.scheduled) {
        this.scheduled = true;
        // After this turn's I/O callbacks: every frame read in this turn joins the batch.
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  /**
   * How long to tell a call added now to wait before retrying, when it should be shed: a full
   * batch is already waiting, nothing has completed for `shedAfterMs`, and every running batch is
   * older than that (the store is not answering: a batch that old is answered at its deadline
   * anyway, so the call could not be served in time). Undefined otherwise, a cold start or a slow
   * but moving queue included: those are left to `maxWaitMs`.
   */
  private expectedWaitMs(): number | undefined {
    const limit = this.opts.shedAfterMs;
    if (limit === undefined || this.queue.length < this.opts.maxBatch || this.started.size === 0) return undefined;
    const now = performance.now();
    if (now - this.lastCompleted < limit) return undefined;
    const youngest = Math.max(...[...this.started].map((b) => b.at));
    return now - youngest > limit ? Math.min(limit, 1000) : undefined;
  }

  /** Calls waiting or running. */
  get size(): number {
    return this.queue.length + this.running;
  }

  private pump(): void {
    while (this.running < this.opts.maxConcurrent && this.queue.length > 0) {
      const batch = this.take();
      if (batch.length === 0) return; // every waiting call's key is busy: a finishing batch pumps again
      const keys = this.hold(batch);
      this.running++;
      this.onBatch?.(batch.length);
      const held: Promise<unknown>[] = [];
      const startedAt = { at: performance.now() };
      this.started.add(startedAt);
      this.execute(batch, held)
        .then(() => {
          this.started.delete(startedAt);
          this.lastCompleted = performance.now();
        })
        .then(() => Promise.allSettled(held))
        .finally(() => {
          this.running--;
          this.release(keys);
          this.pump();
        });
    }
  }

  /** The next batch: the oldest calls, skipping (and keeping in order) those whose key is busy. */
  private take(): Pending<I, O>[] {
    const keyOf = this.opts.keyOf;
    if (!keyOf || this.busy.size === 0) return this.queue.splice(0, this.opts.maxBatch);
    const batch: Pending<I, O>[] = [];
    const rest: Pending<I, O>[] = [];
    let i = 0;
    for (; i < this.queue.length && batch.length < this.opts.maxBatch; i++) {
      const p = this.queue[i]!;
      if (this.busy.has(keyOf(p.input))) rest.push(p);
      else batch.push(p);
    }
    this.queue = i < this.queue.length ? rest.concat(this.queue.slice(i)) : rest;
    return batch;
  }

  private hold(batch: Pending<I, O>[]): unknown[] {
    const keyOf = this.opts.keyOf;
    if (!keyOf) return [];
    const keys = [...new Set(batch.map((p) => keyOf(p.input)))];
    for (const k of keys) this.busy.add(k);
    return keys;
  }

  private release(keys: unknown[]): void {
    for (const k of keys) this.busy.delete(k);
  }

  /** Refuses the calls that waited too long for a slot (the oldest are first in the queue). */
  private armSweeper(delayMs: number): void {
    this.sweeper = setTimeout(() => {
      this.sweeper = undefined;
      const maxWait = this.opts.maxWaitMs!;
      const now = Date.now();
      while (this.queue.length > 0 && now - this.queue[0]!.at >= maxWait) {
        const p = this.queue.shift()!;
        p.reject(this.opts.expired?.() ?? new Error(`no slot within ${maxWait} ms`));
      }
      if (this.queue.length > 0) this.armSweeper(Math.max(1, this.queue[0]!.at + maxWait - now));
    }, delayMs);
    this.sweeper.unref();
  }

  private async execute(batch: Pending<I, O>[], held: Promise<unknown>[]): Promise<void> {
    try {
      const results = await this.run(
        batch.map((p) => p.input),
        (work) => held.push(work),
      );
      batch.forEach((p, i) => {
        const r = results[i];
        if (r instanceof Error) p.reject(r);
        else if (r === undefined) p.reject(new Error('batch returned no result for this call'));
        else p.resolve(r);
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}
