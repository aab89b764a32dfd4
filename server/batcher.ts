/**
 * Coalesces calls made in the same event-loop turn (and while earlier batches are in flight) into
 * batches, runs at most `maxConcurrent` batches at once, and gives each caller its own result.
 * Under light load a call goes out alone on the next turn; under heavy load batches grow by
 * themselves, which is what makes group commit cheap: no timer ever holds a request back.
 */
export interface BatcherOptions {
  maxBatch: number;
  maxConcurrent: number;
}

interface Pending<I, O> {
  input: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

/** Runs one batch: returns one result (or an Error to reject with) per input, in order. */
export type BatchRunner<I, O> = (inputs: I[]) => Promise<(O | Error)[]>;

export class Batcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly run: BatchRunner<I, O>,
    private readonly opts: BatcherOptions,
    private readonly onBatch?: (size: number) => void,
  ) {}

  add(input: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
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

  /** Calls waiting or running. */
  get size(): number {
    return this.queue.length + this.running;
  }

  private pump(): void {
    while (this.running < this.opts.maxConcurrent && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      this.running++;
      this.onBatch?.(batch.length);
      this.execute(batch).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async execute(batch: Pending<I, O>[]): Promise<void> {
    try {
      const results = await this.run(batch.map((p) => p.input));
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
