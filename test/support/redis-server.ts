/**
 * A private `redis-server` for failure tests: its own free loopback port, nothing on disk, and
 * stopped, frozen or restarted on the same port by its pid. The machine's shared Redis is never
 * touched. Every instance still running is stopped by `stopAllRedis` (call it in afterAll) and,
 * as a last resort, killed when the test worker exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';

const running = new Set<PrivateRedis>();

process.once('exit', () => {
  for (const r of running) r.killNow();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A port nobody listened on a moment ago (another process may still take it: callers retry). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export class PrivateRedis {
  private child: ChildProcess | undefined;
  private exited: Promise<unknown> = Promise.resolve();
  private frozen = false;
  private out = '';

  private constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[] = [],
  ) {}

  /**
   * Starts a fresh instance on a free port (from `pickPort` when given), retrying on another port
   * if the one found was taken. `extraArgs` go to redis-server (e.g. cluster mode).
   */
  static async start(extraArgs: (port: number) => string[] = () => [], pickPort: () => Promise<number> = freePort): Promise<PrivateRedis> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await pickPort();
      const r = new PrivateRedis(port, extraArgs(port));
      try {
        await r.launch();
        return r;
      } catch (err) {
        lastError = err;
      }
    }
    throw new Error(`could not start a private redis-server: ${(lastError as Error).message}`);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.alive ? this.child!.pid : undefined;
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What redis-server wrote (startup errors such as a taken port). */
  output(): string {
    return this.out;
  }

  /** Stops it: SIGTERM by pid (after SIGCONT if frozen), then waits for the exit; SIGKILL after 5 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) {
      running.delete(this);
      return;
    }
    if (this.frozen) this.thaw();
    process.kill(child.pid!, 'SIGTERM');
    const timer = setTimeout(() => this.killNow(), 5000);
    await this.exited;
    clearTimeout(timer);
    running.delete(this);
  }

  /** Starts it again, empty, on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await this.launch();
        return;
      } catch (err) {
        lastError = err; // the old socket may linger a moment; the port is ours to retry
        await sleep(200);
      }
    }
    throw lastError;
  }

  /** SIGSTOP: the process keeps its sockets and data but answers nothing. */
  freeze(): void {
    if (!this.alive) throw new Error('redis-server is not running');
    process.kill(this.child!.pid!, 'SIGSTOP');
    this.frozen = true;
  }

  thaw(): void {
    if (this.alive && this.frozen) process.kill(this.child!.pid!, 'SIGCONT');
    this.frozen = false;
  }

  /** Synchronous last resort (process exit, stuck shutdown). */
  killNow(): void {
    if (!this.alive) return;
    const pid = this.child!.pid!;
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // ESRCH: already gone
    }
  }

  private async launch(timeoutMs = 10_000): Promise<void> {
    this.out = '';
    this.frozen = false;
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmpdir(), '--loglevel', 'warning', ...this.extraArgs];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.exited = once(child, 'exit');
    running.add(this);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.alive) {
        running.delete(this);
        throw new Error(`redis-server on port ${this.port} exited: ${this.out.trim()}`);
      }
      if (await this.answersAsItself()) return;
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`redis-server on port ${this.port} did not answer PING within ${timeoutMs} ms`);
      }
      await sleep(25);
    }
  }

  /** PING answered by this very process (not by whoever else might hold the port). */
  private async answersAsItself(): Promise<boolean> {
    const c = new Redis({
      host: '127.0.0.1',
      port: this.port,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 1000,
    });
    c.on('error', () => undefined); // connection refused while starting is the expected answer
    try {
      await c.connect();
      if ((await c.ping()) !== 'PONG') return false;
      const info = await c.info('server');
      return /process_id:(\d+)/.exec(info)?.[1] === String(this.child?.pid);
    } catch {
      return false; // not listening yet
    } finally {
      c.disconnect();
    }
  }
}

/** Stops every private Redis this worker started and has not stopped yet. */
export async function stopAllRedis(): Promise<void> {
  await Promise.all([...running].map((r) => r.stop()));
}
