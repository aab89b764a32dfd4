/**
 * The PostgreSQL side of "this board may be behind": rows of `index_pending` (sql/001). A batch's
 * row is written by its own commit statement (see submitBatch's `pending`), deleted here once the
 * rank index has the batch, and otherwise outlives Redis outages, crashes and shutdowns until a
 * rebuild that includes the commit clears it. Deletes are gathered and sent every FLUSH_MS in one
 * statement: a delete that never happens (the instance died) only costs a rebuild.
 */
import type { Logger } from '../log.ts';
import type { Sql, Tx } from './db.ts';

const FLUSH_MS = 100;

/** What a batch's commit statement records, in the same statement. */
export interface PendingRecord {
  instance: string;
  token: number;
  boards: readonly string[];
}

export interface PendingRow {
  instance: string;
  token: number;
  boards: string[];
  ageMs: number;
}

/** Rows naming `board`, as the transaction `tx` sees them (a rebuild's snapshot). */
export async function pendingFor(tx: Tx | Sql, board: string): Promise<{ instance: string; token: number }[]> {
  return tx<{ instance: string; token: number }[]>`
    SELECT instance, token FROM index_pending WHERE ${board} = ANY (boards)`;
}

/**
 * Removes `board` from the rows a rebuild's snapshot saw (their commits are in the rebuild), and
 * deletes rows left naming no board.
 */
export async function clearPending(sql: Sql, board: string, seen: readonly { instance: string; token: number }[]): Promise<void> {
  if (seen.length === 0) return;
  await sql`
    UPDATE index_pending p SET boards = array_remove(p.boards, ${board})
    FROM unnest(${sql.array(seen.map((s) => s.instance), 25)}::text[], ${sql.array(seen.map((s) => s.token), 20)}::bigint[]) AS t(instance, token)
    WHERE p.instance = t.instance AND p.token = t.token AND ${board} = ANY (p.boards)`;
  await sql`DELETE FROM index_pending WHERE cardinality(boards) = 0`;
}

/** Every row, with its age by PostgreSQL's clock. */
export async function listPending(sql: Sql): Promise<PendingRow[]> {
  return sql<PendingRow[]>`
    SELECT instance, token, boards, (extract(epoch FROM now() - committed_at) * 1000)::float8 AS "ageMs" FROM index_pending`;
}

/** Deletes rows outright (boards nobody serves from the index any more). */
export async function dropPending(sql: Sql, rows: readonly { instance: string; token: number }[]): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    DELETE FROM index_pending p
    USING unnest(${sql.array(rows.map((r) => r.instance), 25)}::text[], ${sql.array(rows.map((r) => r.token), 20)}::bigint[]) AS t(instance, token)
    WHERE p.instance = t.instance AND p.token = t.token`;
}

/** One instance's tokens and its gathered deletes. */
export class PendingUpdates {
  private seq = 0;
  private done: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly sql: Sql,
    readonly instance: string,
    private readonly log: Logger,
  ) {}

  /** The record a batch about to commit writes with its commit. */
  record(boards: readonly string[]): PendingRecord {
    return { instance: this.instance, token: ++this.seq, boards };
  }

  /** The rank index has everything the batch of `token` committed: its row may go. */
  applied(token: number): void {
    this.done.push(token);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Sends the gathered deletes now (also at shutdown). A failure keeps them for the next flush. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing) await this.flushing;
    if (this.done.length === 0) return;
    const tokens = this.done;
    this.done = [];
    this.flushing = (async () => {
      try {
        await this.sql`DELETE FROM index_pending WHERE instance = ${this.instance} AND token = ANY (${this.sql.array(tokens, 20)}::bigint[])`;
      } catch (err) {
        this.log.warn({ err, rows: tokens.length }, 'could not clear applied index updates; will retry');
        this.done.push(...tokens);
        if (!this.timer) {
          this.timer = setTimeout(() => void this.flush(), FLUSH_MS * 10);
          this.timer.unref();
        }
      }
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }
}
