/** The main side of a peer load thread: start it, wait for it to be ready, talk to it, collect its part. */
import { Worker } from 'node:worker_threads';
import type { FromThread, ThreadSetup, ToThread } from './worker.ts';

export class LoadThread<P> {
  private readonly worker: Worker;
  readonly ready: Promise<void>;
  readonly result: Promise<P>;

  constructor(setup: ThreadSetup) {
    this.worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), { workerData: setup });
    let readyCbs!: { resolve: () => void; reject: (e: Error) => void };
    let resultCbs!: { resolve: (p: P) => void; reject: (e: Error) => void };
    this.ready = new Promise((resolve, reject) => (readyCbs = { resolve, reject }));
    this.result = new Promise((resolve, reject) => (resultCbs = { resolve, reject }));
    // Whoever awaits only one of them must not leave the other as an unhandled rejection.
    this.ready.catch(() => undefined);
    this.result.catch(() => undefined);
    const failBoth = (err: Error) => {
      readyCbs.reject(err);
      resultCbs.reject(err);
    };
    this.worker.on('message', (m: FromThread<P>) => {
      if (m.type === 'ready') readyCbs.resolve();
      else if (m.type === 'result') resultCbs.resolve(m.part);
      else failBoth(new Error(`peer load thread: ${m.message}`));
    });
    this.worker.on('error', (err) => failBoth(err));
    this.worker.on('exit', (code) => failBoth(new Error(`peer load thread exited (${code}) before its result`)));
  }

  send(message: ToThread): void {
    this.worker.postMessage(message);
  }

  /** Ends the thread (and so closes any socket it still holds). */
  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

/** Share i of n items over `threads` (the first ones get the remainder), and where it starts. */
export function share(n: number, threads: number, i: number): { count: number; offset: number } {
  const base = Math.floor(n / threads);
  const rest = n % threads;
  return { count: base + (i < rest ? 1 : 0), offset: i * base + Math.min(i, rest) };
}
