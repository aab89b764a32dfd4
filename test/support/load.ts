/**
 * A bounded submit load over several sockets, each with a few requests in flight, every request
 * with its own submission_id; it records what became of each request (acknowledged, an error
 * reply, or lost with its socket) and how each socket was closed.
 */
import type { SubmitReply } from '../../protocol/index.ts';
import type { Connection } from '../../client/sdk/connection.ts';

export interface SubmitFields {
  user_id: number;
  score: number;
  game_mode: string;
  submission_id: string;
}

export type Outcome =
  | { req: SubmitFields; kind: 'ack'; reply: SubmitReply }
  | { req: SubmitFields; kind: 'error'; code: string }
  | { req: SubmitFields; kind: 'lost'; code: string };

export interface LoadOptions {
  users: readonly number[];
  modes: readonly string[];
  inFlightPerSocket: number;
  /** Hard bound on requests sent in all. */
  maxRequests: number;
  idPrefix: string;
}

export class SubmitLoad {
  readonly outcomes: Outcome[] = [];
  readonly closeCodes: (number | undefined)[];
  private sent = 0;
  private running = true;
  private readonly workers: Promise<void>[] = [];
  private ackCount = 0;

  constructor(
    private readonly conns: Connection[],
    private readonly opts: LoadOptions,
  ) {
    this.closeCodes = conns.map(() => undefined);
    conns.forEach((c, i) => (c.onClose = (code) => (this.closeCodes[i] = code)));
    for (const c of conns) for (let w = 0; w < opts.inFlightPerSocket; w++) this.workers.push(this.worker(c));
  }

  get acked(): Extract<Outcome, { kind: 'ack' }>[] {
    return this.outcomes.filter((o): o is Extract<Outcome, { kind: 'ack' }> => o.kind === 'ack');
  }

  get sentCount(): number {
    return this.sent;
  }

  /** Resolves once `n` submits were acknowledged, or when the load ended first. */
  async untilAcked(n: number): Promise<void> {
    let ended = false;
    void this.done().then(() => (ended = true));
    while (this.ackCount < n && !ended) await new Promise((r) => setTimeout(r, 10));
  }

  /** Stops sending and waits for every request in flight to settle. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  /** Resolves when every worker has ended (its socket closed or the budget spent). */
  async done(): Promise<void> {
    await Promise.all(this.workers);
  }

  private async worker(conn: Connection): Promise<void> {
    while (this.running && conn.open && this.sent < this.opts.maxRequests) {
      const n = this.sent++;
      const req: SubmitFields = {
        user_id: this.opts.users[n % this.opts.users.length]!,
        score: 1 + Math.floor(Math.random() * 1_000_000),
        game_mode: this.opts.modes[Math.floor(Math.random() * this.opts.modes.length)]!,
        submission_id: `${this.opts.idPrefix}-${n}`,
      };
      try {
        const reply = await conn.request('submit', req);
        this.outcomes.push({ req, kind: 'ack', reply });
        this.ackCount++;
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'unknown';
        // The SDK reports a request whose socket closed under it as 'disconnected'.
        this.outcomes.push(code === 'disconnected' || code === 'timeout' ? { req, kind: 'lost', code } : { req, kind: 'error', code });
      }
    }
  }
}
