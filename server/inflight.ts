/** Tracks requests in flight so a graceful shutdown can wait for them to finish. */
export class Inflight {
  private count = 0;
  /** Called when the count next falls to zero (drain's waiters). */
  private idle: (() => void)[] = [];
  /** One function for every request: a closure per request would cost more than the count. */
  private readonly settled = (): void => {
    if (--this.count === 0 && this.idle.length > 0) {
      const waiters = this.idle;
      this.idle = [];
      for (const w of waiters) w();
    }
  };

  track<T>(p: Promise<T>): Promise<T> {
    this.count++;
    p.then(this.settled, this.settled);
    return p;
  }

  get size(): number {
    return this.count;
  }

  /** Resolves true when everything in flight has settled, false if the deadline passed first. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      new Promise<boolean>((resolve) => this.idle.push(() => resolve(true))),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return done || this.count === 0;
  }
}
