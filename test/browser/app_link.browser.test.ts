/**
 * Links win (as in TensorFlow Playground), in real Chromium: with a run saved in this browser, a
 * shared link that asks for other settings makes the page ask which to open, and the address stays
 * the link's while it asks; "Open the saved run" opens it, "Start with the link's settings" sets the
 * link's settings and keeps the saved run restorable. A reload of the page's own address (the saved
 * run's settings) asks nothing.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { useAppServer } from '../helpers/app_server.ts';
import { until } from '../helpers/app_page.ts';

const env = useAppServer();
let context: BrowserContext;
const SUBSET = 2000;

beforeAll(async () => {
  context = await env.browser.newContext({ viewport: { width: 1366, height: 768 } });
});

async function open(hash: string): Promise<Page> {
  const p = await context.newPage();
  p.on('pageerror', (e) => console.error('page error:', e.message));
  await p.goto(`${env.baseUrl}/?subset=${SUBSET}${hash}`);
  return p;
}

describe('a shared link over a run saved in this browser', () => {
  let savedStep = 0,
    ownAddress = '';

  it('(a run is saved: J 4, H 40, paused)', async () => {
    const p = await open('#latent=4&hidden=40&batch=100&workers=2&epochs=50');
    await until(p, (a) => a.ready);
    await p.locator('#start').click();
    await until(p, (a) => a.step >= 36);
    await p.locator('#pause').click();
    const a = await until(p, (s) => s.phase === 'paused' && s.lastSavedStep === s.step);
    savedStep = a.step;
    ownAddress = await p.evaluate(() => location.hash);
    expect(new URLSearchParams(ownAddress.slice(1)).get('latent')).toBe('4');
    await p.close();
  });

  it('asks, with the address still the link\'s; "Open the saved run" opens it', async () => {
    const link = '#latent=7&hidden=100';
    const p = await open(link);
    const a = await until(p, (s) => s.asking);
    expect(await p.textContent('#confirm-text')).toMatch(
      new RegExp(
        `This link asks for latent 7, hidden 100; the run saved in this browser \\(step ${savedStep.toLocaleString('en')}\\) has latent 4, hidden 40\\.`,
      ),
    );
    expect(await p.textContent('#confirm-ok')).toBe("Start with the link's settings");
    expect(await p.textContent('#confirm-cancel')).toBe('Open the saved run');
    expect(a.status).toMatch(/which one to open/);
    expect(await p.evaluate(() => location.hash)).toBe(link); // not rewritten while it asks
    await p.locator('#confirm-cancel').click();
    const b = await until(p, (s) => s.ready);
    expect(b.step).toBe(savedStep);
    expect(b.config!.latent).toBe(4);
    expect(await p.inputValue('#setting-latent')).toBe('4');
    await p.close();
  });

  it('"Start with the link\'s settings" sets them, keeps the address, and keeps the saved run restorable', async () => {
    const link = '#latent=7&hidden=100';
    const p = await open(link);
    await until(p, (s) => s.asking);
    await p.locator('#confirm-ok').click();
    const a = await until(p, (s) => s.ready);
    expect(a.phase).toBe('none');
    expect(await p.inputValue('#setting-latent')).toBe('7');
    expect(await p.inputValue('#setting-hidden')).toBe('100');
    expect(await p.evaluate(() => location.hash)).toBe(link);
    expect(a.previousStep).toBe(savedStep);
    expect(a.status).toMatch(/The link's settings are set/);
    expect(await p.locator('#restore-previous').isVisible()).toBe(true);
    await p.close();
  });

  it("a reload of the run's own address asks nothing", async () => {
    // The previous test left the saved run as the previous run: bring it back as the current one first.
    const p = await open('');
    await until(p, (s) => s.ready);
    await p.locator('#restore-previous').click();
    const back = await until(p, (s) => s.ready && s.step === savedStep && !s.busy && !s.asking);
    expect(back.config!.latent).toBe(4);
    await until(p, (s) => s.lastSavedStep === savedStep);
    const own = await p.evaluate(() => location.hash);
    await p.close();
    const q = await open(own);
    const a = await until(q, (s) => s.ready && !s.busy);
    expect(a.asking).toBe(false);
    expect(a.step).toBe(savedStep);
    await q.close();
  });
});
