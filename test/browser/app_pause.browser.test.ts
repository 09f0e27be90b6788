/**
 * Pause at once, and the keyboard's path to it, in real Chromium: a skip link is the first Tab stop
 * and goes to Start; the focus stays on the button pressed (Start hands it to Pause, its
 * replacement); Pause pressed while an epoch's evaluation runs ends it after the slice in flight
 * (the evaluation is left owed, not finished), and Resume makes that evaluation first.
 * (That a stop waits for one slice only, counted, is test/main/trainer_stop_evaluation.test.ts.)
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { startServer, launchChromium } from '../helpers/browser.ts';
import { until } from '../helpers/app_page.ts';

let server: ViteDevServer, browser: Browser, page: Page;
// 5,400 training digits at the page's H = 500: an epoch's evaluation (both sets, S = 2) takes long
// enough on two cores to be caught while it runs.
const SUBSET = 6000;

beforeAll(async () => {
  const s = await startServer();
  server = s.server;
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1366, height: 768 } })).newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${s.url}/?subset=${SUBSET}`);
  await until(page, (a) => a.ready);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const focused = () => page.evaluate(() => document.activeElement?.id ?? '');

describe('the keyboard path', () => {
  it('the first Tab reaches the skip link, which goes to Start; Start pressed hands the focus to Pause', async () => {
    await page.keyboard.press('Tab'); // from the top of the freshly loaded page
    expect(await focused()).toBe('skip-to-run');
    await page.keyboard.press('Enter');
    expect(await focused()).toBe('start');
    await page.fill('#setting-workers', '2');
    await page.fill('#setting-epochs', '50');
    await page.focus('#start');
    await page.keyboard.press('Enter');
    await until(page, (a) => a.phase === 'running');
    await expect.poll(focused, { timeout: 10_000 }).toBe('pause');
  });
});

describe("Pause during an epoch's evaluation", () => {
  it('takes effect before the evaluation ends (left owed), keeps the focus on Pause, and Resume evaluates first', async () => {
    let caught = false;
    for (let attempt = 0; attempt < 6 && !caught; attempt++) {
      await until(page, (a) => a.inEvaluation);
      await page.keyboard.press('Enter'); // the focus is on Pause
      const a = await until(page, (s) => s.phase === 'paused' && !s.busy);
      const stepsPerEpoch = (SUBSET * 0.9) / 100;
      if (!a.evaluationPending) {
        // the evaluation had ended before the key reached the page: try the next epoch
        await page.keyboard.press('Enter');
        await until(page, (s) => s.phase === 'running');
        continue;
      }
      caught = true;
      expect(a.step % stepsPerEpoch).toBe(0);
      expect(a.epochs.every((e) => e.step < a.step)).toBe(true); // no epoch event for this step: cut short, not finished
      expect(await focused()).toBe('pause');
      expect(await page.textContent('#pause')).toBe('Resume');

      await page.keyboard.press('Enter'); // Resume: the owed evaluation first
      const b = await until(page, (s) => s.epochs.some((e) => e.step === a.step));
      expect(b.epochs.filter((e) => e.step === a.step)).toHaveLength(1);
      expect(b.evaluationPending).toBe(false);
      expect(await focused()).toBe('pause');
    }
    expect(caught).toBe(true);
    await page.keyboard.press('Enter');
    await until(page, (s) => s.phase === 'paused');
  });
});
