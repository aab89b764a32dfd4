/**
 * The write path after admission, batched end to end: a batch of submits is committed in one
 * PostgreSQL transaction (group commit) that also records which boards it wrote (index_pending,
 * sql/001), applied to the rank index in one round trip (one script call per board, and one for
 * the batch's names), announced to the live feeds, and only then answered. The record is cleared
 * once the index has the whole batch; until then it says, in PostgreSQL, that those boards may be
 * behind, whatever happens to Redis or to this instance.
 */
import { GLOBAL_BOARD, SUBMIT_RANK_COUNT_CAP, defaultUsername, modeBoard, periodSuffixes, type SubmitRequest, type Window } from '../protocol/index.ts';
import type { Clock } from './clock.ts';
import { Batcher } from './batcher.ts';
import type { CommitEvents } from './commit-events.ts';
import { AppError, unavailable } from './errors.ts';
import type { IndexMaintainer } from './rank-index/maintainer.ts';
import type { ApplyOutcome, IndexUpdate, NameUpdate, RankIndex } from './rank-index/rank-index.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import { QueryTimeout, isConnectionError, isDeadlinePassed, withDeadline, type Sql } from './store/db.ts';
import { commitBatch } from './store/group-commit.ts';
import type { PendingUpdates } from './store/pending.ts';
import { ranksOfTotalsCapped, type SubmitResult } from './store/scores.ts';

export interface Committed {
  result: SubmitResult;
  /**
   * The global rank of this commit's total: from the index when it took the update, else a
   * bounded count in PostgreSQL made once for the batch (not exact past SUBMIT_RANK_COUNT_CAP);
   * undefined for a row not committed by this batch (a duplicate) or when the count failed.
   */
  rank: { rank: number; exact: boolean } | undefined;
}

export interface SubmitPipelineDeps {
  sql: Sql;
  index: RankIndex;
  maintainer: IndexMaintainer;
  /** Records of batches whose index updates are not known applied (none in tools that only read). */
  pending?: PendingUpdates;
  metrics: Metrics;
  log: Logger;
  /** Where committed updates (applied to the index or not) and renames are announced. */
  events?: CommitEvents;
  maxBatch: number;
  maxConcurrent: number;
  /** Submits waiting for a batch beyond which new ones are refused at once (see Batcher). */
  maxQueued?: number;
  queryTimeoutMs: number;
  /** Time windows every submit also counts in (sql/functions/3_submit_batch.sql), by the periods of `clock`. */
  windows: readonly Window[];
  clock: Clock;
}

/**
 * The board updates one committed submit makes: its two all-time boards and its window boards (of
 * the periods current at commit, by construction). The user's other boards need nothing even on a
 * rename (`other_boards` is not used): names live once per user in the index (see nameOf).
 */
export function updatesOf(req: SubmitRequest, r: SubmitResult): IndexUpdate[] {
  if (r.status !== 'ok') return [];
  const base = { userId: req.user_id };
  const created = r.w_new ?? [];
  const windowed = (r.w_boards ?? []).map((board, i) => ({
    ...base,
    board,
    total: r.w_totals![i]!,
    games: r.w_games![i]!,
    newBoard: created.includes(board),
  }));
  return [
    // The reply's rank is the global one: only that board counts it.
    { ...base, board: GLOBAL_BOARD, total: r.global_total!, games: r.global_games!, newBoard: false, ranked: true },
    { ...base, board: modeBoard(req.game_mode), total: r.mode_total!, games: r.mode_games!, newBoard: r.new_board === true },
    ...windowed,
  ];
}

/**
 * The user's name as of a committed submit, versioned by the user's global games_played: one
 * write on the names hash, whatever the number of boards the user is on, rename or not (writing
 * every commit's name keeps out-of-order renames converging on the latest).
 */
export function nameOf(req: SubmitRequest, r: SubmitResult): NameUpdate | undefined {
  if (r.status !== 'ok') return undefined;
  return { userId: req.user_id, version: r.global_games!, name: r.username ?? defaultUsername(req.user_id) };
}

/** The boards a batch's submits write: all-time ones, and those of the periods `suffixes` name. */
function boardsOf(reqs: readonly SubmitRequest[], suffixes: readonly string[]): string[] {
  const families = [GLOBAL_BOARD, ...new Set(reqs.map((r) => modeBoard(r.game_mode)))];
  return [...families, ...families.flatMap((f) => suffixes.map((s) => f + s))];
}

export class SubmitPipeline {
  private readonly batcher: Batcher<SubmitRequest, Committed>;

  constructor(private readonly d: SubmitPipelineDeps) {
    this.batcher = new Batcher(
      (reqs, hold) => this.run(reqs, hold),
      {
        maxBatch: d.maxBatch,
        maxConcurrent: d.maxConcurrent,
        // Every commit slot taken by work PostgreSQL does not answer: waiting longer is pointless.
        maxWaitMs: d.queryTimeoutMs,
        expired: () => unavailable('the database is not answering; retry later'),
        // A submit that would wait out its whole deadline in the queue (or behind batches already
        // running past theirs) is refused at once rather than at its deadline (load shedding).
        shedAfterMs: d.queryTimeoutMs,
        overloaded: (retryAfterMs) => new AppError('unavailable', 'the server is overloaded; retry later', { retryAfterMs }),
        // More waiting than a few full rounds of batches: offered more than it commits, the excess
        // is answered at once rather than after waiting out its deadline.
        maxQueued: d.maxQueued,
        // A user's submits commit in the order they came (`latest` boards, replies' running totals).
        keyOf: (req) => req.user_id,
      },
      (n) => d.metrics.groupCommitSize.observe(n),
    );
  }

  submit(req: SubmitRequest): Promise<Committed> {
    return this.batcher.add(req);
  }

  /** Resolves true once no batch is waiting or running (late settling included), false after `timeoutMs`. */
  async idle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.batcher.size > 0) {
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  private async run(reqs: SubmitRequest[], hold: (work: Promise<unknown>) => void): Promise<(Committed | Error)[]> {
    let results: (SubmitResult | Error)[];
    const end = this.d.metrics.storeDuration.startTimer({ store: 'postgres', call: 'submit' });
    // PostgreSQL itself refuses to commit after the deadline (sql/functions/3_submit_batch.sql), so a submit answered
    // `unavailable` for want of an answer by then did not commit, unless it finished just in
    // time and only the answer was late: settleLate() then gives the index what it missed.
    const now = this.d.clock.now();
    const suffixes = periodSuffixes(this.d.windows, now);
    const record = this.d.pending?.record(boardsOf(reqs, suffixes));
    const commit = commitBatch(this.d.sql, reqs, new Date(Date.now() + this.d.queryTimeoutMs), suffixes, record);
    try {
      results = await withDeadline(commit, this.d.queryTimeoutMs);
    } catch (err) {
      if (err instanceof QueryTimeout) {
        hold(this.settleLate(reqs, commit, record?.token, suffixes));
      } else if (isDeadlinePassed(err)) {
        // Refused by PostgreSQL (the clocks disagree, or the answer raced the timer): not committed.
      } else if (isConnectionError(err)) {
        // The connection may have died after the commit: whether it happened is unknown, so the
        // boards it would touch are rebuilt rather than trusted. (Clients retry with their
        // submission_id and learn the outcome.) Had it committed, its pending record says so too.
        this.d.maintainer.markDirty(boardsOf(reqs, suffixes));
      } else {
        throw err;
      }
      throw unavailable('the database is unavailable; retry later', err);
    } finally {
      end();
    }
    const { perReq, outcomes, complete } = await this.publish(reqs, results, suffixes);
    if (complete && record) this.d.pending!.applied(record.token);
    const lost = results.filter((r) => r instanceof Error && (isConnectionError(r) || isDeadlinePassed(r)));
    let at = 0;
    const committed = results.map((r, i) => {
      if (r instanceof Error) return lost.includes(r) ? unavailable('the database is unavailable; retry later', r) : r;
      const first = outcomes[at];
      at += perReq[i]!.length;
      return { result: r, rank: perReq[i]!.length > 0 && first?.applied && first.rank !== undefined ? { rank: first.rank, exact: true } : undefined };
    });
    await this.countRanks(committed);
    return committed;
  }

  /**
   * Ranks of the batch's commits the index could not rank (it is rebuilding, or away): one bounded
   * count for the whole batch. A failure leaves them to the caller (the submit is committed).
   */
  private async countRanks(committed: (Committed | Error)[]): Promise<void> {
    const unranked = committed.filter((c): c is Committed => !(c instanceof Error) && c.rank === undefined && c.result.status === 'ok');
    if (unranked.length === 0) return;
    try {
      const ranks = await withDeadline(
        ranksOfTotalsCapped(this.d.sql, GLOBAL_BOARD, unranked.map((c) => c.result.global_total!), SUBMIT_RANK_COUNT_CAP),
        this.d.queryTimeoutMs,
      );
      unranked.forEach((c, i) => (c.rank = ranks[i]));
    } catch (err) {
      this.d.log.warn({ err, submits: unranked.length }, 'could not count the ranks of a committed batch; counting them one by one');
    }
  }

  /**
   * Applies committed results to the rank index and announces them to the live feeds. Rows retried
   * alone after their batch failed can meet an outage one by one: their outcome is unknown, so
   * the boards are rebuilt.
   */
  private async publish(reqs: readonly SubmitRequest[], results: readonly (SubmitResult | Error)[], suffixes: readonly string[]) {
    // A row whose outcome is unknown may have committed: its batch's record must stay.
    const unknown = results.some((r) => r instanceof Error && isConnectionError(r));
    if (unknown) this.d.maintainer.markDirty(boardsOf(reqs, suffixes));
    const perReq = results.map((r, i) => (r instanceof Error ? [] : updatesOf(reqs[i]!, r)));
    const names = results.flatMap((r, i) => (r instanceof Error ? [] : (nameOf(reqs[i]!, r) ?? [])));
    const all = perReq.flat();
    const { outcomes, renamed, ok } = all.length > 0 ? await this.applyToIndex(all, names) : { outcomes: [], renamed: [], ok: true };
    if (all.length > 0) {
      this.d.metrics.submits.inc(perReq.filter((u) => u.length > 0).length);
      this.d.events?.committed(all, renamed);
    }
    return { perReq, outcomes, complete: ok && !unknown };
  }

  /**
   * The batch was answered `unavailable` at its deadline while its statement was still out. When
   * the statement ends: a commit is applied to the index like any other; PostgreSQL's refusal
   * (LB001) means nothing happened; anything else, or no end within two more deadlines, leaves the
   * outcome unknown and the boards are rebuilt. A commit's pending record stays until the index has
   * it, so a crash or a shutdown meanwhile leaves the boards to another instance.
   */
  private async settleLate(reqs: readonly SubmitRequest[], commit: Promise<(SubmitResult | Error)[]>, token: number | undefined, suffixes: readonly string[]) {
    try {
      const results = await withDeadline(commit, 2 * this.d.queryTimeoutMs);
      const { perReq, complete } = await this.publish(reqs, results, suffixes);
      if (complete && token !== undefined) this.d.pending!.applied(token);
      const n = perReq.filter((u) => u.length > 0).length;
      if (n > 0) this.d.log.warn({ committed: n, batch: reqs.length }, 'submits committed after their deadline; applied to the rank index late');
    } catch (err) {
      if (isDeadlinePassed(err)) {
        this.d.log.info({ batch: reqs.length }, 'submits past their deadline were refused by PostgreSQL; nothing committed');
      } else {
        this.d.log.warn({ err, batch: reqs.length }, 'outcome of submits past their deadline is unknown; their boards will be rebuilt');
        this.d.maintainer.markDirty(boardsOf(reqs, suffixes));
      }
    }
  }

  /**
   * A failure marks the updates' boards dirty, `global` among them: its rebuild also rewrites every
   * user's name, so a name the failed call did not write is restored with it.
   */
  private async applyToIndex(
    updates: IndexUpdate[],
    names: NameUpdate[],
  ): Promise<{ outcomes: ApplyOutcome[]; renamed: readonly number[]; ok: boolean }> {
    const failed = (err: unknown) => {
      this.d.metrics.indexWriteFailures.inc(updates.length);
      this.d.log.warn({ err, boards: [...new Set(updates.map((u) => u.board))] }, 'rank index update failed after commit; boards will be rebuilt');
      this.d.maintainer.markDirty(updates.map((u) => u.board));
      return { outcomes: updates.map(() => ({ applied: false as const })), renamed: [], ok: false };
    };
    if (!this.d.index.connected) return failed(undefined);
    const end = this.d.metrics.storeDuration.startTimer({ store: 'redis', call: 'apply' });
    try {
      const applied = await this.d.index.apply(updates, names);
      applied.outcomes.forEach((o, i) => {
        // Refused by an untrusted board: its rebuild (requested here, or by any instance's check
        // of the missing epoch) reads this commit from PostgreSQL.
        if (!o.applied) this.d.maintainer.request(updates[i]!.board);
      });
      return { ...applied, ok: true };
    } catch (err) {
      return failed(err);
    } finally {
      end();
    }
  }
}
