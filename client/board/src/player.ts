/**
 * "Find a player": reading what the viewer typed, and deciding when a live update may have moved
 * the player shown so their card is asked for again.
 */
import { MAX_USER_ID, MAX_USERNAME_CODE_POINTS } from '../../../protocol/limits.ts';
import type { RowChange } from '../../sdk/live-view.ts';

export type PlayerLookup = { user_id: number } | { username: string };

/**
 * "42" or "#42" is a user id; anything else is a username, as typed (the server finds the exact
 * name, else one with the same key: case and look-alikes do not matter, see protocol/names.ts).
 * A name made of digits can still be found by writing it in quotes: "\"1234\"".
 */
export function parsePlayerQuery(text: string): PlayerLookup | { error: string } {
  const t = text.trim();
  if (!t) return { error: 'Type a user id or a username.' };
  const id = /^#?([0-9]{1,16})$/.exec(t);
  if (id) {
    const n = Number(id[1]);
    if (n >= 1 && n <= MAX_USER_ID) return { user_id: n };
    return { error: `A user id is a whole number from 1 to ${MAX_USER_ID}.` };
  }
  const quoted = /^"(.+)"$/.exec(t);
  const name = quoted ? quoted[1]! : t;
  if ([...name].length > MAX_USERNAME_CODE_POINTS || /\p{Cc}/u.test(name)) {
    return { error: `A username is 1 to ${MAX_USERNAME_CODE_POINTS} characters.` };
  }
  return { username: name };
}

export function describeLookup(l: PlayerLookup): string {
  return 'user_id' in l ? `user #${l.user_id}` : `“${l.username}”`;
}

export interface ShownPlayer {
  user_id: number;
  rank: number;
}

/**
 * True when a top-N update can have changed the player's card: they are in it, or they sit close
 * enough below it that a row entering or leaving the top N can have passed them. Players further
 * down are kept current by the panel's interval instead.
 */
export function updateTouchesPlayer(
  update: { entries: readonly { rank: number }[]; changes: readonly RowChange[]; removed: readonly number[] },
  player: ShownPlayer,
  radius: number,
): boolean {
  if (update.changes.length === 0 && update.removed.length === 0) return false;
  if (update.changes.some((c) => c.user_id === player.user_id) || update.removed.includes(player.user_id)) return true;
  const last = update.entries.at(-1)?.rank ?? 0;
  return player.rank <= last + radius + 1;
}
