import { describe, expect, it } from 'vitest';
import { BoardConfigError, parseBoardConfig } from '../../server/board-config.ts';

describe('parseBoardConfig', () => {
  it('keeps the boards whose mode is not the default', () => {
    const cfg = parseBoardConfig(
      JSON.stringify({ boards: [{ board: 'global', write_mode: 'sum' }, { board: 'mode:speed', write_mode: 'best' }, { board: 'mode:d', write_mode: 'latest' }] }),
    );
    expect([...cfg.writeModes]).toEqual([
      ['mode:speed', 'best'],
      ['mode:d', 'latest'],
    ]);
    expect(parseBoardConfig('{"boards":[]}').writeModes.size).toBe(0);
  });

  it.each([
    ['not JSON', '{boards:', /not valid JSON/],
    ['an unknown mode', '{"boards":[{"board":"global","write_mode":"max"}]}', /boards\.0\.write_mode/],
    ['a malformed board', '{"boards":[{"board":"mode:UPPER","write_mode":"best"}]}', /boards\.0\.board: must be "global" or "mode:<game_mode>"/],
    ['a board listed twice', '{"boards":[{"board":"global","write_mode":"best"},{"board":"global","write_mode":"sum"}]}', /"global" is listed twice/],
    ['an unknown key', '{"boards":[],"modes":{}}', /modes/],
    ['a missing list', '{}', /boards/],
  ])('refuses %s', (_what, text, message) => {
    expect(() => parseBoardConfig(text)).toThrow(BoardConfigError);
    expect(() => parseBoardConfig(text)).toThrow(message);
  });
});
