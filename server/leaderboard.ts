/**
 * The leaderboard operations: a submit commits to PostgreSQL, then updates the rank index; reads
 * come from the index and fall back to PostgreSQL whenever it cannot answer (board-reads.ts).
 * Handlers get valid, typed requests and return typed replies; they never see bytes or transports.
 */
import {
  GLOBAL_BOARD,
  SUBMIT_RANK_COUNT_CAP,
  encodeOnce,

  mayUseUsername,
  percentile,
  type AroundReply,
  type AroundRequest,
  type BoardsReply,
  type Entry,
  type HistoryReply,
  type HistoryRequest,
  type PageReply,
  type PageRequest,
  type RankReply,
  type RankRequest,
  type RanksReply,
  type RanksRequest,
  type SubmitReply,
  type SubmitRequest,
  type TopReply,
  type TopRequest,
} from '../protocol/index.ts';
import { ArrivalOrder } from './arrival-order.ts';
import { assertMaySubmit, type Principal } from './auth/policy.ts';
import type { BoardReads } from './board-reads.ts';
import { AppError, notFound } from './errors.ts';
import { UNTRUSTED } from './rank-index/rank-index.ts';
import type { SubmitOutcome } from './limits/game-modes.ts';
import type { Admitted, SubmitGuard } from './limits/submit-guard.ts';
import type { Committed, SubmitPipeline } from './submit-pipeline.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import * as db from './store/scores.ts';

export interface LeaderboardDeps {
  /** Reads from the rank index, or PostgreSQL when it cannot answer (see board-reads.ts). */
  reads: BoardReads;
  /** The live views' top rows when known current (see LiveHub.cachedTop). */
  topCache?: (board: string, limit: number) => Entry[] | undefined;
  /** The batched write path (see submit-pipeline.ts). */
  writes: SubmitPipeline;
  log: Logger;
  metrics: Metrics;
  /** Admission of submits (game modes, score caps, per-user rate); none in tools that only read. */
  guard?: SubmitGuard;
}

export class Leaderboard {
  private readonly arrivals = new ArrivalOrder<number>();
  /** `top` replies from the live views, by the rows they carry (see top()). */
  private readonly topReplies = new WeakMap<Entry[], TopReply>();
  private readonly r: BoardReads;

  constructor(private readonly d: LeaderboardDeps) {
    this.r = d.reads;
  }

  async submit(req: SubmitRequest, principal: Principal): Promise<SubmitReply> {
    assertMaySubmit(principal, req.user_id);
    // The steps up to the pipeline take their turn per user, so a user's submits commit in the
    // order they were sent however long each one's checks take.
    const turn = this.arrivals.enter(req.user_id);
    let admitted: Admitted | undefined;
    let committing: Promise<Committed>;
    try {
      await turn.ready;
      if (req.username !== undefined && !mayUseUsername(req.user_id, req.username) && !(await this.keepsName(req.user_id, req.username))) {
        throw new AppError('conflict', `username "${req.username}" is reserved for another user's default name`);
      }
      try {
        admitted = await this.d.guard?.admit(req, principal);
      } catch (err) {
        turn.done();
        // A retry of a committed submit is answered as such whatever the limits say now.
        const retry = err instanceof AppError ? await this.committedRetry(req) : undefined;
        if (retry) return retry;
        throw err;
      }
      committing = this.d.writes.submit(req);
    } finally {
      turn.done();
    }
    let outcome: SubmitOutcome = 'unknown';
    try {
      const { result: r, rank } = await committing;
      outcome = r.status === 'ok' ? 'committed' : 'not_committed';
      if (r.status === 'conflict') throw new AppError('conflict', `username "${req.username}" is taken, or too like a name that is`);
      const total = r.global_total!;
      const games = r.global_games!;
      const duplicate = r.status === 'duplicate';
      const ranked = rank ?? (await this.submitRank(req.user_id, total, duplicate));
      return { user_id: req.user_id, total_score: this.r.kinds.total(GLOBAL_BOARD, total), games_played: games, rank: ranked.rank, duplicate, ...(ranked.exact ? {} : { rank_exact: false as const }) };
    } finally {
      await admitted?.(outcome);
    }
  }

  /**
   * True when `name` is already the user's name: a name taken before default names were reserved
   * in every case and look-alike (name keys, sql/001) keeps working. Only reserved-looking names pay this.
   */
  private async keepsName(userId: number, name: string): Promise<boolean> {
    return (await this.r.db('username_of', () => db.usernameOf(this.r.sql, userId))) === name;
  }

  /**
   * The reply to a refused submit that is a retry of a committed one, or undefined. Only refused
   * submits with a submission_id pay this lookup (an index probe), never the ones admitted.
   */
  private async committedRetry(req: SubmitRequest): Promise<SubmitReply | undefined> {
    if (req.submission_id === undefined) return undefined;
    try {
      const totals = await this.r.db('committed_submission', () => db.committedTotals(this.r.sql, req.user_id, req.submission_id!));
      if (!totals) return undefined;
      const ranked = await this.submitRank(req.user_id, totals.total_score, true);
      return {
        user_id: req.user_id,
        total_score: this.r.kinds.total(GLOBAL_BOARD, totals.total_score),
        games_played: totals.games_played,
        rank: ranked.rank,
        duplicate: true,
        ...(ranked.exact ? {} : { rank_exact: false as const }),
      };
    } catch (err) {
      this.d.log.debug({ err, user: req.user_id }, 'could not tell whether a refused submit was a retry; answering the refusal');
      return undefined;
    }
  }

  // Rank reads are coalesced in the index (RankIndex.rank), which times its one Redis call per
  // batch itself: a timer per request cost more than a tenth of a rank's CPU.
  async rank(req: RankRequest): Promise<RankReply> {
    const userId = req.user_id ?? (await this.r.db('user_by_name', () => db.userIdByName(this.r.sql, req.username!)));
    if (userId === undefined) throw notFound(`no user named "${req.username}"`);
    const fromIndex = await this.r.read('rank', req.board, () => this.r.index.rank(req.board, userId), false);
    let entry: Entry;
    let totalPlayers: number;
    if (fromIndex !== UNTRUSTED) {
      if (!fromIndex) throw this.notOnBoard(userId, req.board);
      ({ entry, totalPlayers } = fromIndex);
    } else {
      const row = await this.r.db('user_on_board', () => db.userOnBoard(this.r.sql, req.board, userId));
      if (!row) throw this.notOnBoard(userId, req.board);
      const [rank, size] = await this.r.db('rank_and_size', () =>
        Promise.all([db.rankOfTotal(this.r.sql, req.board, row.total_score), db.boardSize(this.r.sql, req.board)]),
      );
      entry = { ...row, rank };
      totalPlayers = size;
    }
    return {
      board: req.board,
      user_id: entry.user_id,
      username: entry.username,
      total_score: this.r.kinds.total(req.board, entry.total_score),
      games_played: entry.games_played,
      rank: entry.rank,
      percentile: percentile(entry.rank, totalPlayers),
      total_players: totalPlayers,
    };
  }

  async top(req: TopRequest): Promise<TopReply> {
    // Only while this instance would read the index itself.
    if (this.d.topCache && this.r.indexServes(req.board)) {
      const cached = this.d.topCache(req.board, req.limit);
      if (cached) {
        this.d.metrics.indexReads.inc({ source: 'memory' });
        // One reply object per view and limit, marked so its encoding is made once (encodeReply).
        let reply = this.topReplies.get(cached);
        if (!reply || reply.board !== req.board) this.topReplies.set(cached, (reply = encodeOnce({ board: req.board, entries: cached })));
        return reply;
      }
    }
    return { board: req.board, entries: (await this.r.topView(req.board, req.limit)).entries };
  }

  async around(req: AroundRequest): Promise<AroundReply> {
    const fromIndex = await this.r.read('around', req.board, () => this.r.index.around(req.board, req.user_id, req.radius));
    const entries =
      fromIndex !== UNTRUSTED ? fromIndex : await this.r.db('around', () => db.around(this.r.sql, req.board, req.user_id, req.radius));
    if (!entries) throw this.notOnBoard(req.user_id, req.board);
    return { board: req.board, entries: this.r.kinds.entries(req.board, entries) };
  }

  /** Addition to v1: the listed users' entries in listing order, and those not on the board. */
  async ranks(req: RanksRequest): Promise<RanksReply> {
    const fromIndex = await this.r.read('ranks', req.board, () => this.r.index.ranks(req.board, req.user_ids));
    const entries = fromIndex !== UNTRUSTED ? fromIndex : await this.r.db('ranks', () => db.ranks(this.r.sql, req.board, req.user_ids));
    const found = new Set(entries.map((e) => e.user_id));
    return { board: req.board, entries: this.r.kinds.entries(req.board, entries), missing: req.user_ids.filter((id) => !found.has(id)) };
  }

  /**
   * Addition to v1: keyset pagination. One row more than the page is read, so that `next` is null
   * exactly when nothing followed the page when it was read (no empty last page to fetch).
   */
  async page(req: PageRequest): Promise<PageReply> {
    const n = req.limit + 1;
    const after = req.after && this.r.kinds.cursor(req.board, req.after);
    const fromIndex = await this.r.read('page', req.board, () => this.r.index.page(req.board, after, n));
    const rows = fromIndex !== UNTRUSTED ? fromIndex : await this.r.db('page', () => db.page(this.r.sql, req.board, after, n));
    const entries = this.r.kinds.entries(req.board, rows.slice(0, req.limit));
    const last = entries[entries.length - 1];
    const next = rows.length > req.limit && last ? { total_score: last.total_score, user_id: last.user_id } : null;
    return { board: req.board, entries, next };
  }

  /**
   * `global` first, then every mode board in name order (each also has its window boards), with
   * each one's definition; its number of players where the rank index can tell at once (a count
   * in PostgreSQL would grow with the players).
   */
  async boards(): Promise<BoardsReply> {
    const all = await this.r.db('boards', () => db.listFamilies(this.r.sql));
    const boards = [GLOBAL_BOARD, ...all.filter((b) => b !== GLOBAL_BOARD)];
    const players = await Promise.all(boards.map((b) => this.playersOf(b)));
    return { boards, definitions: boards.map((b, i) => this.r.kinds.definition(b, players[i])) };
  }

  private async playersOf(board: string): Promise<number | undefined> {
    if (!this.r.indexServes(board)) return undefined;
    try {
      const n = await this.r.index.size(board);
      return n === UNTRUSTED ? undefined : n;
    } catch (err) {
      this.d.log.debug({ err, board }, 'could not read a board\'s size from the rank index; listing it without one');
      return undefined;
    }
  }

  async history(req: HistoryRequest): Promise<HistoryReply> {
    const reply = await this.r.db('history', () => db.history(this.r.sql, req.user_id, req.limit, req.offset));
    if (!reply) throw notFound(`user ${req.user_id} has no committed score`);
    return reply;
  }

  private notOnBoard(userId: number, board: string): AppError {
    return notFound(`user ${userId} has no committed score on ${board}`);
  }

  /**
   * A submit's global rank when the index did not give it with the update: from the index when it
   * can answer (a duplicate's current total), else a bounded count in PostgreSQL (see
   * SUBMIT_RANK_COUNT_CAP), never one that grows with the number of players.
   */
  private async submitRank(userId: number, total: number, duplicate: boolean): Promise<{ rank: number; exact: boolean }> {
    if (duplicate) {
      const fromIndex = await this.r.read('rank', GLOBAL_BOARD, () => this.r.index.rank(GLOBAL_BOARD, userId), false);
      if (fromIndex !== UNTRUSTED && fromIndex && fromIndex.entry.total_score === total) return { rank: fromIndex.entry.rank, exact: true };
    }
    return this.r.db('rank_of_total', () => db.rankOfTotalCapped(this.r.sql, GLOBAL_BOARD, total, SUBMIT_RANK_COUNT_CAP));
  }
}
