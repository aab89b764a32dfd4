/**
 * What submits cost PostgreSQL, read from the bench's own database: WAL bytes (pg_current_wal_lsn
 * deltas, exact at once), and rows and index entries written (pg_stat_user_tables; an insert or a
 * non-HOT update writes one entry in each index of its table, a HOT update none). Table statistics
 * reach pg_stat only when the writing backends flush them (at most every second while busy, 10 s
 * once idle), so `settle` waits that out once, after the last run.
 */
import postgres from 'postgres';

export interface WriteCounters {
  walBytes: number;
  sessions: number;
  rows: number;
  indexEntries: number;
}

export interface WriteCostPerSubmit {
  walBytes: number;
  rows: number;
  indexEntries: number;
}

/** PostgreSQL's idle flush interval of table statistics, plus margin. */
const STATS_SETTLE_MS = 11_000;

export class WriteCost {
  private readonly sql: postgres.Sql;

  constructor(databaseUrl: string) {
    this.sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  }

  async counters(): Promise<WriteCounters> {
    await this.sql`SELECT pg_stat_clear_snapshot()`;
    const [wal] = await this.sql<{ b: string }[]>`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS b`;
    const [t] = await this.sql<{ rows: string; entries: string }[]>`
      SELECT coalesce(sum(s.n_tup_ins + s.n_tup_upd + s.n_tup_del), 0)::text AS rows,
             coalesce(sum((s.n_tup_ins + s.n_tup_upd - s.n_tup_hot_upd) * (SELECT count(*) FROM pg_index i WHERE i.indrelid = s.relid)), 0)::text AS entries
      FROM pg_stat_user_tables s`;
    // Session ids come from one sequence: its position counts sessions at once (a rolled-back
    // batch leaves a gap, which only makes the per-submit figures a little low).
    const [seq] = await this.sql<{ n: string }[]>`SELECT (CASE WHEN is_called THEN last_value ELSE 0 END)::text AS n FROM game_sessions_id_seq`;
    return { walBytes: Number(wal!.b), sessions: Number(seq!.n), rows: Number(t!.rows), indexEntries: Number(t!.entries) };
  }

  /** Waits until the writers' table statistics have reached pg_stat. */
  async settle(): Promise<void> {
    await new Promise((r) => setTimeout(r, STATS_SETTLE_MS));
  }

  /** Per committed session between two readings (rows and index entries need `settle` first). */
  static perSubmit(before: WriteCounters, after: WriteCounters, submits: number): WriteCostPerSubmit {
    const n = Math.max(1, submits);
    return {
      walBytes: (after.walBytes - before.walBytes) / n,
      rows: (after.rows - before.rows) / n,
      indexEntries: (after.indexEntries - before.indexEntries) / n,
    };
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }
}
