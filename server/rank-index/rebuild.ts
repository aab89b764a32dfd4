/**
 * Rebuilding one board's rank index from PostgreSQL without blocking reads or losing live writes:
 * fill a copy from one snapshot while live writers log their updates, then in one script replay
 * the log onto the copy (version-checked), swap it in and give the board a fresh epoch. A rebuild
 * of `global`, which holds every user, fills a copy of the names hash the same way (plain writes,
 * live name writes logged, swapped in just before the board); another board's rebuild writes its
 * users' names into the names hash itself, version-checked, only while that copy cannot be
 * trusted to have them (see withNames below). A rebuilt board never lacks a name.
 */
import { randomBytes } from 'node:crypto';
import type { Sql } from '../store/db.ts';
import { clearPending, pendingFor } from '../store/pending.ts';
import { boardExists, boardSize, streamBoard, type IndexRowOf } from '../store/scores.ts';
import { NO_PROGRESS, type Progress, type ProgressOutput } from '../progress.ts';
import { GLOBAL_BOARD } from '../../protocol/index.ts';
import type { IndexBulk } from './bulk.ts';
import { indexExpiry, newGeneration, type RankIndex } from './rank-index.ts';

const CHUNK_ROWS = 10_000;
/**
 * A chunk's write that meets a Redis timeout or a dropped connection is tried again (the writes
 * are idempotent: the same members and scores, names version-checked) rather than failing the
 * rebuild, which would start again from zero. Backoff 200 ms, doubling: about 6 s in all, well
 * inside the lock's life (TTL_MS), which every successful write extends.
 */
const WRITE_ATTEMPTS = 6;
const WRITE_BACKOFF_MS = 200;
const WRITES_IN_FLIGHT = 4;
/** Lock and rebuilding-mark lifetime, extended with every chunk: a dead holder's lock goes in this long. */
const TTL_MS = 15_000;

export type RebuildResult =
  /** `retries`: chunk writes tried again after a Redis timeout or a dropped connection. */
  | { status: 'rebuilt'; board: string; rows: number; epoch: string; ms: number; retries: number }
  | { status: 'busy'; board: string }
  | { status: 'unknown'; board: string }
  | { status: 'expired'; board: string };

/**
 * A Redis failure worth trying the same write again for: a timeout, a connection lost or not yet
 * back, a server loading or busy. Error replies (a script's refusal, out of memory) and a lost
 * lock are not.
 */
function isTransient(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.message.includes('lost its lock')) return false;
  if (err.name === 'ReplyError') return /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN)\b/.test(err.message);
  return true;
}

/**
 * Takes the board's rebuild lock. The lock's value starts with its holder's instance id: a lock
 * whose holder's heartbeat is gone (it died mid-rebuild) is taken over at once rather than waited out.
 */
async function acquire(bulk: IndexBulk, board: string, token: string): Promise<boolean> {
  if (await bulk.lock(board, token, TTL_MS)) return true;
  const holder = await bulk.lockHolder(board);
  if (holder === null) return bulk.lock(board, token, TTL_MS);
  const holderInstance = holder.split(':')[0]!;
  if (await bulk.instanceAlive(holderInstance)) return false;
  await bulk.unlock(board, holder);
  return bulk.lock(board, token, TTL_MS);
}

/**
 * Rebuilds one board; `owner` is the instance id of the caller (its heartbeat vouches for the lock).
 * `progress` shows the rows copied of the board's total (counted only when it is drawn).
 */
export async function rebuildBoard(
  index: RankIndex,
  sql: Sql,
  board: string,
  owner: string = `tool-${randomBytes(4).toString('hex')}`,
  progress: ProgressOutput = NO_PROGRESS,
): Promise<RebuildResult> {
  const bulk = index.bulk;
  const token = `${owner}:${randomBytes(8).toString('hex')}`;
  const started = performance.now();
  // A board nobody has scored on gets no index: reads of it answer empty from PostgreSQL, and
  // a client asking for made-up boards cannot make Redis keys.
  if (!(await boardExists(sql, board))) return { status: 'unknown', board };
  // The owner's heartbeat vouches for the lock; a server's heartbeat keeps it too, a tool only has this.
  await bulk.beat(owner, TTL_MS);
  if (!(await acquire(bulk, board, token))) return { status: 'busy', board };
  let line: Progress | undefined;
  let copied = 0;
  let retries = 0;
  let outcome = 'failed';
  try {
    // Counted outside the copy's snapshot: the total may be off by the writes in between.
    line = progress.start(`rebuild ${board}`, progress.enabled ? await boardSize(sql, board) : undefined, 'rows');
    await bulk.beginCopy(board, TTL_MS);
    // Reading the next chunk from PostgreSQL overlaps writing earlier ones to Redis.
    const writing = new Set<Promise<void>>();
    const namesTo = board === GLOBAL_BOARD ? 'copy' : 'hash';
    // Before the snapshot: every name written live from now on is logged for the names copy.
    if (namesTo === 'copy') await bulk.beginNamesCopy(token, TTL_MS);
    const writeOnce = async (chunk: IndexRowOf<boolean>[]) => {
      if (!(await bulk.writeCopy(board, token, owner, chunk, TTL_MS, namesTo))) throw new Error(`rebuild of ${board} lost its lock (or its names copy)`);
      copied += chunk.length;
      line?.update(copied);
    };
    const write = async (chunk: IndexRowOf<boolean>[]) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await writeOnce(chunk);
        } catch (err) {
          if (attempt >= WRITE_ATTEMPTS || !isTransient(err)) throw err;
          retries++;
          await new Promise((r) => setTimeout(r, WRITE_BACKOFF_MS * 2 ** (attempt - 1)));
        }
      }
    };
    let included: { instance: string; token: number }[] = [];
    // Names: `global` writes every user's (and fills the hash). Another board's users all have a
    // `global` row, so while a rebuild of `global` has filled the hash and `global` is trusted
    // (live commits keep both current; a lost update invalidates `global`, whose rebuild then
    // writes the names again) they are there: the rows are read without them, which spares
    // PostgreSQL two joins and Redis a name per row.
    const withNames = board === GLOBAL_BOARD || !((await index.namesFilled()) && (await index.trusted(GLOBAL_BOARD)));
    // The rows come sorted: on a large board PostgreSQL's sort may outlast the lock's life before
    // the first chunk extends it. Until the copy is filled the lock and marks are also extended on
    // a timer. Its failure is not the rebuild's: a lock or mark lost meanwhile fails the next
    // chunk's write or the swap, which fail the rebuild.
    const keepAlive = setInterval(() => {
      bulk.extend(board, token, owner, TTL_MS, namesTo === 'copy').catch(() => undefined);
    }, TTL_MS / 3);
    const rows = await streamBoard<boolean>(
      sql,
      board,
      CHUNK_ROWS,
      async (chunk) => {
        const w = write(chunk);
        writing.add(w);
        void w.then(
          () => writing.delete(w),
          () => undefined, // awaited below, where the error is thrown
        );
        if (writing.size >= WRITES_IN_FLIGHT) await Promise.race(writing);
      },
      // The commits these pending rows stand for are in this snapshot, so in the copy.
      async (tx) => {
        included = await pendingFor(tx, board);
      },
      withNames,
    ).finally(() => clearInterval(keepAlive));
    await Promise.all(writing);
    const epoch = newGeneration();
    const expiry = String(indexExpiry(board) ?? '');
    // The names first: a board swapped in is read with them.
    if (namesTo === 'copy' && !(await bulk.swapNamesCopy(token, epoch))) {
      outcome = 'expired';
      return { status: 'expired', board };
    }
    const swapped = await bulk.swapCopy(board, token, epoch, expiry);
    if (swapped === null) {
      outcome = 'expired';
      return { status: 'expired', board };
    }
    outcome = 'done';
    await clearPending(sql, board, included);
    return { status: 'rebuilt', board, rows, epoch, ms: performance.now() - started, retries };
  } finally {
    line?.finish(outcome);
    await bulk.unlock(board, token);
  }
}
