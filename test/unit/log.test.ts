/** The log's rate limit on repeated warnings and errors (server/log.ts). */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { REPEAT_WINDOW_MS, logLinesSuppressed, repeatLimiter } from '../../server/log.ts';

function capture(now: () => number) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const log = pino({ level: 'info', hooks: { logMethod: repeatLimiter(now) } }, sink);
  return { log, lines };
}

describe('repeated warnings', () => {
  it('1,265 identical warnings in 4 s write one line, and the next window says how many were left out', async () => {
    let t = 0;
    const { log, lines } = capture(() => t);
    const before = logLinesSuppressed();
    for (let i = 0; i < 1265; i++) {
      t = (i * 4000) / 1265;
      log.warn({ err: 'connection refused', batch: i }, 'rank index update failed after commit; boards will be rebuilt');
    }
    t = REPEAT_WINDOW_MS + 1;
    log.warn({ err: 'connection refused' }, 'rank index update failed after commit; boards will be rebuilt');
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ batch: 0, msg: 'rank index update failed after commit; boards will be rebuilt' });
    expect(lines[0]!.repeated).toBeUndefined();
    expect(lines[1]).toMatchObject({ repeated: 1264, err: 'connection refused' });
    expect(logLinesSuppressed() - before).toBe(1264);
  });

  it('different messages, levels below warn, and messages without an object are kept apart', async () => {
    let t = 0;
    const { log, lines } = capture(() => t);
    for (let i = 0; i < 3; i++) {
      log.warn('a');
      log.warn('b');
      log.error('a');
      log.info({ i }, 'socket open');
    }
    t = REPEAT_WINDOW_MS;
    log.warn('a');
    await new Promise((r) => setImmediate(r));
    const msgs = lines.map((l) => `${String(l.level)}:${String(l.msg)}${l.repeated ? `x${String(l.repeated)}` : ''}`);
    expect(msgs).toEqual(['40:a', '40:b', '50:a', '30:socket open', '30:socket open', '30:socket open', '40:ax2']);
  });
});
