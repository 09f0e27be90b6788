/**
 * The page on a phone (a touch screen 320 and 390 px wide, real Chromium's mobile emulation): no
 * sideways scrolling, every visible control at least 44 px tall (and buttons as wide), the chart in
 * view after Start is tapped, and a tap on the latent plot shows its decoded z right there.
 */
import { describe, it, expect } from 'vitest';
import { useAppServer } from '../helpers/app_server.ts';
import { until } from '../helpers/app_page.ts';

const env = useAppServer();
const SUBSET = 2000;

describe.each([
  [320, 640],
  [390, 844],
])('a phone %i px wide', (width, height) => {
  it("no sideways scroll, 44 px targets, the chart in view after Start, a tap's decoded z where it was tapped", async () => {
    const context = await env.browser.newContext({ viewport: { width, height }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    try {
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error('page error:', e.message));
      await page.goto(`${env.baseUrl}/?subset=${SUBSET}#hidden=20&workers=2&epochs=100`);
      await until(page, (a) => a.ready);
      expect(await page.evaluate(() => matchMedia('(pointer: coarse)').matches)).toBe(true);
      const layout = () => page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth }));
      let l = await layout();
      expect(l.scrollWidth).toBeLessThanOrEqual(l.innerWidth);
      // Every control a finger can reach: ≥ 44 px tall; buttons ≥ 44 px wide too (check boxes: the row with their label).
      const small = await page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('button, select, input, a[href]')]
          .filter((el) => el.getClientRects().length > 0 && !el.closest('dialog'))
          .map((el) => {
            const target = el instanceof HTMLInputElement && el.type === 'checkbox' ? (el.closest('label, .field-check') ?? el) : el;
            const r = target.getBoundingClientRect();
            return { id: el.id || el.outerHTML.slice(0, 60), h: r.height, w: r.width, button: el.tagName === 'BUTTON' };
          })
          .filter((b) => b.h < 44 || (b.button && b.w < 44)),
      );
      expect(small).toEqual([]);

      await page.locator('#start').tap();
      await until(page, (a) => a.phase === 'running');
      const chart = await page.evaluate(() => {
        const r = document.getElementById('chart')!.getBoundingClientRect();
        return { top: r.top, bottom: r.bottom };
      });
      expect(chart.top).toBeGreaterThanOrEqual(0);
      expect(chart.bottom).toBeLessThanOrEqual(height);
      l = await layout();
      expect(l.scrollWidth).toBeLessThanOrEqual(l.innerWidth);

      // The explorer: a tap on the latent plot decodes that z into a picture in the plot's own corner.
      await until(page, (a) => a.explorerRefreshes >= 1);
      await page.locator('#pause').tap();
      await until(page, (a) => a.phase === 'paused');
      const before = (await until(page, (a) => a.picked.latentView !== null)).picked.decodes;
      await page.locator('#latent').scrollIntoViewIfNeeded();
      const box = (await page.locator('#latent').boundingBox())!;
      await page.touchscreen.tap(box.x + box.width * 0.3, box.y + box.height * 0.4);
      await until(page, (a) => a.picked.decodes > before);
      const shown = await page.evaluate(() => {
        const c = document.getElementById('latent-tap-result')!,
          p = document.getElementById('latent')!.closest('figure')!.getBoundingClientRect();
        const r = c.getBoundingClientRect();
        return {
          hidden: c.hidden,
          inFigure: r.top >= p.top && r.bottom <= p.bottom && r.left >= p.left && r.right <= p.right,
          inView: r.top >= 0 && r.bottom <= innerHeight,
        };
      });
      expect(shown).toEqual({ hidden: false, inFigure: true, inView: true }); // in the tapped plot's own figure
    } finally {
      await context.close();
    }
  });
});
