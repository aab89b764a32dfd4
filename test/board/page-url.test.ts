/** The page address: socket URL and the board and limit kept in the query string. */
import { describe, expect, it } from 'vitest';
import { readViewParams, socketUrl, writeViewParams } from '../../client/board/src/page-url.ts';

describe('page address', () => {
  it('dials the same origin, wss behind https', () => {
    expect(socketUrl({ protocol: 'http:', host: 'localhost:8000' })).toBe('ws://localhost:8000/ws');
    expect(socketUrl({ protocol: 'https:', host: 'lb.example.com' })).toBe('wss://lb.example.com/ws');
  });

  it('reads board and limit, falling back to defaults on anything unknown', () => {
    expect(readViewParams('?board=mode:ranked&limit=25')).toEqual({ board: 'mode:ranked', limit: 25 });
    expect(readViewParams('?board=nope&limit=7')).toEqual({ board: 'global', limit: 10 });
    expect(readViewParams('')).toEqual({ board: 'global', limit: 10 });
  });

  it('writes only what differs from the defaults and keeps other parameters', () => {
    expect(writeViewParams('', { board: 'global', limit: 10 })).toBe('');
    expect(writeViewParams('?x=1', { board: 'mode:a', limit: 100 })).toBe('?x=1&board=mode%3Aa&limit=100');
    expect(writeViewParams('?board=mode:a', { board: 'global', limit: 10 })).toBe('');
  });
});
