/**
 * The game-mode gate's logic over an in-memory board list: known modes cost no store call, a new
 * mode is decided on a fresh count, one instance never admits two new modes on the same count,
 * and an unknown outcome keeps its mode counted. (test/submit-limits.test.ts runs it on PostgreSQL.)
 */
import { describe, expect, it } from 'vitest';
import { ModeGate, type ModeStore } from '../../server/limits/game-modes.ts';
import { checkSubmitCap, resolveScoreRules } from '../../server/limits/score-rules.ts';
import { createLogger } from '../../server/log.ts';

const log = createLogger('silent');

function store(modes: string[]): ModeStore & { boards: Set<string>; calls: number } {
  const boards = new Set(['global', ...modes.map((m) => `mode:${m}`)]);
  const s = {
    boards,
    calls: 0,
    async families() {
      s.calls++;
      return [...boards];
    },
    async boardExists(board: string) {
      s.calls++;
      return boards.has(board);
    },
  };
  return s;
}

const options = { allowed: undefined, maxBoards: 3, refreshMs: 60_000, waitMs: 200 };

describe('ModeGate', () => {
  it('admits known modes without asking the store', async () => {
    const s = store(['ranked', 'casual']);
    const gate = new ModeGate(options, s, log);
    await gate.start();
    const before = s.calls;
    for (let i = 0; i < 1000; i++) (await gate.admit(i % 2 ? 'ranked' : 'casual'))('committed');
    expect(s.calls).toBe(before);
    gate.stop();
  });

  it('finds a mode another instance created, and refuses a new one past the bound at the cost of one lookup', async () => {
    const s = store(['a', 'b']);
    const gate = new ModeGate(options, s, log);
    await gate.start();
    s.boards.add('mode:c'); // created elsewhere since the gate last looked
    await gate.admit('c');
    expect(gate.count).toBe(3);
    const before = s.calls;
    await expect(gate.admit('d')).rejects.toMatchObject({ code: 'bad_request', message: expect.stringContaining('MAX_BOARDS') });
    expect(s.calls - before).toBe(1);
    gate.stop();
  });

  it('decides one new mode at a time: the second waits for the first to settle, then counts it', async () => {
    const s = store(['a', 'b']);
    const gate = new ModeGate(options, s, log);
    await gate.start();
    const first = await gate.admit('x');
    let secondDone = false;
    const second = gate.admit('y').finally(() => (secondDone = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(secondDone).toBe(false);
    s.boards.add('mode:x');
    first('committed');
    await expect(second).rejects.toMatchObject({ code: 'bad_request' });
    gate.stop();
  });

  it('frees the slot for the next mode when a creation did not commit, and times out a long wait', async () => {
    const s = store(['a']);
    const gate = new ModeGate(options, s, log);
    await gate.start();
    const first = await gate.admit('x');
    await expect(gate.admit('y')).rejects.toMatchObject({ code: 'rate_limited' });
    first('not_committed');
    (await gate.admit('y'))('committed');
    s.boards.add('mode:y');
    expect(gate.count).toBe(2);
    gate.stop();
  });

  it('lets the other submits of a mode being created wait for that creation, not queue for the slot', async () => {
    const s = store([]);
    const gate = new ModeGate(options, s, log);
    await gate.start();
    const creator = await gate.admit('x');
    // Many more submits of the same new mode, and one of another new mode behind the slot.
    const same = Array.from({ length: 50 }, () => gate.admit('x'));
    const other = gate.admit('y');
    await new Promise((r) => setTimeout(r, 20));
    s.boards.add('mode:x');
    creator('committed');
    // Each of them is admitted as a known mode (nothing to settle), none refused.
    for (const settle of await Promise.all(same)) settle('committed');
    expect(gate.count).toBe(1);
    (await other)('committed');
    // A creation that did not commit: its waiters try to create the mode themselves, one at a time.
    const again = await gate.admit('z');
    const waiter = gate.admit('z');
    again('not_committed');
    (await waiter)('committed');
    gate.stop();
  });

  it('keeps counting a mode whose submit had an unknown outcome', async () => {
    const s = store(['a', 'b']);
    const gate = new ModeGate(options, s, log);
    await gate.start();
    (await gate.admit('x'))('unknown');
    await expect(gate.admit('y')).rejects.toMatchObject({ code: 'bad_request' });
    // ...and a submit of it is admitted (it may have committed).
    (await gate.admit('x'))('committed');
    gate.stop();
  });

  it('with GAME_MODES, admits only the listed modes and never asks the store', async () => {
    const s = store([]);
    const gate = new ModeGate({ ...options, allowed: ['ranked', 'casual'] }, s, log);
    await gate.start();
    (await gate.admit('ranked'))('committed');
    await expect(gate.admit('ranked2')).rejects.toMatchObject({ code: 'bad_request', message: expect.stringContaining('ranked, casual') });
    expect(s.calls).toBe(0);
  });
});

describe('checkSubmitCap', () => {
  const limits = resolveScoreRules({ ranked: { max_per_submit: 500 }, '*': { max_per_submit: 10 }, global: { max_per_submit: 100 } });

  it('applies a listed mode its own rule, any other mode the "*" rule, and every mode the "global" rule', () => {
    expect(checkSubmitCap(limits, 'ranked', 100)).toBeUndefined();
    expect(checkSubmitCap(limits, 'ranked', 101)).toContain('"global" rule');
    expect(checkSubmitCap(limits, 'ranked2', 11)).toContain('"*" rule');
    expect(checkSubmitCap(limits, 'ranked2', 10)).toBeUndefined();
    // Names of Object properties are modes like any other.
    expect(checkSubmitCap(limits, 'constructor', 11)).toContain('"*" rule');
    expect(checkSubmitCap(limits, '__proto__', 11)).toContain('"*" rule');
    // A mode named "global" is not listed: it gets "*".
    expect(checkSubmitCap(limits, 'global', 11)).toContain('"*" rule');
  });

  it('caps nothing without rules', () => {
    expect(checkSubmitCap(resolveScoreRules({}), 'ranked', 1_000_000_000)).toBeUndefined();
  });
});
