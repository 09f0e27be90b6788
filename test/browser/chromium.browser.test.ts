/**
 * The browser the tests drive: CHROMIUM_PATH first, then a system Chromium, then the one inside
 * the npm package @sparticuz/chromium, which is what a fresh Linux x64 machine gets; a candidate
 * that exists but does not start (Ubuntu's snap shim, a broken install) is passed over. The last one
 * is checked here even on a machine that has a system Chromium: it launches with playwright's
 * flags and the page is cross-origin isolated, with shared memory and SIMD WASM in every worker.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, CHROMIUM_FLAGS, launchThis, toBase64 } from '../helpers/browser.ts';
import {
  chooseChromium,
  chromiumCandidates,
  describeLaunch,
  launchFirstWorking,
  packagedChromium,
  type ChromiumChoice,
} from '../helpers/chromium.ts';
import { loadEmbeddedMnist } from '../../src/main/node/data_files.ts';

const saved = { path: process.env.CHROMIUM_PATH, noSystem: process.env.AEVB_NO_SYSTEM_CHROMIUM };
function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
afterEach(() => {
  restoreEnv('CHROMIUM_PATH', saved.path);
  restoreEnv('AEVB_NO_SYSTEM_CHROMIUM', saved.noSystem);
});

describe('which Chromium', () => {
  it('CHROMIUM_PATH comes first', async () => {
    process.env.CHROMIUM_PATH = process.execPath;
    expect(await chooseChromium()).toMatchObject({ executablePath: process.execPath, source: 'CHROMIUM_PATH' });
  });

  it('a CHROMIUM_PATH that does not exist is an error naming it', async () => {
    process.env.CHROMIUM_PATH = '/nonexistent/chrome';
    await expect(chooseChromium()).rejects.toThrow(/CHROMIUM_PATH is \/nonexistent\/chrome, which does not exist/);
  });

  it('with no CHROMIUM_PATH and system browsers skipped, the npm package is used', async () => {
    delete process.env.CHROMIUM_PATH;
    process.env.AEVB_NO_SYSTEM_CHROMIUM = '1';
    const c = await chooseChromium();
    expect(c.source).toBe('npm');
    expect(c.executablePath).toMatch(/node_modules\/\.cache\/aevb-chromium\/[\d.]+\/chromium$/);
  });
});

describe.runIf(process.platform === 'linux' && process.arch === 'x64')('a Chromium that exists but does not start', () => {
  it("is passed over for the package's browser, and the log line says which ran and why the other did not", async () => {
    // What Ubuntu's /usr/bin/chromium-browser is without snapd: an executable that only prints where to get the snap.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'aevb-shim-'));
    const shim = path.join(dir, 'chromium-browser');
    writeFileSync(
      shim,
      '#!/bin/sh\necho "Command \'/usr/bin/chromium-browser\' requires the chromium snap to be installed." >&2\nexit 1\n',
    );
    chmodSync(shim, 0o755);
    const broken = (): ChromiumChoice => ({ executablePath: shim, source: 'system', env: {} });
    try {
      const l = await launchFirstWorking(launchThis, [broken, packagedChromium]);
      try {
        expect(l.choice.source).toBe('npm');
        expect(l.skipped).toHaveLength(1);
        expect(l.skipped[0].executablePath).toBe(shim);
        const page = await l.value.newPage();
        expect(await page.evaluate(() => 1 + 1)).toBe(2); // the fallback really runs pages
        expect(describeLaunch(l)).toMatch(new RegExp(`^Chromium: .*aevb-chromium.*\\(npm\\); passed over ${shim} \\(.+\\)$`));
      } finally {
        await l.value.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when none starts, the error names each one tried and the fix', async () => {
    const missing = (): ChromiumChoice => ({ executablePath: '/nonexistent/chromium', source: 'system', env: {} });
    await expect(launchFirstWorking(launchThis, [missing])).rejects.toThrow(
      /No Chromium would start: \/nonexistent\/chromium: .+ set CHROMIUM_PATH/,
    );
  });

  it('the candidates end with the package, system ones skipped when asked', () => {
    delete process.env.CHROMIUM_PATH;
    process.env.AEVB_NO_SYSTEM_CHROMIUM = '1';
    const c = chromiumCandidates();
    expect(c).toHaveLength(1);
    expect(c[0]).toBe(packagedChromium);
  });
});

describe.runIf(process.platform === 'linux' && process.arch === 'x64')('the Chromium of @sparticuz/chromium', () => {
  let server: ViteDevServer, browser: Browser, page: Page;

  beforeAll(async () => {
    const { executablePath, env } = packagedChromium();
    browser = await chromium.launch({ executablePath, args: CHROMIUM_FLAGS, headless: true, env: { ...process.env, ...env } });
    const s = await startServer();
    server = s.server;
    page = await browser.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(`${s.url}/test/browser/harness.html`);
    await page.waitForFunction(() => 'aevbHarness' in globalThis, null, { timeout: 60_000 });
    const full = loadEmbeddedMnist();
    const n = 120;
    await page.evaluate(([a, b, c, d]) => (globalThis as any).aevbHarness.setData(a, b, c, d, 784), [
      toBase64(full.train.x.slice(0, n * 784)),
      n,
      toBase64(full.test.x.slice(0, n * 784)),
      n,
    ] as const);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('is cross-origin isolated, with SharedArrayBuffer', async () => {
    expect(await page.evaluate(() => [globalThis.crossOriginIsolated, typeof SharedArrayBuffer])).toEqual([true, 'function']);
  });

  it('reports a language tag that Intl accepts (uPlot formats numbers with it)', async () => {
    const r = await page.evaluate(() => [navigator.language, new Intl.NumberFormat(navigator.language).format(1234.5)]);
    expect(r).toEqual(['en-US', '1,234.5']);
  });

  it('trains with 2 Web Workers over shared memory, SIMD WASM in each', async () => {
    const r = await page.evaluate(() => (globalThis as any).aevbHarness.train(2, 3, { hidden: 20, latent: 2, batch: 20 }));
    expect(r.transport).toBe('shared');
    expect(r.step).toBe(3);
    expect(r.infos).toHaveLength(2);
    for (const info of r.infos) expect(info).toMatchObject({ backend: 'wasm', simd: true });
    expect(r.params.every(Number.isFinite)).toBe(true);
  });
});
