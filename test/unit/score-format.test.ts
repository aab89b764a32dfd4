import { describe, expect, it } from 'vitest';
import { formatters } from '../../client/board/src/format.ts';
import { formatFixed, formatScore, formatTimeMs } from '../../protocol/score-format.ts';

describe('scores as their board shows them', () => {
  it('writes milliseconds as a time: seconds, minutes, hours', () => {
    expect([0, 9_050, 59_999, 60_000, 62_417, 3_723_004].map(formatTimeMs)).toEqual(['0.000', '9.050', '59.999', '1:00.000', '1:02.417', '1:02:03.004']);
  });

  it('puts the decimal point where the board says, padding short values', () => {
    expect([formatFixed(1250, 2), formatFixed(5, 2), formatFixed(0, 3), formatFixed(1_234_567, 0), formatFixed(-305, 2)]).toEqual(['12.50', '0.05', '0.000', '1,234,567', '-3.05']);
  });

  it('adds the unit, and formats points by default', () => {
    expect(formatScore(98_765, { format: 'distance', unit: 'km', decimals: 2 })).toBe('987.65 km');
    expect(formatScore(62_417, { format: 'time_ms', unit: '', decimals: 0 })).toBe('1:02.417');
    expect(formatScore(1200)).toBe('1,200');
  });

  it('the board writes totals and signed changes in its format', () => {
    const time = formatters('en-US', { format: 'time_ms', unit: '', decimals: 0 });
    expect([time.score(61_950), time.scoreDelta(-2_605), time.scoreDelta(70_000)]).toEqual(['1:01.950', '-2.605', '+1:10.000']);
    const points = formatters('en-US');
    expect([points.score(5000), points.scoreDelta(4200), points.scoreDelta(-300)]).toEqual(['5,000', '+4,200', '-300']);
    const km = formatters('en-US', { format: 'distance', unit: 'km', decimals: 2 });
    expect([km.score(1250), km.scoreDelta(-50)]).toEqual(['12.50 km', '-0.50 km']);
  });
});
