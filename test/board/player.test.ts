/** "Find a player": reading the query and deciding when a live update touches the player shown. */
import { describe, expect, it } from 'vitest';
import { parsePlayerQuery, updateTouchesPlayer } from '../../client/board/src/player.ts';

describe('parsePlayerQuery', () => {
  it('reads ids, names and quoted digit names', () => {
    expect(parsePlayerQuery(' 42 ')).toEqual({ user_id: 42 });
    expect(parsePlayerQuery('#42')).toEqual({ user_id: 42 });
    expect(parsePlayerQuery('Zoë')).toEqual({ username: 'Zoë' });
    expect(parsePlayerQuery('"1234"')).toEqual({ username: '1234' });
    expect(parsePlayerQuery('<img src=x onerror=alert(1)>')).toEqual({ username: '<img src=x onerror=alert(1)>' });
  });

  it('refuses what the server would refuse', () => {
    expect(parsePlayerQuery('')).toHaveProperty('error');
    expect(parsePlayerQuery('0')).toHaveProperty('error');
    expect(parsePlayerQuery('9999999999999999')).toHaveProperty('error');
    expect(parsePlayerQuery('x'.repeat(33))).toHaveProperty('error');
    expect(parsePlayerQuery('a\u0007b')).toHaveProperty('error');
  });
});

describe('updateTouchesPlayer', () => {
  const entries = Array.from({ length: 10 }, (_, i) => ({ rank: i + 1 }));
  const moved = { entries, changes: [{ user_id: 99, kind: 'up' as const, from: 4, to: 2, scoreDelta: 5 }], removed: [] };

  it('is true when the player moved, or sits just below a top N that changed', () => {
    expect(updateTouchesPlayer({ ...moved, changes: [{ user_id: 7, kind: 'same', from: 3, to: 3, scoreDelta: 1 }] }, { user_id: 7, rank: 3 }, 3)).toBe(true);
    expect(updateTouchesPlayer(moved, { user_id: 7, rank: 12 }, 3)).toBe(true);
    expect(updateTouchesPlayer({ entries, changes: [], removed: [7] }, { user_id: 7, rank: 11 }, 3)).toBe(true);
  });

  it('is false for players far below, and for updates that changed nothing', () => {
    expect(updateTouchesPlayer(moved, { user_id: 7, rank: 500 }, 3)).toBe(false);
    expect(updateTouchesPlayer({ entries, changes: [], removed: [] }, { user_id: 7, rank: 3 }, 3)).toBe(false);
  });
});
