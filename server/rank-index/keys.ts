/**
 * Every Redis key the server writes under its prefix, and the member naming of the rank index.
 * Every key of one board shares the hash tag `{<board>}`, so a board's multi-key scripts stay in
 * one slot on a Redis Cluster.
 *
 * Per board:
 *   z        sorted set, member = 16-digit zero-padded user id, score = -total_score. Ascending
 *            order is then listing order (total desc, user_id asc, ties by member bytes).
 *   h        hash, member -> "<games_played>" on the board.
 *   epoch    the index generation of the board; absent means the board's index is not to be
 *            trusted. A generation ending in '~' records a board with no players: Redis deletes
 *            an empty sorted set, so any other board whose z or h is missing lost it (evicted).
 *   z~ h~    the copy a rebuild is filling; log: updates committed while it fills.
 *   rebuilding, lock: a rebuild in progress, and who runs it.
 *   changes  the pub/sub channel on which committed changes are announced.
 *
 * Once for all boards, under the hash tag `{names}` (one slot):
 *   names          hash, member -> "<name_version>:<username>". A user's name lives here only, so
 *                  a rename is one write whatever the number of boards the user is on. Its field
 *                  '!' says that a rebuild of `global` (which holds every user) has filled it since
 *                  it was created: without it (evicted, flushed) names may be missing, and the
 *                  maintainer rebuilds `global`.
 *   names:changes  the pub/sub channel announcing renames: "<member>" joined by '|'.
 *   names~<rebuild>, names:log, names:rebuilding: a rebuild of `global` fills a copy of the
 *                  names hash (plain writes, no version checks) while live name writes are also
 *                  logged, then replays the log onto the copy and swaps it in (scripts.ts, NAMES_SWAP).
 *
 * Per server instance, under `{instances}`: `<instance id>:alive`, its heartbeat (heartbeat.ts).
 *
 * Per user, under `{u:<user id>}` (one slot, for the one script admitting a submit; see
 * limits/submit-guard.ts): `bucket`, the token bucket; `minute:<game mode>` and `minute-all`, the
 * per-minute score budgets of a mode and of all modes.
 */

export interface BoardKeys {
  epoch: string;
  z: string;
  h: string;
  /** The copy one rebuild fills (each rebuild its own, so a stolen rebuild cannot mix into another). */
  tz(rebuild: string): string;
  th(rebuild: string): string;
  log: string;
  rebuilding: string;
  lock: string;
  /** Pub/sub channel announcing the board's index changes to every instance. */
  channel: string;
}

export function boardKeys(prefix: string, board: string): BoardKeys {
  const base = `${prefix}:{${board}}:`;
  return {
    epoch: base + 'epoch',
    z: base + 'z',
    h: base + 'h',
    tz: (rebuild) => `${base}z~${rebuild}`,
    th: (rebuild) => `${base}h~${rebuild}`,
    log: base + 'log',
    rebuilding: base + 'rebuilding',
    lock: base + 'lock',
    channel: base + 'changes',
  };
}

/**
 * Finds boards from their keys (reconcile's search for boards only Redis has): the SCAN pattern of
 * every board's keys under the prefix, and the board an index key (epoch, z or h) belongs to.
 */
export function boardKeyScan(prefix: string): { glob: string; boardOf(key: string): string | undefined } {
  const pattern = new RegExp(`^${prefix.replace(/[.]/g, '\\.')}:\\{(.+)\\}:(epoch|z|h)$`);
  return { glob: `${prefix}:{*}:*`, boardOf: (key) => pattern.exec(key)?.[1] };
}

const MEMBER_WIDTH = 16; // 2^53 - 1 has 16 digits

export interface NamesKeys {
  names: string;
  channel: string;
  /** The copy one rebuild of `global` fills (see the header). */
  copy(rebuild: string): string;
  log: string;
  rebuilding: string;
}

/** The hash of every user's name, the channel announcing renames, and a rebuild's copy (one slot). */
export function namesKeys(prefix: string): NamesKeys {
  const names = `${prefix}:{names}`;
  return { names, channel: `${names}:changes`, copy: (rebuild) => `${names}~${rebuild}`, log: `${names}:log`, rebuilding: `${names}:rebuilding` };
}

/** The names hash's field marking it filled by a rebuild of `global` (see the header). */
export const NAMES_FILLED = '!';

/** The heartbeat key of a server instance (see heartbeat.ts); its absence means the instance is gone. */
export function instanceAliveKey(prefix: string, instanceId: string): string {
  return `${prefix}:{instances}:${instanceId}:alive`;
}

/** A user's submit limits (see the header): one hash tag, so the admitting script touches one slot. */
export interface SubmitLimitKeys {
  bucket: string;
  modeMinute: string;
  allMinute: string;
}

export function submitLimitKeys(prefix: string, userId: number, gameMode: string): SubmitLimitKeys {
  const base = `${prefix}:{u:${userId}}:`;
  return { bucket: base + 'bucket', modeMinute: base + `minute:${gameMode}`, allMinute: base + 'minute-all' };
}

export function toMember(userId: number): string {
  return String(userId).padStart(MEMBER_WIDTH, '0');
}

export function fromMember(member: string): number {
  return Number(member);
}

/** A change announced on a board's channel (see APPLY_UPDATES). */
export interface ChangeNotice {
  userId: number;
  total: number;
  games: number;
  /** The board's index changed generation (rebuilt, invalidated, or missed a commit): re-read it. */
  generation?: true;
}

/** The message announcing a new index generation of a board. */
export const GENERATION_NOTICE = '!';

/** Parses a channel message: one or more notices joined by '|'. Malformed parts are skipped. */
export function parseChangeNotices(message: string): ChangeNotice[] {
  const out: ChangeNotice[] = [];
  for (const part of message.split('|')) {
    if (part === GENERATION_NOTICE) {
      out.push({ userId: 0, total: 0, games: 0, generation: true });
      continue;
    }
    const [member, negScore, games] = part.split(':');
    if (member === undefined || negScore === undefined || games === undefined) continue;
    out.push({ userId: fromMember(member), total: 0 - Number(negScore), games: Number(games) });
  }
  return out;
}

/** Parses a rename announcement (see SET_NAMES): the user ids renamed. */
export function parseRenames(message: string): number[] {
  return message
    .split('|')
    .filter((m) => /^\d+$/.test(m))
    .map(fromMember);
}

/** Parses a names hash value "<version>:<name>" (the name may itself contain ':'). */
export function parseNameValue(value: string): { version: number; name: string } {
  const a = value.indexOf(':');
  return { version: Number(value.slice(0, a)), name: value.slice(a + 1) };
}
