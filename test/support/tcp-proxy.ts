/**
 * A loopback TCP proxy that can cut one client off its server: `cut` drops every open connection
 * and refuses new ones until `heal`. It stands for a network partition between one server instance
 * and Redis (or PostgreSQL) while the others still reach it. `stall` is the silent kind of
 * partition: connections stay open but nothing crosses (bytes wait, as TCP would retransmit them)
 * and new connections are accepted but get no answer, until `heal` lets everything through.
 * `stallReplies` holds only what the server sends back.
 */
import net from 'node:net';

export class TcpProxy {
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private cutOff = false;
  private stalled = false;
  private repliesStalled = false;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = net.createServer((client) => proxy!.accept(client, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    proxy = new TcpProxy(server, (server.address() as net.AddressInfo).port);
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  cut(): void {
    this.cutOff = true;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  stall(): void {
    this.stalled = true;
    for (const [a, b] of this.pairs) {
      a.unpipe(b);
      b.unpipe(a);
      a.pause();
      b.pause();
    }
  }

  /**
   * Requests still reach the server, its answers are held: a statement runs (and commits) while
   * its client hears nothing, as when only the return path of a network fails.
   */
  stallReplies(): void {
    this.repliesStalled = true;
    for (const [client, upstream] of this.pairs) {
      upstream.unpipe(client);
      upstream.pause();
    }
  }

  heal(): void {
    this.cutOff = false;
    if (this.repliesStalled) {
      this.repliesStalled = false;
      for (const [client, upstream] of this.pairs) upstream.pipe(client);
    }
    if (!this.stalled) return;
    this.stalled = false;
    for (const [a, b] of this.pairs) {
      a.pipe(b);
      b.pipe(a);
    }
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket, targetPort: number): void {
    if (this.cutOff) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    // Either side failing ends both: that is all a cut connection can do.
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    if (this.stalled) {
      client.pause();
      upstream.pause();
      return;
    }
    client.pipe(upstream);
    if (this.repliesStalled) upstream.pause();
    else upstream.pipe(client);
  }
}
