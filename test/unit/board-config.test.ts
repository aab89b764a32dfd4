import { describe, expect, it } from 'vitest';
import { BoardConfigError, parseBoardConfig } from '../../server/board-config.ts';

describe('parseBoardConfig', () => {
  it('keeps each listed board with its kind, defaults filled in', () => {
    const cfg = parseBoardConfig(
      JSON.stringify({
        boards: [
          { board: 'global', write_mode: 'sum' },
          { board: 'mode:speed', write_mode: 'best', sort_order: 'asc', display: { format: 'time_ms' } },
          { board: 'mode:d', write_mode: 'latest', display: { format: 'distance', unit: 'km', decimals: 2 } },
          { board: 'mode:golf', sort_order: 'asc', write_mode: 'min' },
        ],
      }),
    );
    expect(Object.fromEntries(cfg.kinds)).toEqual({
      global: { sortOrder: 'desc', writeMode: 'sum', display: { format: 'points', unit: '', decimals: 0 } },
      'mode:speed': { sortOrder: 'asc', writeMode: 'best', display: { format: 'time_ms', unit: '', decimals: 0 } },
      'mode:d': { sortOrder: 'desc', writeMode: 'latest', display: { format: 'distance', unit: 'km', decimals: 2 } },
      'mode:golf': { sortOrder: 'asc', writeMode: 'min', display: { format: 'points', unit: '', decimals: 0 } },
    });
    expect(parseBoardConfig('{"boards":[]}').kinds.size).toBe(0);
  });

  it.each([
    ['not JSON', '{boards:', /not valid JSON/],
    ['an unknown mode', '{"boards":[{"board":"global","write_mode":"median"}]}', /boards\.0\.write_mode/],
    ['an unknown order', '{"boards":[{"board":"global","sort_order":"up"}]}', /boards\.0\.sort_order/],
    ['an unknown format', '{"boards":[{"board":"global","display":{"format":"kg"}}]}', /boards\.0\.display\.format/],
    ['too many decimals', '{"boards":[{"board":"global","display":{"format":"distance","decimals":7}}]}', /boards\.0\.display\.decimals/],
    ['a control character in a unit', '{"boards":[{"board":"global","display":{"format":"points","unit":"k\\u0007"}}]}', /boards\.0\.display\.unit/],
    ['an unknown display key', '{"boards":[{"board":"global","display":{"format":"points","color":"red"}}]}', /boards\.0\.display/],
    ['a malformed board', '{"boards":[{"board":"mode:UPPER","write_mode":"best"}]}', /boards\.0\.board: must be "global" or "mode:<game_mode>"/],
    ['a board listed twice', '{"boards":[{"board":"global","write_mode":"best"},{"board":"global","write_mode":"sum"}]}', /"global" is listed twice/],
    ['an unknown key', '{"boards":[],"modes":{}}', /modes/],
    ['a missing list', '{}', /boards/],
  ])('refuses %s', (_what, text, message) => {
    expect(() => parseBoardConfig(text)).toThrow(BoardConfigError);
    expect(() => parseBoardConfig(text)).toThrow(message);
  });
});
