/** Number, time and board-name formatting of the board. */
import { describe, expect, it } from 'vitest';
import { boardLabel, formatters } from '../../client/board/src/format.ts';

describe('formatters', () => {
  it('writes thousands separators of the locale, signed deltas and percentiles', () => {
    const en = formatters('en-US');
    expect(en.int(1234567)).toBe('1,234,567');
    expect(en.int(9007199254740991)).toBe('9,007,199,254,740,991');
    expect(en.delta(1200)).toBe('+1,200');
    expect(en.delta(-300)).toBe('-300');
    expect(en.percentile(87.5)).toBe('87.5');
    expect(en.percentile(100)).toBe('100');
    expect(en.percentile(33.33)).toBe('33.33');
    const de = formatters('de-DE');
    expect(de.int(1234567)).toBe('1.234.567');
    expect(de.percentile(12.75)).toBe('12,75');
  });
});

describe('boardLabel', () => {
  it('names boards for people', () => {
    expect(boardLabel('global')).toBe('Global');
    expect(boardLabel('mode:ranked')).toBe('Ranked');
    expect(boardLabel('mode:battle_royale')).toBe('Battle royale');
    expect(boardLabel('global:daily')).toBe('Global · today');
    expect(boardLabel('mode:ranked:weekly')).toBe('Ranked · this week');
    expect(boardLabel('mode:daily:monthly')).toBe('Daily · this month');
    expect(boardLabel('global:daily:2026-11-30')).toBe('Global · 2026-11-30');
    expect(boardLabel('mode:ranked:weekly:2026-W49')).toBe('Ranked · 2026-W49');
    expect(boardLabel('mode:2v2')).toBe('2v2');
  });
});
