/**
 * The live board in a real headless Chromium on an `asc` time board (BOARDS_CONFIG): lap times
 * show as times, the lowest ranks first, a new best climbs to the top live with its gain shown as
 * a time, and "find a player" shows the time too; a `distance` board shows its unit and decimals.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBoard } from '../../server/cli/build-board.ts';
import { openBoardPage, standings } from '../support/board-page.ts';
import { launchChromium } from '../support/chromium.ts';
import { submitOk } from '../support/http.ts';
import { freePort } from '../support/redis-server.ts';
import { spawnServer, storeEnv, token, type ChildServer } from '../support/servers.ts';
import { freshStores, type FreshStores } from '../support/stores.ts';

const LIVE_MS = 1000;
let stores: FreshStores;
let server: ChildServer | undefined;
let port: number;
let dir: string;
let browser: Browser;
let desktop: BrowserContext;
const pageErrors: string[] = [];
const writer = token('server');

const submit = (user_id: number, score: number, game_mode: string, username?: string) => submitOk(port, writer, { user_id, score, game_mode, username });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lb-kinds-e2e-'));
  const cfg = join(dir, 'boards.json');
  await writeFile(
    cfg,
    JSON.stringify({
      boards: [
        { board: 'mode:lap', sort_order: 'asc', write_mode: 'best', display: { format: 'time_ms' } },
        { board: 'mode:rally', write_mode: 'max', display: { format: 'distance', unit: 'km', decimals: 2 } },
      ],
    }),
  );
  const [s] = await Promise.all([freshStores(), buildBoard({ quiet: true })]);
  stores = s;
  port = await freePort();
  [server, browser] = await Promise.all([spawnServer(storeEnv(stores, { PORT: String(port), DIFF_TICK_MS: '20', BOARDS_CONFIG: cfg })), launchChromium()]);
  desktop = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US' });
});

afterAll(async () => {
  await browser?.close();
  server?.process.kill('SIGKILL');
  await server?.exited;
  await stores?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the live board on board kinds, in Chromium', () => {
  it('shows lap times lowest first, and a new best climbing live with its gain as a time', async () => {
    await Promise.all([submit(1, 62_417, 'lap', 'ayrton'), submit(2, 61_950, 'lap', 'alain'), submit(3, 62_417, 'lap', 'nigel')]);
    const page = await openBoardPage(desktop, port, '/?board=mode:lap', pageErrors);
    try {
      await expect.poll(() => standings(page), { timeout: LIVE_MS * 5, interval: 25 }).toMatchObject([
        { user: 2, rank: '1', name: 'alain', score: '1:01.950', tied: false },
        { user: 1, rank: '2', name: 'ayrton', score: '1:02.417', tied: true },
        { user: 3, rank: '2', name: 'nigel', score: '1:02.417', tied: true },
      ]);
      // A slower lap changes nothing shown (best keeps the lowest); a faster one takes the lead.
      await submit(3, 70_000, 'lap');
      await submit(3, 59_812, 'lap');
      await expect.poll(() => standings(page), { timeout: LIVE_MS, interval: 25 }).toMatchObject([
        { user: 3, rank: '1', name: 'nigel', score: '59.812', move: '▲ 1' },
        { user: 2, rank: '2', score: '1:01.950' },
        { user: 1, rank: '3', score: '1:02.417' },
      ]);
      expect(await page.locator('li.row[data-user="3"] .delta').textContent()).toBe('-2.605');

      await page.fill('#finder-input', 'alain');
      await page.press('#finder-input', 'Enter');
      const stat = (name: string) => page.locator(`article.card [data-stat=${name}]`).textContent();
      await expect.poll(() => stat('rank')).toBe('2');
      expect(await stat('total')).toBe('1:01.950');
    } finally {
      await page.close();
    }
  });

  it('shows a distance board with its unit and decimals, highest first', async () => {
    await Promise.all([submit(1, 1250, 'rally'), submit(2, 98_765, 'rally'), submit(2, 300, 'rally')]);
    const page = await openBoardPage(desktop, port, '/?board=mode:rally', pageErrors);
    try {
      await expect.poll(() => standings(page), { timeout: LIVE_MS * 5, interval: 25 }).toMatchObject([
        { user: 2, rank: '1', score: '987.65 km' },
        { user: 1, rank: '2', score: '12.50 km' },
      ]);
    } finally {
      await page.close();
    }
  });

  it('logged no script errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
