/**
 * Lua scripts of the rank index. Each board script touches the keys of one board only (one hash
 * slot), runs atomically, and answers in one round trip; names live in one hash of their own
 * (keys.ts), written by SET_NAMES.
 *
 * Updates carry absolute values from a PostgreSQL commit, never increments: `games_played` grows by
 * one with every commit of that user on that board, so it orders a user's updates, and an update
 * older than what the index holds is ignored. Replays, reordering across instances and a rebuild
 * racing live writes therefore all converge on what PostgreSQL holds. Names carry their own
 * version (the user's global games_played when the name was set), checked the same way.
 *
 * The read scripts take the names hash as an optional fourth key: on a single Redis they read the
 * names in the same call; on a cluster (another slot) they answer nil in its place and the caller
 * reads the names with one HMGET after them.
 *
 * Their commands' key counts and TypeScript signatures are in commands.ts. The notice of a new
 * generation is named in keys.ts, beside the parser of the channel's messages, and interpolated
 * here, so the Lua writing it and the TypeScript reading it cannot disagree.
 */
import { GENERATION_NOTICE, NAMES_FILLED } from './keys.ts';

/** A Lua string literal of `s`. */
function luaString(s: string): string {
  return `'${s.replace(/[\\']/g, '\\$&')}'`;
}

/** The notice of a new index generation of a board, as a Lua literal (see ChangeNotice). */
const GENERATION = luaString(GENERATION_NOTICE);

/** apply(z, h, member, negscore, games): the version-checked upsert of one user on one board. */
const APPLY = `
local function apply(z, h, member, negscore, gs)
  local g0 = tonumber(redis.call('HGET', h, member)) or -1
  if tonumber(gs) <= g0 then return false end
  redis.call('ZADD', z, negscore, member)
  redis.call('HSET', h, member, gs)
  return true
end
`;

/**
 * trusted(epoch, z, h): the board's generation, or false when its index is not to be trusted: no
 * epoch, or an epoch that does not record an empty board ('~') while z or h is gone. Redis
 * deletes an empty set, and nothing removes a member from a board, so a board with players lost
 * its set only by eviction (or by hand): reads must not answer it as empty.
 */
const TRUSTED = `
local function trusted(epoch, z, h)
  local e = redis.call('GET', epoch)
  if not e then return false end
  if string.byte(e, -1) == 126 then return string.sub(e, 1, -2) end
  if redis.call('EXISTS', z, h) < 2 then return false end
  return e
end
`;

/**
 * rows(epoch, start, stop): a read's reply for the rows from listing position start to stop
 * (inclusive, 0-based); names(members): their names (the name alone, without the version the
 * hash holds it with: see SET_NAMES), false without the names key.
 * KEYS: epoch, z, h[, names].
 */
const ROWS = `
local function names(members)
  if not KEYS[4] then return false end
  if #members == 0 then return {} end
  local held = redis.call('HMGET', KEYS[4], unpack(members))
  for i = 1, #held do
    local v = held[i]
    if v then held[i] = string.sub(v, string.find(v, ':', 1, true) + 1) end
  end
  return held
end
local function rows(epoch, start, stop)
  local m = redis.call('ZRANGE', KEYS[2], start, stop, 'WITHSCORES')
  if #m == 0 then return {epoch, 1, start, m, {}, {}} end
  local members = {}
  for i = 1, #m / 2 do members[i] = m[2 * i - 1] end
  local first = redis.call('ZCOUNT', KEYS[2], '-inf', '(' .. m[2]) + 1
  return {epoch, first, start, m, redis.call('HMGET', KEYS[3], unpack(members)), names(members)}
end
`;

/**
 * Opens every read script (after TRUSTED): the board's generation in `epoch`, or the reply nil
 * when the board's index is not trusted. KEYS: epoch, z, h.
 */
const READ_EPOCH = `
local epoch = trusted(KEYS[1], KEYS[2], KEYS[3])
if not epoch then return false end
`;

/**
 * log_args(log, from): appends ARGV[from..] to a rebuild's log list (what live writers record
 * while a copy fills), in slices that stay within Lua's stack for unpack.
 */
const LOG_ARGS = `
local function log_args(log, from)
  for i = from, #ARGV, 3000 do redis.call('RPUSH', log, unpack(ARGV, i, math.min(i + 2999, #ARGV))) end
end
`;

/**
 * expire_at(at, epoch, z, h): a window board's keys go at `at` (ms since the epoch), some time after
 * its period ends (its reads then come from PostgreSQL); '' leaves all-time boards' keys alone.
 */
const EXPIRE_AT = `
local function expire_at(at, epoch, z, h)
  if at == '' then return end
  redis.call('PEXPIREAT', epoch, at)
  redis.call('PEXPIREAT', z, at)
  redis.call('PEXPIREAT', h, at)
end
`;

/**
 * Committed updates on one board (several users, or one user several times, in commit order).
 * Those that change the index are announced on the board's channel in one message,
 * "<member>:<negscore>:<games>" joined by '|', so every instance's live feeds hear of them.
 * KEYS: epoch, z, h, rebuilding, log, channel
 * ARGV: fresh epoch (used only for a new board), is-new-board ('1'|'0'), log ttl ms, expire-at
 *       (a window board's: see EXPIRE_AT; '' for all-time boards), ranks wanted ('1'|'0'),
 *       then per update: member, negscore, games
 * Returns {0} when the board's index is not trusted (nothing applied), else {1, epoch, rank...}:
 * when ranks are wanted, for each update the competition rank of its total just after it.
 */
export const APPLY_UPDATES = `${APPLY}${EXPIRE_AT}${LOG_ARGS}
local n = (#ARGV - 5) / 3
local ranked = ARGV[5] == '1'
if redis.call('EXISTS', KEYS[4]) == 1 then
  log_args(KEYS[5], 6)
  redis.call('PEXPIRE', KEYS[5], ARGV[3])
end
local raw = redis.call('GET', KEYS[1])
local epoch, empty = raw, false
if raw then
  if string.byte(raw, -1) == 126 then
    epoch, empty = string.sub(raw, 1, -2), true
  elseif redis.call('EXISTS', KEYS[2], KEYS[3]) < 2 then
    epoch = false -- evicted (see TRUSTED): applying onto what is left would serve a partial board
  end
end
if not epoch then
  if raw or ARGV[2] ~= '1' then
    -- A commit the untrusted index cannot take: views of the board elsewhere are stale now.
    redis.call('SPUBLISH', KEYS[6], ${GENERATION})
    return {0}
  end
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
end
local out = {1, epoch}
local changed = {}
for i = 0, n - 1 do
  local b = 6 + 3 * i
  if apply(KEYS[2], KEYS[3], ARGV[b], ARGV[b + 1], ARGV[b + 2]) then
    changed[#changed + 1] = ARGV[b] .. ':' .. ARGV[b + 1] .. ':' .. ARGV[b + 2]
  end
  if ranked then out[#out + 1] = redis.call('ZCOUNT', KEYS[2], '-inf', '(' .. ARGV[b + 1]) + 1 end
end
if #changed > 0 then
  if empty then redis.call('SET', KEYS[1], epoch, 'KEEPTTL') end -- it has players now
  redis.call('SPUBLISH', KEYS[6], table.concat(changed, '|'))
end
expire_at(ARGV[4], KEYS[1], KEYS[2], KEYS[3])
return out
`;

/**
 * set_name(h, member, version, name): a user's name, version-checked: a name older than the one
 * held is ignored. One of the same version is written (a version is one commit, so it can differ
 * only by damage, which a rebuild's fill then repairs). Answers whether an existing name changed.
 */
const SET_NAME = `
local function set_name(h, member, vs, name)
  local cur = redis.call('HGET', h, member)
  local v0, n0 = -1, nil
  if cur then
    local a = string.find(cur, ':', 1, true)
    v0, n0 = tonumber(string.sub(cur, 1, a - 1)), string.sub(cur, a + 1)
  end
  if tonumber(vs) < v0 then return false end
  redis.call('HSET', h, member, vs .. ':' .. name)
  return n0 ~= nil and n0 ~= name
end
`;

/**
 * Users' names (set_name). Those that change an existing name are announced on the names
 * channel, "<member>" joined by '|', so live views holding the user are read again. While a
 * rebuild of `global` fills a copy of the hash, the names are also logged for its swap (NAMES_SWAP).
 * KEYS: names, names channel, names log, names rebuilding mark; ARGV: per user: member, version, name.
 * Returns the members renamed.
 */
export const SET_NAMES = `${SET_NAME}${LOG_ARGS}
if redis.call('EXISTS', KEYS[4]) == 1 then
  log_args(KEYS[3], 1)
  local ttl = redis.call('PTTL', KEYS[4])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[3], ttl) end
end
local renamed = {}
for i = 1, #ARGV, 3 do
  if set_name(KEYS[1], ARGV[i], ARGV[i + 1], ARGV[i + 2]) then renamed[#renamed + 1] = ARGV[i] end
end
if #renamed > 0 then redis.call('SPUBLISH', KEYS[2], table.concat(renamed, '|')) end
return renamed
`;

/**
 * Starts a rebuild's copy of the names hash: from now on live name writes are logged (SET_NAMES).
 * The mark holds the rebuild's token, so a later rebuild's start makes an earlier one's swap fail.
 * KEYS: names log, names rebuilding mark; ARGV: token, ttl ms.
 */
export const NAMES_BEGIN = `
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1
`;

/**
 * Extends the names copy, its log and its mark while the mark is the rebuild's (an abandoned copy
 * expires by itself). KEYS: names rebuilding mark, copy, log; ARGV: token, ttl ms. Returns 1 or 0.
 */
export const NAMES_EXTEND = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
return 1
`;

/**
 * Finishes a rebuild's copy of the names hash: replays the names logged while it was filled
 * (set_name, so order does not matter), marks it filled (NAMES_FILLED = ARGV[2]) and swaps it in.
 * Refuses (returns 0) when the mark is gone or another rebuild's: names may have gone unlogged.
 * KEYS: names, copy, log, mark; ARGV: token, the generation it was filled by.
 */
export const NAMES_SWAP = `${SET_NAME}
if redis.call('GET', KEYS[4]) ~= ARGV[1] then return 0 end
local log = redis.call('LRANGE', KEYS[3], 0, -1)
for i = 1, #log, 3 do set_name(KEYS[2], log[i], log[i + 1], log[i + 2]) end
redis.call('HSET', KEYS[2], ${luaString(NAMES_FILLED)}, ARGV[2])
redis.call('UNLINK', KEYS[1]) -- freed in the background (see REBUILD_SWAP)
redis.call('RENAME', KEYS[2], KEYS[1])
redis.call('PERSIST', KEYS[1])
redis.call('DEL', KEYS[3], KEYS[4])
return 1
`;

/** Whether a board's index is trusted (see TRUSTED). KEYS: epoch, z, h. Returns 1 or 0. */
export const IS_TRUSTED = `${TRUSTED}
if trusted(KEYS[1], KEYS[2], KEYS[3]) then return 1 end
return 0
`;

/**
 * Rows from listing position ARGV[1] to ARGV[2] (inclusive, 0-based).
 * KEYS: epoch, z, h[, names]. Returns nil when untrusted, else
 * {epoch, firstRank, start, flat member/score, games values, names (nil without the names key)}.
 */
export const READ_RANGE = `${TRUSTED}${ROWS}${READ_EPOCH}
local start = tonumber(ARGV[1])
return rows(epoch, start, tonumber(ARGV[2]))
`;

/**
 * The rows around a member: up to ARGV[2] either side of it.
 * KEYS: epoch, z, h[, names]. Returns nil when untrusted, {epoch} when the member is absent, else
 * as READ_RANGE.
 */
export const READ_AROUND = `${TRUSTED}${ROWS}${READ_EPOCH}
local pos = redis.call('ZRANK', KEYS[2], ARGV[1])
if not pos then return {epoch} end
local radius = tonumber(ARGV[2])
local start = pos - radius
if start < 0 then start = 0 end
return rows(epoch, start, pos + radius)
`;

/**
 * Several members' rows at once (the `ranks` addition, and the `rank` requests of one moment,
 * coalesced). KEYS: epoch, z, h[, names]; ARGV: members. Returns nil when untrusted, else {epoch,
 * totals, ranks, games, names, total players}, one element of each list per member in ARGV order
 * (totals and games as integers, which the client reads without making strings of them): false
 * and rank 0 for a member not on the board, false games for a score without its row.
 */
export const READ_RANKS = `${TRUSTED}${ROWS}${READ_EPOCH}
local scores = redis.call('ZMSCORE', KEYS[2], unpack(ARGV))
local values = redis.call('HMGET', KEYS[3], unpack(ARGV))
local totals, ranks, games, byScore = {}, {}, {}, {}
for i = 1, #ARGV do
  local s = scores[i]
  if s then
    local r = byScore[s]
    if not r then
      r = redis.call('ZCOUNT', KEYS[2], '-inf', '(' .. s) + 1
      byScore[s] = r
    end
    ranks[i] = r
    totals[i] = -tonumber(s)
  else
    ranks[i] = 0
    totals[i] = false
  end
  games[i] = tonumber(values[i]) or false
end
return {epoch, totals, ranks, games, names(ARGV), redis.call('ZCARD', KEYS[2])}
`;

/**
 * The rows after a position in listing order (the `page` addition), as READ_RANGE answers.
 * KEYS: epoch, z, h[, names]; ARGV: the cursor's negscore and member ('' and '' for the top), row
 * count. The cursor need not be a row of the board (its user may have scored since): the start is
 * the number of rows ordered at or before it, found by ZRANK when its user still sits there, else
 * by a binary search over the positions of its tie group (ties are ordered by member bytes).
 */
export const READ_PAGE = `${TRUSTED}${ROWS}${READ_EPOCH}
local start = 0
if ARGV[1] ~= '' then
  local s, member = ARGV[1], ARGV[2]
  local cur = redis.call('ZSCORE', KEYS[2], member)
  if cur and tonumber(cur) == tonumber(s) then
    start = redis.call('ZRANK', KEYS[2], member) + 1
  else
    local lo = redis.call('ZCOUNT', KEYS[2], '-inf', '(' .. s)
    local hi = lo + redis.call('ZCOUNT', KEYS[2], s, s)
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      if redis.call('ZRANGE', KEYS[2], mid, mid)[1] > member then hi = mid else lo = mid + 1 end
    end
    start = lo
  end
end
return rows(epoch, start, start + tonumber(ARGV[3]) - 1)
`;

/**
 * Starts a rebuild: clears the log, then marks the board as rebuilding so live writers log their
 * updates from now on. KEYS: log, rebuilding; ARGV: ttl ms.
 */
export const REBUILD_BEGIN = `
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return 1
`;

/**
 * Finishes a rebuild: replays the updates logged while the copy was filled (version-checked, so
 * order does not matter), swaps the copy in and sets a fresh epoch (marked empty, '~', when the
 * board has no players). Refuses (returns nil) when the rebuilding mark expired, since updates may
 * then have gone unlogged. Only the holder of the board's rebuild lock may swap. Announces the new
 * generation (GENERATION) on the board's channel, so every instance's views of the board are read again.
 * KEYS: epoch, z, h, tz, th, log, rebuilding, lock, channel; ARGV: fresh epoch, lock token, expire-at
 * ('' for an all-time board, whose keys then live without a TTL).
 */
export const REBUILD_SWAP = `${APPLY}${EXPIRE_AT}
if redis.call('EXISTS', KEYS[7]) == 0 or redis.call('GET', KEYS[8]) ~= ARGV[2] then return false end
local log = redis.call('LRANGE', KEYS[6], 0, -1)
for i = 1, #log, 3 do
  apply(KEYS[4], KEYS[5], log[i], log[i + 1], log[i + 2])
end
-- UNLINK first: the old set is freed in the background, where RENAME over it would free it here
-- (a million members held Redis for a good part of a second).
redis.call('UNLINK', KEYS[2], KEYS[3])
if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('RENAME', KEYS[4], KEYS[2]); redis.call('PERSIST', KEYS[2]) end
if redis.call('EXISTS', KEYS[5]) == 1 then redis.call('RENAME', KEYS[5], KEYS[3]); redis.call('PERSIST', KEYS[3]) end
redis.call('DEL', KEYS[6], KEYS[7])
local generation = ARGV[1]
if redis.call('EXISTS', KEYS[2]) == 0 then generation = generation .. '~' end
redis.call('SET', KEYS[1], generation)
expire_at(ARGV[3], KEYS[1], KEYS[2], KEYS[3])
redis.call('SPUBLISH', KEYS[9], ${GENERATION})
return ARGV[1]
`;

/**
 * Stops every instance trusting a board's index: deletes its epoch and announces it (GENERATION).
 * KEYS: epoch, channel.
 */
export const INVALIDATE = `
redis.call('DEL', KEYS[1])
redis.call('SPUBLISH', KEYS[2], ${GENERATION})
return 1
`;

/**
 * Extends the lock, the rebuilding mark and the copy being filled while the holder still owns the
 * lock (an abandoned copy expires by itself). KEYS: lock, rebuilding, tz, th; ARGV: token, ttl.
 */
export const REBUILD_EXTEND = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
return 1
`;

/** Releases a lock only if the caller still holds it. KEYS: lock; ARGV: token. */
export const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
