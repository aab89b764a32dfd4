/**
 * Computes every user's name key (users.name_key) in JavaScript, the key being a function of the
 * contract (protocol/names.ts) that SQL cannot compute: how keys were first given to names stored
 * before them, and the way to recompute them all should the key function ever change (a migration
 * with a JavaScript step calling this).
 */
import { mayUseUsername, nameKey } from '../../protocol/index.ts';
import type { Tx } from './db.ts';

const CHUNK = 10_000;

/**
 * The key an existing user may hold, or null: none for a default name of another user (it is
 * reserved for its own user however old the other name), none for a name with nothing visible.
 */
export function storedKeyOf(userId: number, username: string): string | null {
  const key = nameKey(username);
  return key === '' || !mayUseUsername(userId, username) ? null : key;
}

/**
 * Sets users.name_key for every user. Where names collide on their key, the earliest user
 * (created_at, then user_id) takes it and the others are left NULL (see sql/001 users.name_key).
 */
export async function backfillNameKeys(tx: Tx): Promise<void> {
  await tx`UPDATE users SET name_key = NULL WHERE name_key IS NOT NULL`;
  await tx`CREATE TEMP TABLE name_key_backfill (user_id bigint PRIMARY KEY, name_key text NOT NULL) ON COMMIT DROP`;
  for (let after = 0; ; ) {
    const rows = await tx<{ user_id: number; username: string }[]>`
      SELECT user_id, username FROM users WHERE user_id > ${after} ORDER BY user_id LIMIT ${CHUNK}`;
    if (rows.length === 0) break;
    after = rows.at(-1)!.user_id;
    const keyed = rows.flatMap((r) => {
      const key = storedKeyOf(r.user_id, r.username);
      return key === null ? [] : [{ id: r.user_id, key }];
    });
    await tx`
      INSERT INTO name_key_backfill (user_id, name_key)
      SELECT * FROM unnest(${tx.array(keyed.map((k) => k.id), 20)}::bigint[], ${tx.array(keyed.map((k) => k.key), 25)}::text[])`;
  }
  await tx`
    UPDATE users u SET name_key = w.name_key
    FROM (
      SELECT DISTINCT ON (b.name_key) b.user_id, b.name_key
      FROM name_key_backfill b JOIN users x USING (user_id)
      ORDER BY b.name_key, x.created_at, x.user_id
    ) w
    WHERE u.user_id = w.user_id`;
}
