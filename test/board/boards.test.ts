/** The board picker's list and when it is asked for again. */
import { describe, expect, it } from 'vitest';
import { BOARDS_REFRESH_MAX_MS, BOARDS_REFRESH_MIN_MS, boardList, boardsDue } from '../../client/board/src/boards.ts';

describe('boardList', () => {
  it('puts global first, sorts modes, drops malformed ids and keeps the selected board', () => {
    expect(boardList(['mode:zeta', 'global', 'mode:alpha', 'bogus', 'mode:BAD'], 'global')).toEqual(['global', 'mode:alpha', 'mode:zeta']);
    expect(boardList([], 'mode:ranked')).toEqual(['global', 'mode:ranked']);
    expect(boardList(['global', 'mode:a'], 'mode:a')).toEqual(['global', 'mode:a']);
    // A time window selects its family's tab; window ids are never tabs of their own.
    expect(boardList(['global', 'mode:a', 'global:daily:2026-11-30'], 'mode:b:weekly')).toEqual(['global', 'mode:a', 'mode:b']);
    expect(boardList([], 'global:monthly')).toEqual(['global']);
  });
});

describe('boardsDue', () => {
  it('asks at once, sooner when scores arrive, and at least every MAX', () => {
    expect(boardsDue(undefined, 0, false)).toBe(true);
    expect(boardsDue(0, BOARDS_REFRESH_MIN_MS - 1, true)).toBe(false);
    expect(boardsDue(0, BOARDS_REFRESH_MIN_MS, true)).toBe(true);
    expect(boardsDue(0, BOARDS_REFRESH_MIN_MS, false)).toBe(false);
    expect(boardsDue(0, BOARDS_REFRESH_MAX_MS, false)).toBe(true);
  });
});
