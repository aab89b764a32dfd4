/** Time-window board ids: parsing, period keys and bounds (UTC, ISO weeks), resolution of current-period ids. */
import { describe, expect, it } from 'vitest';
import {
  formatBoard,
  isBoardId,
  isCurrentPeriodAlias,
  isIndexedBoard,
  parseBoard,
  periodEnd,
  periodKey,
  periodStart,
  periodSuffixes,
  resolveBoard,
} from '../../protocol/index.ts';
import { loadConfig } from '../../server/config.ts';

const at = (iso: string) => Date.parse(iso);

describe('period keys', () => {
  it.each([
    ['2026-11-30T00:00:00.000Z', '2026-11-30', '2026-W49', '2026-11'],
    ['2026-11-29T23:59:59.999Z', '2026-11-29', '2026-W48', '2026-11'],
    ['2021-01-03T12:00:00Z', '2021-01-03', '2020-W53', '2021-01'], // a Sunday in the last ISO week of 2020
    ['2024-12-30T00:00:00Z', '2024-12-30', '2025-W01', '2024-12'], // a Monday in the first ISO week of 2025
    ['2027-03-01T00:00:00Z', '2027-03-01', '2027-W09', '2027-03'],
    ['2028-02-29T08:00:00Z', '2028-02-29', '2028-W09', '2028-02'],
  ])('%s is day %s, week %s, month %s', (iso, day, week, month) => {
    const ms = at(iso);
    expect([periodKey('daily', ms), periodKey('weekly', ms), periodKey('monthly', ms)]).toEqual([day, week, month]);
  });

  it('gives each period its bounds: a day, a Monday-to-Monday week, a calendar month', () => {
    expect(periodStart('daily', '2026-11-30')).toBe(at('2026-11-30T00:00:00Z'));
    expect(periodEnd('daily', '2026-11-30')).toBe(at('2026-12-01T00:00:00Z'));
    expect(periodStart('weekly', '2020-W53')).toBe(at('2020-12-28T00:00:00Z'));
    expect(periodEnd('weekly', '2020-W53')).toBe(at('2021-01-04T00:00:00Z'));
    expect(periodStart('weekly', '2025-W01')).toBe(at('2024-12-30T00:00:00Z'));
    expect(periodStart('monthly', '2026-12')).toBe(at('2026-12-01T00:00:00Z'));
    expect(periodEnd('monthly', '2026-12')).toBe(at('2027-01-01T00:00:00Z'));
    expect(periodEnd('monthly', '2028-02')).toBe(at('2028-03-01T00:00:00Z'));
  });

  it('knows every instant belongs to exactly the period whose bounds hold it', () => {
    for (let ms = at('2020-12-20T00:00:00Z'); ms < at('2021-03-10T00:00:00Z'); ms += 3_600_000 * 7) {
      for (const w of ['daily', 'weekly', 'monthly'] as const) {
        const key = periodKey(w, ms);
        expect(periodStart(w, key)! <= ms && ms < periodEnd(w, key), `${w} ${new Date(ms).toISOString()}`).toBe(true);
      }
    }
  });
});

describe('board ids', () => {
  it('parses families, current-period ids and given periods, and formats them back', () => {
    for (const [id, parsed] of [
      ['global', { family: 'global' }],
      ['mode:ranked', { family: 'mode:ranked' }],
      ['mode:daily', { family: 'mode:daily' }], // a game mode called "daily" is all-time
      ['global:daily', { family: 'global', window: 'daily' }],
      ['mode:daily:weekly', { family: 'mode:daily', window: 'weekly' }],
      ['global:weekly:2026-W47', { family: 'global', window: 'weekly', period: '2026-W47' }],
      ['mode:ranked:monthly:2026-11', { family: 'mode:ranked', window: 'monthly', period: '2026-11' }],
    ] as const) {
      expect(parseBoard(id), id).toEqual(parsed);
      expect(formatBoard(parseBoard(id)!)).toBe(id);
    }
  });

  it.each(['global:daily:2026-02-30', 'global:monthly:2026-13', 'global:weekly:2025-W53', 'global:weekly:2026-W00', 'global:daily:2026-W01', 'global:hourly', 'mode:x:daily:'])(
    'refuses %s',
    (id) => expect(isBoardId(id)).toBe(false),
  );

  it('accepts week 53 of a year that has one', () => expect(isBoardId('global:weekly:2026-W53')).toBe(true));

  it('resolves current-period ids at a given instant, and leaves the others alone', () => {
    const ms = at('2026-11-30T23:59:59.999Z');
    expect(resolveBoard('global:daily', ms)).toBe('global:daily:2026-11-30');
    expect(resolveBoard('mode:ranked:weekly', ms)).toBe('mode:ranked:weekly:2026-W49');
    expect(resolveBoard('global:monthly', ms + 1)).toBe('global:monthly:2026-12');
    expect(resolveBoard('global', ms)).toBe('global');
    expect(resolveBoard('global:daily:2026-01-01', ms)).toBe('global:daily:2026-01-01');
    expect(isCurrentPeriodAlias('global:daily')).toBe(true);
    expect(isCurrentPeriodAlias('global:daily:2026-01-01')).toBe(false);
    expect(periodSuffixes(['daily', 'weekly', 'monthly'], ms)).toEqual([':daily:2026-11-30', ':weekly:2026-W49', ':monthly:2026-11']);
  });

  it('serves from the index the all-time boards and the current periods of the kept windows only', () => {
    const ms = at('2026-11-30T12:00:00Z');
    const all = ['daily', 'weekly', 'monthly'] as const;
    expect(isIndexedBoard('global', all, ms)).toBe(true);
    expect(isIndexedBoard('global:daily:2026-11-30', all, ms)).toBe(true);
    expect(isIndexedBoard('global:daily', all, ms)).toBe(true);
    expect(isIndexedBoard('global:daily:2026-11-29', all, ms)).toBe(false);
    expect(isIndexedBoard('mode:x:weekly:2026-W49', all, ms)).toBe(true);
    expect(isIndexedBoard('mode:x:weekly:2026-W50', all, ms)).toBe(false);
    // A window not kept has no index boards, its current period included.
    expect(isIndexedBoard('global:daily:2026-11-30', ['weekly'], ms)).toBe(false);
    expect(isIndexedBoard('mode:x', [], ms)).toBe(true);
    expect(isIndexedBoard('not a board', all, ms)).toBe(false);
  });
});

describe('BOARD_WINDOWS', () => {
  const env = { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32) };
  it('defaults to every window, and may be narrowed or emptied', () => {
    expect(loadConfig(env).boardWindows).toEqual(['daily', 'weekly', 'monthly']);
    expect(loadConfig({ ...env, BOARD_WINDOWS: 'weekly' }).boardWindows).toEqual(['weekly']);
    expect(loadConfig({ ...env, BOARD_WINDOWS: 'none' }).boardWindows).toEqual([]);
    expect(loadConfig({ ...env, BOARD_WINDOWS: '' }).boardWindows, 'empty counts as unset').toEqual(['daily', 'weekly', 'monthly']);
  });
  it('refuses unknown or repeated windows', () => {
    expect(() => loadConfig({ ...env, BOARD_WINDOWS: 'hourly' })).toThrow(/BOARD_WINDOWS/);
    expect(() => loadConfig({ ...env, BOARD_WINDOWS: 'daily,daily' })).toThrow(/BOARD_WINDOWS/);
  });
});
