/**
 * The Redis key layout (server/rank-index/keys.ts) as literal names: keys written by a running
 * version must be found by the next one (a rolling deploy shares one Redis), so the names here
 * change only with a migration of what Redis holds.
 */
import { describe, expect, it } from 'vitest';
import { boardKeyScan, boardKeys, instanceAliveKey, namesKeys, submitLimitKeys } from '../../server/rank-index/keys.ts';

describe('key names', () => {
  it('names a board\'s keys under its hash tag', () => {
    const k = boardKeys('lb', 'mode:ranked');
    expect([k.epoch, k.z, k.h, k.tz('t1'), k.th('t1'), k.log, k.rebuilding, k.lock, k.channel]).toEqual([
      'lb:{mode:ranked}:epoch',
      'lb:{mode:ranked}:z',
      'lb:{mode:ranked}:h',
      'lb:{mode:ranked}:z~t1',
      'lb:{mode:ranked}:h~t1',
      'lb:{mode:ranked}:log',
      'lb:{mode:ranked}:rebuilding',
      'lb:{mode:ranked}:lock',
      'lb:{mode:ranked}:changes',
    ]);
  });

  it('names the names hash, the heartbeats and a user\'s submit limits', () => {
    const names = namesKeys('lb');
    expect({ ...names, copy: names.copy('r1') }).toEqual({
      names: 'lb:{names}',
      channel: 'lb:{names}:changes',
      copy: 'lb:{names}~r1',
      log: 'lb:{names}:log',
      rebuilding: 'lb:{names}:rebuilding',
    });
    expect(instanceAliveKey('lb', 'abc')).toBe('lb:{instances}:abc:alive');
    expect(submitLimitKeys('lb', 42, 'ranked')).toEqual({ bucket: 'lb:{u:42}:bucket', modeMinute: 'lb:{u:42}:minute:ranked', allMinute: 'lb:{u:42}:minute-all' });
  });
});

describe('boardKeyScan', () => {
  const scan = boardKeyScan('lb.a');

  it('matches every key of every board under the prefix', () => {
    expect(scan.glob).toBe('lb.a:{*}:*');
  });

  it('finds the board of its epoch, sorted set and hash, and of no other key', () => {
    expect(scan.boardOf('lb.a:{mode:ranked}:epoch')).toBe('mode:ranked');
    expect(scan.boardOf('lb.a:{global}:z')).toBe('global');
    expect(scan.boardOf('lb.a:{global}:h')).toBe('global');
    for (const key of ['lb.a:{global}:lock', 'lb.a:{global}:z~t1', 'lb.a:{global}:changes', 'lb.a:{names}', 'lb.b:{global}:z', 'lbxa:{global}:z', 'x:lb.a:{global}:z']) {
      expect(scan.boardOf(key), key).toBeUndefined();
    }
  });
});
