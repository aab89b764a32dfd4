/**
 * Group commit of submits: the submits of one batch commit in one transaction (one round trip,
 * one WAL flush), each with its own result. Sorted by user_id, keeping each user's submits in
 * arrival order, so concurrent batches on any number of instances lock users in the same order.
 * A deadlock or serialization failure (possible only around the creation of a new board) retries
 * the batch; any other failure of a multi-row batch retries its rows one by one, so one bad row
 * cannot fail its neighbours.
 */
import type { SubmitRequest } from '../../protocol/index.ts';
import { isConnectionError, isDeadlinePassed, type Sql } from './db.ts';
import type { PendingRecord } from './pending.ts';
import { submit, submitBatch, type SubmitResult } from './scores.ts';

const RETRYABLE = new Set(['40P01', '40001']);
const ATTEMPTS = 3;

export function sortForLocking(reqs: readonly SubmitRequest[]): number[] {
  return reqs.map((_, i) => i).sort((a, b) => reqs[a]!.user_id - reqs[b]!.user_id || a - b);
}

/**
 * Commits a batch; one result (or the Error of that row alone) per request, in the order given.
 * Nothing commits after `deadline`: past it, the batch fails whole with LB001 (see sql/functions/3_submit_batch.sql).
 * Each submit also counts on the window boards of `suffixes` (the periods it was taken in). Each
 * transaction that commits also writes `pending` (sql/001), rows retried alone included.
 */
export async function commitBatch(
  sql: Sql,
  reqs: readonly SubmitRequest[],
  deadline: Date,
  suffixes: readonly string[],
  pending?: PendingRecord,
): Promise<(SubmitResult | Error)[]> {
  if (reqs.length === 1) return [await submit(sql, reqs[0]!, deadline, suffixes, pending)];
  const order = sortForLocking(reqs);
  const sorted = order.map((i) => reqs[i]!);
  for (let attempt = 1; ; attempt++) {
    try {
      const rows = await submitBatch(sql, sorted, deadline, suffixes, pending);
      const out: SubmitResult[] = new Array(reqs.length);
      rows.forEach((row, k) => (out[order[k]!] = row));
      return out;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code && RETRYABLE.has(code) && attempt < ATTEMPTS) continue;
      if (isConnectionError(err) || isDeadlinePassed(err)) throw err;
      // Something in one row failed the whole transaction: nothing committed, so each row goes
      // again alone and only the guilty one fails.
      return Promise.all(
        reqs.map((r) => submit(sql, r, deadline, suffixes, pending).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))))),
      );
    }
  }
}
