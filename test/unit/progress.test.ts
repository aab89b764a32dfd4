/** The progress line of long work (server/progress.ts): its text, its throttle, and where it is drawn at all. */
import { describe, expect, it } from 'vitest';
import {
  NO_PROGRESS,
  Throttle,
  etaMs,
  fitWidth,
  formatCount,
  formatDuration,
  formatProgress,
  formatRate,
  progressEnabled,
  terminalProgress,
  type ProgressStream,
} from '../../server/progress.ts';

/** A stream that records what is written to it; a terminal of `columns` when `isTTY`. */
function fakeStream(isTTY: boolean, columns = 200): ProgressStream & { out: string[] } {
  const out: string[] = [];
  return { isTTY, columns, out, write: (chunk: string) => out.push(chunk) };
}

describe('formatting', () => {
  it('counts get thousands separators, whatever the locale', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(1000)).toBe('1,000');
    expect(formatCount(1_234_567)).toBe('1,234,567');
    expect(formatCount(12.9)).toBe('12');
  });

  it('rates are short: per minute under one a second, then k and M', () => {
    expect(formatRate(0)).toBe('0/s');
    expect(formatRate(Number.NaN)).toBe('0/s');
    expect(formatRate(0.05)).toBe('3/min');
    expect(formatRate(2)).toBe('2/s');
    expect(formatRate(12.345)).toBe('12.3/s');
    expect(formatRate(950.4)).toBe('950/s');
    expect(formatRate(45_120)).toBe('45.1k/s');
    expect(formatRate(4_500_000)).toBe('4.5M/s');
  });

  it('durations read as seconds, minutes and hours', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(42_400)).toBe('42s');
    expect(formatDuration(185_000)).toBe('3m05s');
    expect(formatDuration(3_725_000)).toBe('1h02m');
    expect(formatDuration(-5)).toBe('0s');
  });

  it('the ETA follows the rate so far, and is unknown without a total or before anything is done', () => {
    expect(etaMs(250, 1000, 10_000)).toBe(30_000);
    expect(etaMs(1000, 1000, 10_000)).toBe(0);
    expect(etaMs(1200, 1000, 10_000)).toBe(0); // a total counted a moment before the work
    expect(etaMs(0, 1000, 10_000)).toBeUndefined();
    expect(etaMs(10, undefined, 10_000)).toBeUndefined();
  });

  it('a line has label, done/total, percent, rate, elapsed and ETA; the final one its outcome', () => {
    const s = { label: 'rebuild global', done: 120_000, total: 1_000_000, unit: 'rows', elapsedMs: 2_660 };
    expect(formatProgress(s)).toBe('rebuild global  120,000/1,000,000 rows  12%  45.1k/s  3s  ETA 20s');
    expect(formatProgress({ ...s, done: 1_000_000, elapsedMs: 22_000 }, 'done')).toBe('rebuild global  1,000,000/1,000,000 rows  100%  45.5k/s  22s  done');
    expect(formatProgress({ label: 'reconcile', done: 0, total: 0, unit: 'boards', elapsedMs: 0 }, 'done')).toBe('reconcile  0/0 boards  100%  0s  done');
    expect(formatProgress({ label: 'scan', done: 5000, elapsedMs: 1000 })).toBe('scan  5,000  5k/s  1s');
  });

  it('a line is cut to the terminal width so it never wraps', () => {
    expect(fitWidth('0123456789', 20)).toBe('0123456789');
    expect(fitWidth('0123456789', 8)).toBe('012345…');
    expect(fitWidth('0123456789', undefined)).toBe('0123456789');
  });
});

describe('throttle', () => {
  it('lets the first redraw through, then one per interval', () => {
    let t = 1000;
    const th = new Throttle(100, () => t);
    expect(th.due()).toBe(true);
    t += 50;
    expect(th.due()).toBe(false);
    t += 49;
    expect(th.due()).toBe(false);
    t += 1;
    expect(th.due()).toBe(true);
    expect(th.due()).toBe(false);
  });
});

describe('where progress is drawn', () => {
  it('only on a TTY, and not in CI', () => {
    expect(progressEnabled(fakeStream(true), {})).toBe(true);
    expect(progressEnabled(fakeStream(false), {})).toBe(false);
    expect(progressEnabled({ write: () => true }, {})).toBe(false);
    expect(progressEnabled(fakeStream(true), { CI: 'true' })).toBe(false);
    expect(progressEnabled(fakeStream(true), { CI: '1' })).toBe(false);
    expect(progressEnabled(fakeStream(true), { CI: 'false' })).toBe(true);
    expect(progressEnabled(fakeStream(true), { CI: '' })).toBe(true);
  });

  it('a stream that is not a terminal, or a terminal in CI, gets nothing written at all', () => {
    for (const [stream, env] of [
      [fakeStream(false), {}],
      [fakeStream(true), { CI: 'true' }],
    ] as const) {
      const output = terminalProgress(stream, env, { tickMs: 0 });
      expect(output).toBe(NO_PROGRESS);
      const line = output.start('seed users', 100, 'users');
      for (let i = 0; i <= 100; i++) line.update(i);
      let asideRan = false;
      line.aside(() => (asideRan = true));
      line.finish();
      expect(asideRan).toBe(true);
      expect(stream.out).toEqual([]);
    }
  });

  it('a terminal gets the line drawn in place, at most once per interval, and a final line', () => {
    let t = 0;
    const stream = fakeStream(true);
    const line = terminalProgress(stream, {}, { now: () => t, intervalMs: 100, tickMs: 0 }).start('seed users', 1000, 'users');
    expect(stream.out).toEqual(['\r\x1b[Kseed users  0/1,000 users  0%  0s']);
    // 1,000 updates over one second: ten redraws at most, beside the first.
    for (let i = 1; i <= 1000; i++) {
      t = i;
      line.update(i);
    }
    expect(stream.out).toHaveLength(11); // t = 0, 100, ..., 1000
    for (const chunk of stream.out) {
      expect(chunk.startsWith('\r\x1b[K')).toBe(true);
      expect(chunk).not.toContain('\n');
    }
    expect(stream.out[5]).toBe('\r\x1b[Kseed users  500/1,000 users  50%  1k/s  1s  ETA 1s');
    line.finish();
    expect(stream.out.at(-1)).toBe('\r\x1b[Kseed users  1,000/1,000 users  100%  1k/s  1s  done\n');
    // Finished: later updates and a second finish write nothing.
    const written = stream.out.length;
    t = 5000;
    line.update(2000);
    line.finish();
    expect(stream.out.length).toBe(written);
  });

  it('other output is written with the line cleared first and redrawn after', () => {
    let t = 0;
    const stream = fakeStream(true);
    const line = terminalProgress(stream, {}, { now: () => t, tickMs: 0 }).start('bench 1/2 submit', 3, 'runs');
    stream.out.length = 0;
    t = 10_000;
    line.aside(() => stream.write('  run 1: 4000/s\n'));
    expect(stream.out).toEqual(['\r\x1b[K', '  run 1: 4000/s\n', '\r\x1b[Kbench 1/2 submit  0/3 runs  0%  10s']);
  });

  it('a failure ends the line with its outcome', () => {
    const stream = fakeStream(true);
    const line = terminalProgress(stream, {}, { now: () => 0, tickMs: 0 }).start('reconcile', 4, 'boards');
    line.finish('failed');
    expect(stream.out.at(-1)).toBe('\r\x1b[Kreconcile  0/4 boards  0%  0s  failed\n');
  });

  it('a narrow terminal gets the line cut to its width', () => {
    const stream = fakeStream(true, 20);
    terminalProgress(stream, {}, { now: () => 0, tickMs: 0 }).start('rebuild mode:ranked:weekly:2026-W48', 10, 'rows');
    expect(stream.out[0]).toBe('\r\x1b[Krebuild mode:ranke…');
  });
});
