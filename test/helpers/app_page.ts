/**
 * Driving the app (index.html) in Chromium from a test: read its read-only hook window.aevbApp,
 * wait on its state (polled from Node: the page's CSP forbids the string evaluation that
 * page.waitForFunction's polling uses), and train a small run to its end.
 */
import type { Page } from 'playwright-core';
import type { AevbAppDebug } from '../../src/main/app/debug_hook.ts';

/** A snapshot of window.aevbApp. */
export function app(p: Page): Promise<AevbAppDebug> {
  return p.evaluate(() => {
    const a = (globalThis as unknown as { aevbApp: AevbAppDebug }).aevbApp;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(Object.getOwnPropertyDescriptors(a))) out[k] = (a as unknown as Record<string, unknown>)[k];
    return JSON.parse(JSON.stringify(out)) as AevbAppDebug;
  });
}

/** Poll window.aevbApp until `predicate` holds. */
export async function until(p: Page, predicate: (a: AevbAppDebug) => boolean, timeout = 90_000): Promise<AevbAppDebug> {
  const end = Date.now() + timeout;
  for (;;) {
    const ready = await p.evaluate(() => 'aevbApp' in globalThis);
    const a = ready ? await app(p) : null;
    if (a && predicate(a)) return a;
    if (Date.now() > end) {
      throw new Error(
        `timed out waiting for ${predicate.toString()}; aevbApp: ${JSON.stringify(a && { phase: a.phase, step: a.step, busy: a.busy, status: a.status, errors: a.errors })}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Settings a test fills in before Start: a small model that trains in seconds on two cores. */
export const SMALL_RUN: Readonly<Record<string, string>> = { hidden: '20', batch: '100', workers: '2', epochs: '5' };

/** Fill the settings and train to the end ('done'); returns the hook's state once the chart has drawn all of it. */
export async function trainSmallRun(p: Page, settings: Readonly<Record<string, string>> = SMALL_RUN): Promise<AevbAppDebug> {
  for (const [key, value] of Object.entries(settings)) await p.fill(`#setting-${key}`, value);
  await p.locator('#start').click();
  await until(p, (a) => a.phase === 'done' && !a.busy);
  return chartCaughtUp(p);
}

/** Wait until the chart has drawn the whole history (it redraws at most once a second). */
export function chartCaughtUp(p: Page): Promise<AevbAppDebug> {
  return until(p, (a) => a.chartData.points === a.historyLength && a.chartData.xLast === a.samplesSeen);
}
