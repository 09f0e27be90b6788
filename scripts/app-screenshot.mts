/**
 * Regenerates docs/screenshot.png (the README's picture of the app): the full embedded digits,
 * J = 2, H = 256, Adam at 0.002, 20 epochs on 2 workers (about a minute on two cores), then the
 * log p(x) estimate with K = 100, in a 1366×768 window. Needs Chromium, like the browser tests:
 *   npx tsx scripts/app-screenshot.mts [out.png]
 */
import path from 'node:path';
import { startServer, launchChromium, ROOT } from '../test/helpers/browser.ts';

const out = process.argv[2] ?? path.join(ROOT, 'docs', 'screenshot.png');
const { server, url } = await startServer();
const browser = await launchChromium();
try {
  const page = await (await browser.newContext({ viewport: { width: 1366, height: 768 } })).newPage();
  const state = () =>
    page.evaluate(() => {
      const a = (globalThis as unknown as { aevbApp: { ready: boolean; phase: string; evaluation: { logLikelihood?: number } | null } })
        .aevbApp;
      return { ready: a.ready, phase: a.phase, logLikelihood: a.evaluation?.logLikelihood };
    });
  const until = async (ok: (s: Awaited<ReturnType<typeof state>>) => boolean) => {
    while (!ok(await state())) await new Promise((r) => setTimeout(r, 500));
  };
  await page.goto(url);
  await until((s) => s.ready);
  await page.fill('#setting-hidden', '256');
  await page.selectOption('#setting-optimizer', 'adam');
  await page.fill('#setting-lr', '0.002');
  await page.fill('#setting-epochs', '20');
  await page.fill('#setting-workers', '2');
  await page.click('#start');
  await until((s) => s.phase === 'done');
  await page.fill('#loglik-k', '100');
  await page.click('#loglik');
  await until((s) => s.logLikelihood !== undefined);
  await page.waitForTimeout(1000); // the last frame
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await server.close();
}
