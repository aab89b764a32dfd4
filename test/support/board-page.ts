/**
 * The live board page in a real Chromium, as the browser tests read it: opening it on a server
 * (collecting script errors), its top list as a viewer sees it, its link state, and waiting for
 * its animations to settle.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';

export interface ShownRow {
  user: number;
  rank: string;
  name: string;
  score: string;
  tied: boolean;
  move: string;
}

/** The top list as a viewer reads it. */
export function standings(p: Page): Promise<ShownRow[]> {
  return p.$$eval('ol.rows > li.row', (lis) =>
    lis.map((li) => ({
      user: Number(li.getAttribute('data-user')),
      rank: li.querySelector('.rank-n')!.textContent!.trim(),
      name: li.querySelector('.name')!.textContent!,
      score: li.querySelector('.score')!.textContent!.replace('Score', '').trim(),
      tied: li.querySelector('.tie') !== null,
      move: li.querySelector('.badge')?.textContent?.trim() ?? '',
    })),
  );
}

export const linkOf = (p: Page) => p.getAttribute('.status', 'data-link');

/** Waits until rows have slid into place and flashes have faded (the live dot pulses forever). */
export async function settled(p: Page): Promise<void> {
  await p.waitForFunction(() => document.getAnimations().every((a) => a.effect?.getTiming().iterations === Infinity));
}

/** Opens the board at `path` and waits until it is live; script errors go to `errors`. */
export async function openBoardPage(context: BrowserContext, port: number, path: string, errors: string[]): Promise<Page> {
  const p = await context.newPage();
  p.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  p.on('console', (msg) => {
    // While the server is down the browser itself logs each refused WebSocket: expected there.
    if (msg.type() === 'error' && !/WebSocket connection to .* failed/.test(msg.text())) errors.push(msg.text());
  });
  await p.goto(`http://127.0.0.1:${port}${path}`);
  await expect.poll(() => linkOf(p), { timeout: 10_000 }).toBe('live');
  return p;
}
