/**
 * The ELBO chart of the app as TensorBoard's users expect it, in real Chromium with a real run (a
 * small model trained to its end on a 2,000-digit subset): on the log axis a drag zooms to exactly
 * the range dragged over, Shift+drag, the wheel, a one-finger drag and a pinch move it by exactly
 * what the hand did, unzoomed the axis ends at the data; the readout shows the values at a known
 * point, by mouse and by keyboard; the caption names the gestures of the device (mouse or touch).
 *
 * Ranges are compared in the axis's own space (ln x), where the plot is linear: a fraction f of the
 * plot's width over [t0, t1] is t0 + f·(t1 − t0). Each end must be right to 1 % of its value (about
 * a pixel here; uPlot's own log range would be off by up to a factor of 10).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { CDPSession, Page } from 'playwright-core';
import { useAppServer } from '../helpers/app_server.ts';
import { app, trainSmallRun, until } from '../helpers/app_page.ts';

const env = useAppServer();
let page: Page;
const SUBSET = 2000;

beforeAll(async () => {
  page = await (await env.browser.newContext({ viewport: { width: 1366, height: 768 } })).newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${env.baseUrl}/?subset=${SUBSET}`);
  await until(page, (a) => a.ready);
  await trainSmallRun(page);
}, 240_000);

/** The x-range in axis space (ln x). */
async function axis(): Promise<[number, number]> {
  const s = (await app(page)).chartScales;
  return [Math.log(s.xMin), Math.log(s.xMax)];
}

/** The plot area's box on the page. */
async function plot(): Promise<{ x: number; y: number; width: number; height: number }> {
  return (await page.locator('#chart .u-over').boundingBox())!;
}

/** Expect the range [a0, a1] (axis space) to be [e0, e1] to 1 % of each end's value (ln 1.01 in axis space: about a pixel). */
function expectRange([a0, a1]: [number, number], [e0, e1]: [number, number]): void {
  const tol = Math.log(1.01);
  expect(Math.abs(a0 - e0), `start ${Math.exp(a0)} vs ${Math.exp(e0)}`).toBeLessThan(tol);
  expect(Math.abs(a1 - e1), `end ${Math.exp(a1)} vs ${Math.exp(e1)}`).toBeLessThan(tol);
}

const at = ([t0, t1]: [number, number], f: number) => t0 + f * (t1 - t0);

async function drag(from: number, to: number, shift = false): Promise<void> {
  const o = await plot(),
    y = o.y + o.height / 2;
  if (shift) await page.keyboard.down('Shift');
  await page.mouse.move(o.x + o.width * from, y);
  await page.mouse.down();
  await page.mouse.move(o.x + o.width * ((from + to) / 2), y, { steps: 4 });
  await page.mouse.move(o.x + o.width * to, y, { steps: 4 });
  await page.mouse.up();
  if (shift) await page.keyboard.up('Shift');
}

async function resetZoom(): Promise<void> {
  await page.locator('#chart-reset').click();
  await until(page, (a) => !a.chartScales.zoomed);
}

describe("the chart's x-axis (log, the default)", () => {
  it('unzoomed, ends at the data (not rounded out to whole decades)', async () => {
    const a = await app(page);
    expect(a.chartData.points).toBeGreaterThanOrEqual(5);
    expect(a.chartScales.xMin).toBeCloseTo(a.chartData.xFirst, 6);
    expect(a.chartScales.xMax).toBeCloseTo(a.chartData.xLast, 6);
    expect(a.chartData.xLast).toBe(a.samplesSeen); // the last evaluation, at the end of the run
  });

  it('a drag over 50–90 % and over 60–66 % of the plot zooms to exactly that range', async () => {
    for (const [f0, f1] of [
      [0.5, 0.9],
      [0.6, 0.66],
    ]) {
      const all = await axis();
      await drag(f0, f1);
      await until(page, (a) => a.chartScales.zoomed);
      expectRange(await axis(), [at(all, f0), at(all, f1)]);
      await resetZoom();
      expectRange(await axis(), all);
    }
  });

  it('Shift+drag moves the range by the amount dragged; the wheel zooms around the pointer', async () => {
    await drag(0.2, 0.8);
    const zoomed = await axis();
    const w = zoomed[1] - zoomed[0];
    await drag(0.5, 0.3, true); // the content moves left by 20 % of the width: the range moves right by as much
    await until(page, (a) => Math.abs(Math.log(a.chartScales.xMin) - zoomed[0]) > 0.1 * w);
    expectRange(await axis(), [zoomed[0] + 0.2 * w, zoomed[1] + 0.2 * w]);

    const before = await axis(),
      o = await plot();
    await page.mouse.move(o.x + o.width * 0.25, o.y + o.height / 2);
    await page.mouse.wheel(0, -100); // one notch in: the range shrinks to 0.8 around the value under the pointer
    await expect.poll(async () => (await axis())[1] - (await axis())[0]).toBeLessThan(0.9 * (before[1] - before[0]));
    const a = at(before, 0.25);
    expectRange(await axis(), [a + (before[0] - a) * 0.8, a + (before[1] - a) * 0.8]);
    await resetZoom();
  });
});

describe("the chart's readout", () => {
  it("shows samples seen, step and each series' value at the point under the mouse, and moves with the arrow keys", async () => {
    const a = await app(page);
    const third = a.epochs[2]; // the end of epoch 3: an evaluation of both sets at a known x
    const all = await axis(),
      o = await plot();
    const f = (Math.log(third.samplesSeen) - all[0]) / (all[1] - all[0]);
    await page.mouse.move(o.x + o.width * f, o.y + o.height / 2);
    await until(page, (s) => s.chartReadout !== '');
    const lines = (await app(page)).chartReadout.split('\n');
    expect(lines[0]).toBe(`${third.samplesSeen.toLocaleString('en')} samples seen, step ${third.step.toLocaleString('en')}`);
    expect(lines).toContain(`test set: ${third.testElbo.toFixed(2)}`);
    expect(lines).toContain(`training set: ${third.trainElbo!.toFixed(2)}`);
    expect(lines.some((l) => /^minibatch estimate: -?\d+\.\d( smoothed, -?\d+\.\d raw)?( \(at [\d,]+\))?$/.test(l))).toBe(true);

    // The same by keyboard: focus the chart, End goes to the last point, ← to the one before it.
    await page.mouse.move(0, 0);
    await until(page, (s) => s.chartReadout === '');
    await page.locator('#chart').focus();
    await page.keyboard.press('End');
    const end = (await until(page, (s) => s.chartReadout !== '')).chartReadout.split('\n');
    expect(end[0]).toBe(`${a.samplesSeen.toLocaleString('en')} samples seen, step ${a.step.toLocaleString('en')}`);
    expect(end).toContain(`test set: ${a.epochs[a.epochs.length - 1].testElbo.toFixed(2)}`);
    await page.keyboard.press('ArrowLeft');
    const before = (await until(page, (s) => !s.chartReadout.startsWith(end[0]))).chartReadout.split('\n');
    expect(Number(before[0].split(' ')[0].replace(/,/g, ''))).toBeLessThan(a.samplesSeen);
    // + zooms around the point read, 0 shows everything again.
    await page.keyboard.press('+');
    await until(page, (s) => s.chartScales.zoomed);
    await page.keyboard.press('0');
    await until(page, (s) => !s.chartScales.zoomed);
    await page.locator('#chart').blur();
  });
});

describe("the chart's caption names the gestures of the device", () => {
  it('mouse words on a desktop, touch words on a phone (and on the desktop page once it has a touch screen: below)', async () => {
    expect(await page.textContent('#chart-gestures')).toMatch(/drag or wheel to zoom, Shift\+drag to pan, hover for values/);
    const phone = await (await env.browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })).newPage();
    try {
      await phone.goto(`${env.baseUrl}/?subset=${SUBSET}`);
      await until(phone, (a) => a.ready);
      expect(await phone.textContent('#chart-gestures')).toMatch(/drag to pan, pinch to zoom, tap a point for its values/);
    } finally {
      await phone.context().close();
    }
  });
});

describe('the chart under the fingers', () => {
  let cdp: CDPSession;
  const touch = async (type: 'touchStart' | 'touchMove' | 'touchEnd', points: number[]) => {
    const o = await plot(),
      y = o.y + o.height / 2;
    await cdp.send('Input.dispatchTouchEvent', { type, touchPoints: points.map((f, id) => ({ x: o.x + o.width * f, y, id })) });
  };
  /** Fingers from `from` to `to` (fractions of the plot's width), in steps. */
  const gesture = async (from: number[], to: number[]) => {
    await touch('touchStart', from);
    for (let k = 1; k <= 5; k++)
      await touch(
        'touchMove',
        from.map((f, i) => f + ((to[i] - f) * k) / 5),
      );
    await touch('touchEnd', []);
  };

  beforeAll(async () => {
    cdp = await page.context().newCDPSession(page);
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 5 });
  });
  afterAll(async () => {
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: false });
    await cdp.detach();
  });

  it('a pinch zooms: the values under the fingers stay under them', async () => {
    expect(await page.textContent('#chart-gestures')).toMatch(/pinch to zoom/); // the caption followed the device
    const all = await axis();
    await gesture([0.4, 0.6], [0.3, 0.7]); // twice as far apart: half the range, around the middle
    await until(page, (a) => a.chartScales.zoomed);
    const c = at(all, 0.5),
      w = all[1] - all[0];
    expectRange(await axis(), [c - w / 4, c + w / 4]);
  });

  it('one finger pans by the amount dragged', async () => {
    const before = await axis(),
      w = before[1] - before[0];
    await gesture([0.5], [0.7]); // the content follows the finger right: the range moves left by 20 %
    await until(page, (a) => Math.abs(Math.log(a.chartScales.xMin) - before[0]) > 0.1 * w);
    expectRange(await axis(), [before[0] - 0.2 * w, before[1] - 0.2 * w]);
    await resetZoom();
  });
});
