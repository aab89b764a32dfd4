/** The status pill: live only with fresh data on an open connection. */
import { describe, expect, it } from 'vitest';
import { OFFLINE_AFTER_MS, linkState } from '../../client/board/src/link.ts';

const base = { status: 'open' as const, synced: true, downSince: undefined, now: 100_000, online: true };

describe('linkState', () => {
  it('is live only once a snapshot arrived on an open connection', () => {
    expect(linkState(base)).toBe('live');
    expect(linkState({ ...base, synced: false })).toBe('connecting');
    expect(linkState({ ...base, status: 'connecting', synced: false })).toBe('connecting');
  });

  it('is reconnecting after a loss (even once open again, until resynced), then offline', () => {
    const lost = { ...base, status: 'reconnecting' as const, synced: false, downSince: 99_000 };
    expect(linkState(lost)).toBe('reconnecting');
    expect(linkState({ ...lost, status: 'open' })).toBe('reconnecting');
    expect(linkState({ ...lost, now: 99_000 + OFFLINE_AFTER_MS })).toBe('offline');
    expect(linkState({ ...lost, online: false })).toBe('offline');
    expect(linkState({ ...base, status: 'closed' })).toBe('offline');
  });
});
