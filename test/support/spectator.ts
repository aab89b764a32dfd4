/**
 * A strict spectator for tests: one socket following one board, checking that every diff continues
 * its view (same epoch, seq + 1). Any break is recorded as a gap instead of being healed, so a test
 * can assert the server never produced one.
 */
import type { Entry } from '../../protocol/index.ts';
import { LiveView } from '../../client/sdk/live-view.ts';
import type { Connection } from '../../client/sdk/connection.ts';
import { connectWs } from './servers.ts';

export class Spectator {
  readonly view = new LiveView();
  gaps: string[] = [];
  diffs = 0;
  snapshots = 0;
  bytes = 0;

  private constructor(
    readonly conn: Connection,
    readonly board: string,
    readonly limit: number,
  ) {}

  static async follow(port: number, board: string, limit: number): Promise<Spectator> {
    const conn = await connectWs(port);
    const s = new Spectator(conn, board, limit);
    conn.onPush = (frame) => s.onPush(frame);
    const reply = await conn.request('subscribe', { board, limit });
    s.view.reset(reply);
    return s;
  }

  get entries(): Entry[] {
    return this.view.entries;
  }

  private onPush(frame: Record<string, unknown>): void {
    if (frame.board !== this.board) return;
    if (frame.op === 'snapshot') {
      this.snapshots++;
      this.view.reset(frame as never);
      return;
    }
    this.diffs++;
    const r = this.view.apply(frame as never);
    if (r === 'resync') {
      this.gaps.push(`expected ${String(this.view.epoch)}/${this.view.seq + 1}, got ${String(frame.epoch)}/${String(frame.seq)}`);
    }
  }

  close(): void {
    this.conn.close();
  }
}
