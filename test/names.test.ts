/**
 * Names that impersonate, end to end on two instances sharing PostgreSQL: each name of the report
 * (issue 12, item 5) is refused or gets `conflict` beside an existing `Alice` and `player41`, with
 * nothing written; names stored before name keys, colliding ones included, keep working; and two new
 * users racing for look-alike names leave exactly one winner, decided by the unique index.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../client/sdk/connection.ts';
import { nameKey, usernameProblem, type SubmitReply } from '../protocol/index.ts';
import type { RunningApp } from '../server/app.ts';
import { ensureDatabase, type Sql } from '../server/store/db.ts';
import { migrate } from '../server/store/migrate.ts';
import { backfillNameKeys } from '../server/store/name-keys.ts';
import { http } from './support/http.ts';
import { openSql } from './support/index-state.ts';
import { connectWs, startTestApp, token } from './support/servers.ts';
import { freshStores, type FreshStores } from './support/stores.ts';

const CYRILLIC_A = '\u0410';
const CYRILLIC_a = '\u0430';
const serverToken = token('server');

/** Names an older server accepted, in the order it stored them (user id, name). */
const BEFORE: [number, string][] = [
  [10, 'Alice'], // the earliest of the names that are one name now: it keeps the key
  [3, 'alice'],
  [11, 'Alice\u200b'],
  [12, 'Alice '],
  [13, '\u202eecilA'],
  [4, 'Player41'], // a default name of user 41, in another case
  [14, '   '],
  [15, 'Bob'],
];

let stores: FreshStores;
let sql: Sql;
let apps: RunningApp[];
let ws: Connection[];

type Settled = { ok: true; reply: SubmitReply } | { ok: false; code: string; message: string };
const settle = (p: Promise<SubmitReply>): Promise<Settled> =>
  p.then(
    (reply) => ({ ok: true as const, reply }),
    (err: { code?: string; message?: string }) => ({ ok: false as const, code: err.code ?? String(err), message: err.message ?? '' }),
  );
const submit = (c: Connection, user_id: number, username?: string, submission_id?: string) =>
  settle(c.request('submit', { user_id, score: 5, game_mode: 'names', ...(username === undefined ? {} : { username }), ...(submission_id ? { submission_id } : {}) }));

async function nothingStoredFor(userId: number): Promise<boolean> {
  const [r] = await sql<{ n: number }[]>`
    SELECT (SELECT count(*) FROM users WHERE user_id = ${userId}) + (SELECT count(*) FROM game_sessions WHERE user_id = ${userId})
         + (SELECT count(*) FROM leaderboard WHERE user_id = ${userId}) AS n`;
  return Number(r!.n) === 0;
}

beforeAll(async () => {
  stores = await freshStores();
  await ensureDatabase(stores.databaseUrl, 5);
  sql = openSql(stores.databaseUrl);
  // The database as servers before name keys left it: names taken one submit each, with no key
  // (made here with a unique stand-in key, then cleared), and then the keys computed as the
  // upgrade to keys computed them (server/store/name-keys.ts, also the way to recompute them).
  await migrate(sql);
  for (const [user, name] of BEFORE) {
    const [row] = await sql`SELECT status FROM lb_submit(${user}, 7, 'names', ${name}, NULL, ${`stand-in-${user}`})`;
    expect(row, JSON.stringify(name)).toMatchObject({ status: 'ok' });
    await sql`UPDATE users SET name_key = NULL WHERE user_id = ${user}`;
    await new Promise((r) => setTimeout(r, 2)); // created_at decides who keeps a shared key
  }
  await sql.begin((tx) => backfillNameKeys(tx));
  // Two instances on it.
  apps = [await startTestApp(stores), await startTestApp(stores)];
  ws = await Promise.all(apps.map((a) => connectWs(a.port, serverToken)));
});

afterAll(async () => {
  for (const c of ws ?? []) c.close();
  for (const a of apps ?? []) await a.close();
  await sql?.end({ timeout: 5 });
  await stores?.cleanup();
});

describe('names stored before the rules', () => {
  it('get their key; where they collide, the earliest keeps it and the others stay NULL', async () => {
    const rows = await sql<{ user_id: number; name_key: string | null }[]>`SELECT user_id, name_key FROM users ORDER BY user_id`;
    expect(Object.fromEntries(rows.map((r) => [r.user_id, r.name_key]))).toEqual({
      3: null, // alice: Alice (user 10) came first
      4: null, // Player41: reserved for user 41's default name
      10: nameKey('Alice'),
      11: null,
      12: null,
      13: nameKey('\u202eecilA'),
      14: null, // nothing visible to key
      15: nameKey('Bob'),
    });
  });

  it('keep working: their users submit, keep their names, and rank finds each by its exact name', async () => {
    for (const [user, name] of BEFORE) {
      const again = await submit(ws[user % 2]!, user, name);
      if (usernameProblem(name) === undefined) {
        expect(again, `${user} ${JSON.stringify(name)}`).toMatchObject({ ok: true, reply: { user_id: user, duplicate: false } });
      } else {
        // A name the rules now refuse cannot be sent again; it stays the user's name all the same.
        expect(again, `${user} ${JSON.stringify(name)}`).toMatchObject({ ok: false, code: 'bad_request' });
      }
      expect(await submit(ws[(user + 1) % 2]!, user), `${user} without a name`).toMatchObject({ ok: true });
      expect(await sql`SELECT username FROM users WHERE user_id = ${user}`).toEqual([{ username: name }]);
      expect(await ws[0]!.request('rank', { username: name, board: 'mode:names' }), JSON.stringify(name)).toMatchObject({ user_id: user, username: name });
      expect((await ws[1]!.request('rank', { user_id: user })).username).toBe(name);
    }
    // By key when no name matches exactly: `ALICE` is Alice's.
    expect(await ws[0]!.request('rank', { username: 'ALICE' })).toMatchObject({ user_id: 10, username: 'Alice' });
    expect(await ws[0]!.request('rank', { username: `${CYRILLIC_A}lice` })).toMatchObject({ user_id: 10 });
  });

  it('take a key when renamed, like anyone', async () => {
    expect(await submit(ws[0]!, 3, 'ALICE')).toMatchObject({ ok: false, code: 'conflict' }); // Alice holds its key
    expect(await submit(ws[0]!, 3, 'alice-2')).toMatchObject({ ok: true });
    expect(await sql`SELECT username, name_key FROM users WHERE user_id = 3`).toEqual([{ username: 'alice-2', name_key: nameKey('alice-2') }]);
  });
});

describe('the names of the report, beside Alice and player41', () => {
  beforeAll(async () => {
    // User 41 takes its default name although an older `Player41` of user 4 exists.
    expect(await submit(ws[0]!, 41)).toMatchObject({ ok: true });
    expect(await sql`SELECT username, name_key FROM users WHERE user_id = 41`).toEqual([{ username: 'player41', name_key: nameKey('player41') }]);
  });

  const CONFLICTS = ['alice', 'ALICE', `${CYRILLIC_A}lice`, `${CYRILLIC_a}lice`, 'AIice', 'A1ice', 'Player41', 'pIayer41', 'PLAYER41', 'player\u0664\u0661'];
  const REFUSED = ['Alice\u200b', 'Alice ', ' Alice', '\u202eecilA', '   ', '\u3000', 'Alice\u2060', 'Ali\ufeffce', 'Al\u200fice'];

  it.each(CONFLICTS)('%j: conflict for a new user and for a rename, nothing written', async (name) => {
    const fresh = 100 + CONFLICTS.indexOf(name);
    for (const c of ws) expect(await submit(c, fresh, name, `s-${fresh}`)).toMatchObject({ ok: false, code: 'conflict' });
    expect(await nothingStoredFor(fresh)).toBe(true);
    const h = await http(apps[1]!.port, 'POST', '/api/leaderboard/submit', {
      token: serverToken,
      body: { user_id: fresh, score: 5, game_mode: 'names', username: name, submission_id: `h-${fresh}` },
    });
    expect(h.status).toBe(409);
    expect(await nothingStoredFor(fresh)).toBe(true);
    // An existing user cannot rename to it either, and keeps its name.
    expect(await submit(ws[1]!, 15, name)).toMatchObject({ ok: false, code: 'conflict' });
    expect(await sql`SELECT username FROM users WHERE user_id = 15`).toEqual([{ username: 'Bob' }]);
  });

  it.each(REFUSED)('%j: bad_request with one message over both transports, nothing written', async (name) => {
    const fresh = 200 + REFUSED.indexOf(name);
    const w = await submit(ws[0]!, fresh, name);
    expect(w).toMatchObject({ ok: false, code: 'bad_request' });
    const h = await http(apps[0]!.port, 'POST', '/api/leaderboard/submit', {
      token: serverToken,
      body: { user_id: fresh, score: 5, game_mode: 'names', username: name },
    });
    expect(h.status).toBe(400);
    expect(h.body.error.message).toBe((w as { message: string }).message);
    expect(h.body.error.message).toBe(`username: ${usernameProblem(name)}`);
    expect(await nothingStoredFor(fresh)).toBe(true);
  });

  it("a default name is its own user's in any case; an older one of another user is kept, not taken", async () => {
    expect(await submit(ws[1]!, 41, 'PLAYER41')).toMatchObject({ ok: true });
    expect(await sql`SELECT username FROM users WHERE user_id = 41`).toEqual([{ username: 'PLAYER41' }]);
    // User 4's older Player41 stays its name, and may be sent again (it renames nothing)...
    expect(await submit(ws[0]!, 4, 'Player41')).toMatchObject({ ok: true });
    expect(await sql`SELECT username, name_key FROM users WHERE user_id = 4`).toEqual([{ username: 'Player41', name_key: null }]);
    // ...but once left, it is reserved like any other form of player41.
    expect(await submit(ws[0]!, 4, 'four')).toMatchObject({ ok: true });
    expect(await submit(ws[0]!, 4, 'Player41')).toMatchObject({ ok: false, code: 'conflict' });
  });
});

describe('two new users racing for look-alike names', () => {
  it('exactly one of Alice-like names wins, over two instances; the other gets conflict and leaves no row', async () => {
    const pairs = 20;
    const results = await Promise.all(
      Array.from({ length: pairs }, (_, i) => [
        submit(ws[0]!, 3000 + 2 * i, `Alice${i}x`, 'only'),
        submit(ws[1]!, 3001 + 2 * i, `${CYRILLIC_a}lice${i}x`, 'only'),
      ]).flat(),
    );
    for (let i = 0; i < pairs; i++) {
      const pair = [results[2 * i]!, results[2 * i + 1]!];
      expect(pair.filter((r) => r.ok), `pair ${i}`).toHaveLength(1);
      expect(pair.filter((r) => !r.ok).map((r) => (r as { code: string }).code), `pair ${i}`).toEqual(['conflict']);
      const loser = pair[0]!.ok ? 3001 + 2 * i : 3000 + 2 * i;
      expect(await nothingStoredFor(loser), `pair ${i}`).toBe(true);
    }
    const [n] = await sql<{ n: number }[]>`SELECT count(*) AS n FROM users WHERE user_id BETWEEN 3000 AND ${2999 + 2 * pairs}`;
    expect(Number(n!.n)).toBe(pairs);
  });

  it('the same within group commits (the set-based path too): one of the look-alikes commits', async () => {
    const alike = ['Carol', `C${CYRILLIC_a}rol`, 'CAROL', 'Car0l'];
    const others = Array.from({ length: 12 }, (_, i) => `other-${i}`);
    const replies = await Promise.all([...alike, ...others].map((name, i) => submit(ws[0]!, 4000 + i, name)));
    expect(replies.slice(0, alike.length).filter((r) => r.ok)).toHaveLength(1);
    expect(replies.slice(0, alike.length).filter((r) => !r.ok).map((r) => (r as { code: string }).code)).toEqual(['conflict', 'conflict', 'conflict']);
    expect(replies.slice(alike.length).every((r) => r.ok)).toBe(true);
    const [n] = await sql<{ n: number }[]>`SELECT count(*) AS n FROM users WHERE user_id BETWEEN 4000 AND 4003`;
    expect(Number(n!.n)).toBe(1);
  });
});
