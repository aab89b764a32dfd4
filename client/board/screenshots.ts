/**
 * `npm run screenshots`: the README's pictures of the live board, made from the demo's simulated
 * population (server/cli/demo.ts) in headless Chromium, so they show what `npm run demo` shows.
 * Writes docs/images/live-board.png (wide) and docs/images/live-board-narrow.png (a phone's width).
 * Needs the local PostgreSQL and Redis (as `npm run demo` does) and Chromium at
 * CHROMIUM_PATH (default /usr/bin/chromium).
 */
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = `${ROOT}docs/images`;
// Entry point of a tool: the environment is read here and nowhere else.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Long enough for the population's first wave and a climber to reach the top. */
const SETTLE_MS = 12_000;

async function main(): Promise<void> {
  const demo = spawn(process.execPath, ['--import', 'tsx', 'server/cli/demo.ts', '--rate', '300', '--players', '3000', '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  demo.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the demo did not print its board URL:\n${out}`)), 60_000);
      const poll = setInterval(() => {
        const m = /live board at (http:\/\/localhost:\d+\/)/.exec(out);
        if (!m) return;
        clearInterval(poll);
        clearTimeout(timer);
        resolve(m[1]!);
      }, 50);
      demo.once('exit', (code) => reject(new Error(`the demo exited (${code}):\n${out}`)));
    });
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    await mkdir(OUT, { recursive: true });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    try {
      for (const [name, viewport] of [
        ['live-board.png', { width: 1280, height: 800 }],
        ['live-board-narrow.png', { width: 390, height: 844 }],
      ] as const) {
        // Reduced motion: rows in the middle of a move would be caught half-drawn.
        const page = await browser.newPage({ viewport, deviceScaleFactor: 1, reducedMotion: 'reduce' });
        await page.goto(url);
        await page.waitForSelector('ol.rows li.row', { timeout: 20_000 });
        await new Promise((r) => setTimeout(r, 3000));
        await page.screenshot({ path: `${OUT}/${name}` });
        process.stdout.write(`wrote docs/images/${name}\n`);
        await page.close();
      }
    } finally {
      await browser.close();
    }
  } finally {
    demo.kill('SIGTERM');
    await new Promise((r) => demo.once('exit', r));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
