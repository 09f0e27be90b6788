/**
 * The app (index.html) end to end in a real Chromium, driven like a user would: it fills the
 * settings, clicks the buttons and picks files; it reads the app's state through the read-only
 * hook window.aevbApp and the pictures through their canvas pixels.
 *
 * On the dev server, one page and one run go through the steps in order (a small model on a
 * 2,000-digit subset): start → pause/resume → redraw cap → layout → checkpoint round trip → bad
 * data → reload. Then `vite build` is served from a sub-path by a plain server, with and without
 * the isolation headers. About 40 s on two cores. Waits poll the page's state; nothing asserts on
 * wall-clock time.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser, Download, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { build } from 'vite';
import { startServer, launchChromium, ROOT } from '../helpers/browser.ts';
import type { AevbAppDebug } from '../../src/main/app/debug_hook.ts';
import { decodeMnistBin } from '../../src/shared/formats/mnist_bin.ts';
import { HOSTING_HEADERS } from '../../src/main/app/hosting_headers.ts';
import { loadEmbeddedMnist } from '../../src/main/node/data_files.ts';
import { datasetFingerprint } from '../../src/shared/formats/checkpoint.ts';
import { splitEmbeddedMnist } from '../../src/shared/data/mnist_split.ts';
import { figure2Rows, figure2Runs, figure2Spec } from '../../src/shared/report/figure2.ts';
import { renderSvg } from '../../src/shared/report/render.ts';
import { parseSweepJson } from '../../src/shared/report/sweep_files.ts';
import { ariaFields, markPaths, parseSvg } from '../helpers/figure_files.ts';

let server: ViteDevServer, browser: Browser, page: Page, baseUrl: string;

const SUBSET = 2000; // 1,800 training and 200 test digits: 18 steps per epoch at M = 100
const VIEWPORT = { width: 1366, height: 768 };

/** A snapshot of window.aevbApp (of `p`, by default the main test page). */
function app(p: Page = page): Promise<AevbAppDebug> {
  return p.evaluate(() => {
    const a = (globalThis as unknown as { aevbApp: AevbAppDebug }).aevbApp;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(Object.getOwnPropertyDescriptors(a))) out[k] = (a as unknown as Record<string, unknown>)[k];
    return JSON.parse(JSON.stringify(out)) as AevbAppDebug;
  });
}

/**
 * Poll window.aevbApp until `predicate` holds. (Polled from Node: the page's CSP forbids the string
 * evaluation that page.waitForFunction's polling uses, which is as it should be.)
 */
async function until(predicate: (a: AevbAppDebug) => boolean, p: Page = page, timeout = 60_000): Promise<AevbAppDebug> {
  const end = Date.now() + timeout;
  const what = predicate.toString();
  for (;;) {
    const ready = await p.evaluate(() => 'aevbApp' in globalThis);
    const a = ready ? await app(p) : null;
    if (a && predicate(a)) return a;
    if (Date.now() > end)
      throw new Error(
        `timed out waiting for ${what}; aevbApp: ${JSON.stringify(a && { phase: a.phase, step: a.step, busy: a.busy, status: a.status, errors: a.errors, lastSavedStep: a.lastSavedStep })}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Poll `check` (run from Node) until it resolves true. */
async function waitFor(check: () => Promise<boolean>, timeout = 30_000): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${check.toString()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Two decodes on the workers, answered after any request already sent to them (a wait on the workers, not on a clock). */
async function workersRoundTrip(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    await page.evaluate(() =>
      (globalThis as unknown as { aevbApp: { decode: (z: number[]) => Promise<number[]> } }).aevbApp.decode([0, 0]),
    );
  }
}

/** Pixel statistics of a canvas: how many pixels differ from the most common colour, and distinct grey levels. */
function canvasStats(
  selector: string,
): Promise<{ width: number; height: number; nonBackground: number; levels: number; cellsDiffer: boolean }> {
  return page.evaluate((sel) => {
    const c = document.querySelector(sel) as HTMLCanvasElement;
    const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
    const counts = new Map<number, number>();
    for (let i = 0; i < data.length; i += 4) {
      const key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const background = Math.max(...counts.values());
    // Do the top-left and bottom-right 28×28 cells differ (pictures vary, not one tile repeated)?
    const cell = (x0: number, y0: number) => {
      let s = '';
      for (let y = y0; y < y0 + 28 && y < c.height; y++)
        for (let x = x0; x < x0 + 28 && x < c.width; x++) s += `${data[(y * c.width + x) * 4]},`;
      return s;
    };
    return {
      width: c.width,
      height: c.height,
      nonBackground: data.length / 4 - background,
      levels: counts.size,
      cellsDiffer: cell(0, 0) !== cell(Math.max(0, c.width - 28), Math.max(0, c.height - 28)),
    };
  }, selector);
}

async function click(selector: string): Promise<void> {
  await page.locator(selector).click();
}

beforeAll(async () => {
  const s = await startServer();
  server = s.server;
  baseUrl = s.url;
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: VIEWPORT, acceptDownloads: true });
  page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${baseUrl}/?subset=${SUBSET}`);
  await until((a) => a.ready);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the compact embedded digits (public/mnist-digits.bin, made by scripts/prepare-mnist.mjs)', () => {
  it("split as in Node, give exactly the values, labels and fingerprint Node reads from the npm package's JSON", () => {
    const bin = readFileSync(path.join(ROOT, 'public', 'mnist-digits.bin')); // written when vite started
    expect(bin.length).toBeLessThan(2_500_000); // vs 21 MB of JSON
    const fromBin = splitEmbeddedMnist(decodeMnistBin(gunzipSync(bin)));
    const node = loadEmbeddedMnist();
    for (const s of ['train', 'test'] as const) {
      expect(fromBin[s].n).toBe(node[s].n);
      expect(Buffer.from(fromBin[s].x.buffer).equals(Buffer.from(node[s].x.buffer)), s).toBe(true);
      expect(fromBin[s].labels).toEqual(node[s].labels);
    }
    expect(datasetFingerprint(fromBin.train.x, fromBin.train.n, fromBin.train.d)).toBe(
      datasetFingerprint(node.train.x, node.train.n, node.train.d),
    );
  });
});

describe('the app in Chromium', () => {
  it('is cross-origin isolated, loads the embedded digits compactly and labels every control', async () => {
    const a = await app();
    expect(a.isolated).toBe(true);
    expect(await page.locator('#isolation-banner').isHidden()).toBe(true);
    expect(a.data).toMatchObject({ train: SUBSET * 0.9, test: SUBSET * 0.1 });
    expect(a.errors.data).toBe('');
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input, select')].filter((el) => (el as HTMLInputElement).labels?.length === 0).map((el) => el.id),
    );
    expect(unlabelled).toEqual([]);
  });

  it("shows the config validator's message next to a bad setting and does not start", async () => {
    await page.fill('#setting-latent', '0');
    // In the page's words: the form's label and the validator's problem, not the CLI's message or fix.
    expect(await page.textContent('#setting-latent-error')).toBe('Latent size J is 0; it must be an integer from 1 to 1024.');
    await click('#start');
    expect((await app()).phase).toBe('none');
    await page.fill('#setting-latent', '2');
    expect(await page.textContent('#setting-latent-error')).toBe('');
  });

  it('warns when the workers outnumber the cores, and the warning goes when they do not', async () => {
    // The default: auto (one per core; the count that trains fastest is measured), never a warning.
    expect(await page.inputValue('#setting-workers')).toBe('auto');
    expect(await page.textContent('#workers-warning')).toBe('');
    await page.fill('#setting-workers', 'two');
    expect(await page.textContent('#setting-workers-error')).toBe('Workers is "two"; it must be auto or a whole number from 1 to 256.');
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    await page.fill('#setting-workers', String(cores + 2));
    expect(await page.textContent('#workers-warning')).toBe(
      `${cores + 2} workers on ${cores} core${cores === 1 ? '' : 's'}: they take turns on the cores and every step waits for the slowest, so ${cores} is usually faster.`,
    );
    await page.fill('#setting-workers', String(cores));
    expect(await page.textContent('#workers-warning')).toBe('');
  });

  it('trains on 2 workers with SIMD over shared memory, raises the test ELBO, and draws the chart and pictures', async () => {
    await page.fill('#setting-hidden', '64');
    await page.fill('#setting-batch', '100');
    await page.fill('#setting-workers', '2');
    await page.fill('#setting-epochs', '500');
    const top = () =>
      page.evaluate(() => ['#chart', '#recon', '#latent'].map((sel) => document.querySelector(sel)!.getBoundingClientRect().top));
    const before = await top();
    await click('#start');
    await until((a) => a.phase === 'running');
    await until((a) => a.epochs.length >= 4 && a.chartDraws >= 1);
    expect(await top()).toEqual(before); // no panel moved as the run began and the chart filled
    const a = await app();
    expect(a.transport).toBe('shared');
    expect(a.workerInfo).toHaveLength(2);
    for (const w of a.workerInfo) expect(w).toMatchObject({ backend: 'wasm', simd: true, threads: false });
    expect(await page.locator('#setting-hidden').isDisabled()).toBe(true); // fixed while a run exists
    const first = a.epochs[0].testElbo,
      last = a.epochs[a.epochs.length - 1].testElbo;
    expect(last).toBeGreaterThan(first);

    await until((a) => a.explorerRefreshes >= 1 && a.shownStep > 0 && a.chartDraws >= 1 && a.historyLength >= 3);
    // Pixels are read while paused: reading them is the test's work, not the app's, and it takes a while.
    await click('#pause');
    await until((a) => a.phase === 'paused');
    for (const sel of ['#recon', '#samples', '#manifold']) {
      const s = await canvasStats(sel);
      expect(s.nonBackground, sel).toBeGreaterThan(s.width * s.height * 0.2);
      expect(s.levels, sel).toBeGreaterThan(20);
      expect(s.cellsDiffer, sel).toBe(true);
    }
    const latent = await canvasStats('#latent');
    expect(latent.levels).toBeGreaterThan(5); // coloured dots on white
    expect(latent.nonBackground).toBeGreaterThan(200);
    const chart = await canvasStats('#chart canvas');
    expect(chart.levels).toBeGreaterThan(5); // axes, grid and three series
    expect(chart.nonBackground).toBeGreaterThan(1000);
  });

  it('pauses (the step stops advancing) and resumes (it advances again)', async () => {
    const paused = (await app()).step;
    expect(await page.textContent('#pause')).toBe('Resume');
    // Nothing may happen while paused: after the workers have answered the pictures of this step and
    // two more requests (each queued behind any training request), the step is still the same.
    await until((a) => a.shownStep === paused);
    await workersRoundTrip();
    expect((await app()).step).toBe(paused);
    await click('#pause');
    await until((a) => a.phase === 'running' && a.step > paused);
    expect(await page.textContent('#pause')).toBe('Pause');
    await click('#pause');
    await until((a) => a.phase === 'paused');
    const again = (await app()).step;
    await workersRoundTrip();
    expect((await app()).step).toBe(again);
  });

  it('a long log p(x) estimate shows progress and time left, queues Resume honestly, cancels, and every control works again', async () => {
    const before = await app();
    expect(before.phase).toBe('paused');
    // The bug this guards against: paused, K = 100000, Estimate, Resume → "Starting to train…" and every
    // control locked until the estimate ended (hours). K = 20000 keeps each slice short on two cores.
    await page.fill('#loglik-k', '20000');
    await click('#loglik');
    await until((a) => a.estimating.running);
    expect(await page.locator('#loglik-cancel').isVisible()).toBe(true);
    expect(await page.locator('#loglik').isDisabled()).toBe(true);
    await click('#pause'); // Resume during the estimate: training is queued after it
    let a = await until((a) => a.estimating.resumeAfter);
    expect(a.phase).toBe('paused');
    expect(a.status).toMatch(/Estimating log p\(x\), K = 20,000: \d+ %, .*Training waits and resumes after it/);
    for (const sel of ['#pause', '#reset', '#save-checkpoint', '#data-embedded'])
      expect(await page.locator(sel).isEnabled(), sel).toBe(true);
    a = await until((a) => a.estimating.progress > 0);
    expect(a.status).toMatch(/\d+ %, about \d+ (s|min|h)|almost done/);
    expect(a.step).toBe(before.step); // the workers estimate; nothing trains meanwhile
    // The box holds the largest K whole. Checked before training resumes: the forced layout is the test's work.
    await page.fill('#loglik-k', '100000');
    expect(
      await page.evaluate(() => {
        const k = document.getElementById('loglik-k') as HTMLInputElement;
        return k.scrollWidth <= k.clientWidth;
      }),
    ).toBe(true);
    await click('#loglik-cancel');
    await until((a) => !a.estimating.running && a.phase === 'running'); // the queued training starts at once
    expect(await page.textContent('#loglik-result')).toMatch(/^Cancelled the estimate at \d+ of 200 test datapoints/);
    expect(await page.locator('#loglik').isEnabled()).toBe(true);
    expect(await page.textContent('#pause')).toBe('Pause');
    await click('#pause');
    await until((a) => a.phase === 'paused');
  });

  // How long the main thread's tasks take while training is a benchmark (npm run bench -- --page, in
  // BENCHMARKS.md): on a busy machine every duration grows. What is checked here is a count that load
  // cannot raise: the chart redraws at most once a second (a slower page only redraws less).
  it("while training, redraws the chart at most once a second and records the main thread's long tasks", async () => {
    const from = await app();
    const t0 = await page.evaluate(() => performance.now());
    await click('#pause'); // resume
    await until((a) => a.epochs.length >= from.epochs.length + 10);
    const to = await app();
    const t1 = await page.evaluate(() => performance.now());
    const draws = to.chartDraws - from.chartDraws;
    expect(draws).toBeGreaterThan(0);
    expect(draws).toBeLessThanOrEqual(Math.floor((t1 - t0) / 1000) + 1);
    expect(to.longTasks.supported).toBe(true);
    expect(to.longTasks.trainingMs).toBeGreaterThan(0);
  });

  it('fits the chart and the pictures in a 1366×768 window while training; screenshot in test-artifacts/app-trained.png', async () => {
    // Each element with the least width that still shows it properly.
    const wanted: [string, number][] = [
      ['#chart', 400],
      ['#stats', 200],
      ['#recon', 150],
      ['#samples', 150],
      ['#manifold', 150],
      ['#latent', 150],
      ['#start', 40],
      ['#pause', 40],
      ['#reset', 40],
    ];
    const boxes = await page.evaluate(
      (sels) => sels.map((sel) => document.querySelector(sel)!.getBoundingClientRect().toJSON() as DOMRect),
      wanted.map(([sel]) => sel),
    );
    boxes.forEach((b, i) => {
      const [sel, minWidth] = wanted[i];
      expect(b.bottom, sel).toBeLessThanOrEqual(VIEWPORT.height);
      expect(b.right, sel).toBeLessThanOrEqual(VIEWPORT.width);
      expect(b.width, sel).toBeGreaterThanOrEqual(minWidth);
    });
    // The numbers are whole: no value ends cut off ("@ …"), and the workers line reads as sentences.
    const cut = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('#stats dd')]
        .filter((d) => d.scrollWidth > d.clientWidth + 1)
        .map((d) => `${d.id}: ${d.textContent}`),
    );
    expect(cut).toEqual([]);
    expect(await page.textContent('#workers')).toMatch(/\(SharedArrayBuffer\)\. /); // a sentence, then the next
    // …and says what computes the step: aevb's kernels, in the build this browser runs (Chromium: relaxed SIMD).
    expect(await page.textContent('#workers')).toMatch(/ · aevb's kernels, relaxed SIMD \(fused multiply-add\) · /);
    expect(await page.textContent('#workers')).toMatch(/#0 aevb-relaxed/);
    const dir = path.join(ROOT, 'test-artifacts');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, 'app-trained.png') });
  });

  it('reflows from a phone to a wide screen: no sideways scrolling, the chart wide and of sane height; screenshots taken', async () => {
    // The README's pictures are refreshed on request only (AEVB_UPDATE_SCREENSHOTS=1 npm test), so that a
    // test run leaves the work tree clean; otherwise they go to the git-ignored test-artifacts/.
    const shots = process.env.AEVB_UPDATE_SCREENSHOTS
      ? path.join(ROOT, 'docs', 'screenshots')
      : path.join(ROOT, 'test-artifacts', 'screenshots');
    mkdirSync(shots, { recursive: true });
    const sizes = [
      [390, 844],
      [800, 900],
      [1024, 768],
      [1366, 768],
      [1920, 1080],
    ] as const;
    for (const [width, height] of sizes) {
      await page.setViewportSize({ width, height });
      // The chart follows its box (ResizeObserver → uPlot.setSize): wait for its canvas to fit.
      await waitFor(() =>
        page.evaluate(() => {
          const box = document.getElementById('chart')!.getBoundingClientRect();
          const c = document.querySelector('#chart canvas')!.getBoundingClientRect();
          return c.width > 0 && c.width <= box.width + 1 && c.width > box.width - 40;
        }),
      );
      const m = await page.evaluate(
        (sels) => ({
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth,
          boxes: Object.fromEntries(sels.map((sel) => [sel, document.querySelector(sel)!.getBoundingClientRect().toJSON() as DOMRect])),
        }),
        ['#chart', '#stats', '#workers', '#recon', '#samples', '#manifold', '#latent', '#start', '#loglik-k', '.controls'],
      );
      const at = `${width} px`;
      expect(m.scrollWidth, at).toBeLessThanOrEqual(m.innerWidth);
      expect(m.boxes['#chart'].width, at).toBeGreaterThan(0.45 * width);
      expect(m.boxes['#chart'].height, at).toBeGreaterThan(150);
      expect(m.boxes['#chart'].height, at).toBeLessThan(600);
      for (const [sel, b] of Object.entries(m.boxes)) {
        expect(b.left, `${sel} at ${at}`).toBeGreaterThanOrEqual(0);
        expect(b.right, `${sel} at ${at}`).toBeLessThanOrEqual(width);
      }
      for (const sel of ['#recon', '#samples', '#manifold', '#latent']) expect(m.boxes[sel].width, `${sel} at ${at}`).toBeGreaterThan(120);
      expect(m.boxes['#stats'].width, at).toBeGreaterThan(200);
      expect(m.boxes['#loglik-k'].width, at).toBeGreaterThanOrEqual(70);
      // The worker list is never clipped: the numbers' panel shows all it holds.
      expect(
        await page.evaluate(() => {
          const s = document.querySelector('.stats')!;
          return s.scrollHeight <= s.clientHeight + 1;
        }),
        at,
      ).toBe(true);
      if (width === 390 || width === 1024 || width === 1920) {
        await page.screenshot({ path: path.join(shots, `app-${width}.png`), fullPage: width < 1366 });
      }
    }
    await page.setViewportSize(VIEWPORT);
  });

  it('the chart zooms by dragging (y follows the data in view), resets, and downloads the metrics as CSV and JSONL', async () => {
    await click('#pause'); // paused for this test and the next: the data and the model stay as they are
    const { step } = await until((a) => a.phase === 'paused');
    await until((a) => a.shownStep === step && a.historyLength > 0);
    const all = (await app()).chartScales;
    expect(all.zoomed).toBe(false);
    const over = (await page.locator('#chart .u-over').boundingBox())!;
    const y = over.y + over.height / 2;
    await page.mouse.move(over.x + over.width * 0.6, y);
    await page.mouse.down();
    await page.mouse.move(over.x + over.width * 0.8, y, { steps: 5 });
    await page.mouse.move(over.x + over.width * 0.98, y, { steps: 5 });
    await page.mouse.up();
    const zoomed = (await until((a) => a.chartScales.zoomed)).chartScales;
    expect(zoomed.xMin).toBeGreaterThan(all.xMin * 2); // the last part of the run (log axis)
    expect(zoomed.xMax).toBeLessThanOrEqual(all.xMax * 1.01);
    expect(zoomed.yMin).toBeGreaterThan(all.yMin); // y follows what is in view: the ELBO is higher late in the run
    expect(await page.locator('#chart-reset').isEnabled()).toBe(true);
    await click('#chart-reset');
    const back = (await until((a) => !a.chartScales.zoomed)).chartScales;
    expect(back.xMin).toBeCloseTo(all.xMin, 6);

    const rows = (await app()).metricsRows;
    expect(rows).toBeGreaterThanOrEqual(4);
    const text = async (sel: string) => {
      const [d] = await Promise.all([page.waitForEvent('download'), click(sel)]);
      return { name: d.suggestedFilename(), body: readFileSync((await d.path())!, 'utf8') };
    };
    const csv = await text('#metrics-csv');
    expect(csv.name).toBe('metrics.csv');
    const lines = csv.body.trimEnd().split('\n');
    expect(lines[0]).toBe(
      'epoch,step,point,samplesSeen,trainElbo,testElbo,trainRecon,trainKl,testRecon,testKl,trainElboSe,testElboSe,elboSamples,' +
        'logLikelihood,logLikelihoodK,logLikelihoodSe,samplesPerSecond,trainSeconds,evalSeconds,failedSteps,workers',
    );
    expect(lines).toHaveLength(rows + 1);
    const first = lines[1].split(',');
    expect(Number(first[1])).toBe(18); // step at the end of epoch 1 (1,800 digits / M = 100)
    expect(first[2]).toBe('epoch'); // point: the CSV has every field of the JSONL
    expect(Number(first[5])).toBeLessThan(0); // test ELBO
    expect(Number(first[11])).toBeGreaterThan(0); // the test ELBO's standard error (S = 2 by default)
    expect(first[12]).toBe('2'); // S
    expect(first[20]).toBe('2'); // workers
    const jsonl = await text('#metrics-jsonl');
    const objs = jsonl.body
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    expect(objs).toHaveLength(rows);
    expect(objs[0]).toMatchObject({ step: 18, samplesSeen: 1800, workers: 2 });
    expect(Object.keys(objs[0])).toEqual(
      expect.arrayContaining(['epoch', 'testElbo', 'trainElbo', 'samplesPerSecond', 'evalSeconds', 'failedSteps']),
    );
  });

  it('the explorer decodes a clicked latent point at once, follows a slider, and interpolates between two test digits', async () => {
    type Hook = { decode: (z: number[]) => Promise<number[]>; encodeTest: (i: number) => Promise<number[]> };
    const decode = (z: number[]) => page.evaluate((zz) => (globalThis as unknown as { aevbApp: Hook }).aevbApp.decode(zz), z);
    const maxDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    const n0 = (await app()).picked.decodes;
    const box = (await page.locator('#latent').boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.4);
    let a = await until((a) => a.picked.decodes > n0 && a.picked.z[0] !== 0);
    const [x0, x1, y0, y1] = a.picked.latentView!;
    // The z of the click, read through the plot's axes (to within the canvas's 1 px border).
    expect(Math.abs(a.picked.z[0] - (x0 + 0.3 * (x1 - x0)))).toBeLessThan(0.01 * (x1 - x0));
    expect(Math.abs(a.picked.z[1] - (y1 - 0.4 * (y1 - y0)))).toBeLessThan(0.01 * (y1 - y0));
    // The page shows exactly the decoder's mean at that z.
    expect(maxDiff(a.picked.decoded!, await decode(a.picked.z))).toBeLessThan(1e-6);
    expect(Math.max(...a.picked.decoded!) - Math.min(...a.picked.decoded!)).toBeGreaterThan(0.3); // a picture, not a flat field

    await page.locator('#z-slider-1').fill('-1.5');
    a = await until((a) => Math.abs(a.picked.z[1] + 1.5) < 1e-6);
    expect(maxDiff(a.picked.decoded!, await decode(a.picked.z))).toBeLessThan(1e-6);

    const n = (await app()).data!.test;
    await page.fill('#interp-from', '0');
    await page.fill('#interp-to', String(n - 1));
    await page.locator('#interp-t').fill('1');
    const mu = await page.evaluate((i) => (globalThis as unknown as { aevbApp: Hook }).aevbApp.encodeTest(i), n - 1);
    a = await until((a) => maxDiff(a.picked.z, mu) < 1e-5);
    expect(maxDiff(a.picked.decoded!, await decode(mu))).toBeLessThan(1e-6);
    const strip = await canvasStats('#interp-strip');
    expect(strip.levels).toBeGreaterThan(20);
    expect(strip.cellsDiffer).toBe(true); // the first and last steps are different digits
    await click('#pause'); // train on, as before the test
    await until((a) => a.phase === 'running');
  });

  let checkpoint: { name: string; buffer: Buffer };
  let saved: { step: number; testElbo: number };

  it('saves a checkpoint that loads back to the same step and test ELBO', async () => {
    await click('#pause');
    await until((a) => a.phase === 'paused');
    await page.fill('#loglik-k', '5');
    await click('#loglik');
    await until((a) => !!a.evaluation && a.evaluation.logLikelihood !== undefined && a.evaluation.step === a.step);
    const ev = (await app()).evaluation!;
    saved = { step: ev.step, testElbo: ev.testElbo };
    expect(ev.logLikelihood!).toBeGreaterThan(ev.testElbo); // log p(x) ≥ ELBO (up to IS noise, large here)
    // The stats give the estimate and its standard error, "−123.45 ± 0.67 @ 54", and K in the tooltip (drawn in the next frame).
    await page.waitForFunction(() => /^IS, K 5 /.test(document.getElementById('stat-loglik')?.title ?? ''));
    expect(await page.textContent('#stat-loglik')).toMatch(/^-\d+\.\d\d ± \d+\.\d\d @ [\d,]+$/);
    expect(await page.textContent('#stat-test')).toMatch(/^-\d+\.\d\d ± \d+\.\d\d @ [\d,]+$/);
    expect(await page.getAttribute('#stat-test', 'title')).toMatch(/^S 2 draws per datapoint/);

    const [download] = await Promise.all([page.waitForEvent('download'), click('#save-checkpoint')]);
    expect(download.suggestedFilename()).toBe(`aevb-step${saved.step}.aevb`);
    checkpoint = { name: download.suggestedFilename(), buffer: readFileSync((await download.path())!) };
    expect(checkpoint.buffer.subarray(0, 8).toString('latin1')).toBe('AEVBCKPT');
    // The same state for PyTorch (docs/safetensors.md): a safetensors header, then the state_dict's tensors.
    const [stDownload] = await Promise.all([page.waitForEvent('download'), click('#export-pytorch')]);
    expect(stDownload.suggestedFilename()).toBe(`aevb-step${saved.step}.safetensors`);
    const safetensors = readFileSync((await stDownload.path())!);
    const stHeader = JSON.parse(safetensors.subarray(8, 8 + Number(safetensors.readBigUInt64LE(0))).toString('utf8'));
    expect(stHeader['encoder.hidden.weight']).toMatchObject({ dtype: 'F32', shape: [64, 784] });
    expect(stHeader.__metadata__.step).toBe(String(saved.step));

    // The decoder alone, in TF.js's weights format: model.json + weights.bin.
    const files = new Map<string, Buffer>();
    let onDownload!: (d: Download) => void;
    const both = new Promise<void>((resolve) => {
      onDownload = (d) =>
        void d.path().then((p) => {
          files.set(d.suggestedFilename(), readFileSync(p!));
          if (files.size === 2) resolve();
        });
    });
    page.on('download', onDownload);
    await click('#export-decoder');
    await both;
    page.off('download', onDownload);
    const modelJson = JSON.parse(files.get('model.json')!.toString('utf8'));
    expect(modelJson.format).toBe('aevb-decoder');
    expect(modelJson.userDefinedMetadata).toMatchObject({ latent: 2, hidden: 64, outputSize: 784, imageShape: [28, 28] });
    const values = modelJson.weightsManifest[0].weights.reduce(
      (n: number, w: { shape: number[] }) => n + w.shape.reduce((a, b) => a * b, 1),
      0,
    );
    expect(files.get('weights.bin')!.length).toBe(4 * values);

    await click('#pause'); // resume, train on, pause
    await until((a) => a.step > saved.step + 20);
    await click('#pause');
    await until((a) => a.phase === 'paused');

    await page.setInputFiles('#load-checkpoint', {
      name: checkpoint.name,
      mimeType: 'application/octet-stream',
      buffer: checkpoint.buffer,
    });
    await until((a) => a.asking); // it would replace the current run
    await click('#confirm-ok');
    await until((a) => a.step === saved.step && !!a.evaluation && a.evaluation.step === saved.step && !a.busy);
    const back = await app();
    expect(back.errors.keep).toBe('');
    expect(back.evaluation!.testElbo).toBeCloseTo(saved.testElbo, 6);
    expect(back.phase).toBe('paused');

    // "Load a checkpoint" takes the safetensors too; a damaged one is refused in one line and changes nothing.
    await page.setInputFiles('#load-checkpoint', {
      name: 'model.safetensors',
      mimeType: 'application/octet-stream',
      buffer: safetensors.subarray(0, safetensors.length - 100),
    });
    await until((a) => a.errors.keep !== '' && !a.busy);
    expect((await app()).errors.keep).toMatch(/model\.safetensors|truncated/);
    expect((await app()).step).toBe(saved.step);
    await click('#pause');
    await until((a) => a.step > saved.step + 5);
    await click('#pause');
    await until((a) => a.phase === 'paused');
    await page.setInputFiles('#load-checkpoint', { name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: safetensors });
    await until((a) => a.asking); // it would replace the current run
    await click('#confirm-ok');
    await until((a) => a.step === saved.step && !!a.evaluation && a.evaluation.step === saved.step && !a.busy);
    const fromSt = await app();
    expect(fromSt.errors.keep).toBe('');
    expect(fromSt.evaluation!.testElbo).toBeCloseTo(saved.testElbo, 6);
  });

  it('refuses a bad IDX file with its message and keeps the model (same step, same ELBO)', async () => {
    // A header for 100 images of 28×28 bytes, with 500 of the 78,400 pixel bytes.
    const header = Buffer.from([0, 0, 0x08, 3, 0, 0, 0, 100, 0, 0, 0, 28, 0, 0, 0, 28]);
    const truncated = Buffer.concat([header, Buffer.alloc(500, 7)]);
    await page.setInputFiles('#data-files', { name: 'train-images-idx3-ubyte', mimeType: 'application/octet-stream', buffer: truncated });
    await until((a) => a.errors.data !== '' && !a.busy);
    let a = await app();
    expect(a.errors.data).toMatch(/train-images-idx3-ubyte is truncated/);
    expect(a.step).toBe(saved.step);
    expect(a.phase).toBe('paused');

    // The same through the drop zone: a corrupt .gz file.
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5])], 'broken.gz'));
      document.getElementById('drop-zone')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await until((a) => a.errors.data.includes('broken.gz') && !a.busy);
    expect((await app()).errors.data).toMatch(/broken\.gz is a corrupt gzip file/);

    // A gzip bomb: a header declaring 2×2×2 bytes, then 64 MiB of zeros (64 KB compressed). The data
    // worker's streaming gunzip stops at the declared size instead of inflating it all.
    const bomb = gzipSync(Buffer.concat([Buffer.from([0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2]), Buffer.alloc(64 << 20)]), {
      level: 9,
    });
    await page.setInputFiles('#data-files', { name: 'bomb-idx3-ubyte.gz', mimeType: 'application/gzip', buffer: bomb });
    await until((a) => a.errors.data.includes('bomb-idx3-ubyte.gz') && !a.busy);
    expect((await app()).errors.data).toMatch(/bomb-idx3-ubyte\.gz decompresses to more than the 24 bytes its header declares/);

    await click('#loglik');
    await until((a) => !!a.evaluation && a.evaluation.step === saved.step && a.evaluation.logLikelihood !== undefined && !a.busy);
    a = await app();
    expect(a.step).toBe(saved.step);
    expect(a.evaluation!.testElbo).toBeCloseTo(saved.testElbo, 6);
    expect(a.data!.train).toBe(SUBSET * 0.9);
  });

  it('survives a reload: the run comes back from IndexedDB at its step and trains on', async () => {
    await until((a) => a.lastSavedStep === saved.step);
    await page.reload();
    await until((a) => a.ready);
    const a = await app();
    expect(a.restoredStep).toBe(saved.step);
    expect(a.step).toBe(saved.step);
    expect(a.phase).toBe('paused');
    expect(await page.locator('#restore-banner').isVisible()).toBe(true);
    await click('#restore-resume');
    await until((a) => a.phase === 'running' && a.step > saved.step);
    await until((a) => a.step > saved.step + 40);
    await click('#pause');
    await until((a) => a.phase === 'paused');
    // (How long the page's tasks take while training is measured by npm run bench -- --page, not asserted here.)
  });

  it('a reload mid-training brings the run back at the step it had reached (saved every few seconds), with its whole chart history', async () => {
    await click('#pause'); // resume
    // A save made while training (every few seconds). Here an epoch is 18 steps and one request to the
    // workers may hold a whole epoch, so the save may fall on an epoch's end; with longer epochs it
    // falls between them, where the old page (saving only at epoch ends) lost up to two epochs.
    const from = (await app()).step;
    const s = await until((a) => a.phase === 'running' && a.lastSavedStep > from);
    expect(s.lastSavedHistory).toBeGreaterThan(5);
    await page.reload(); // while training
    const a = await until((a) => a.ready);
    expect(a.restoredStep).toBeGreaterThanOrEqual(s.lastSavedStep);
    expect(a.historyLength).toBeGreaterThanOrEqual(s.lastSavedHistory);
    expect(a.phase).toBe('paused');
  });

  it('asks before Reset; "Keep" changes nothing, Reset keeps the run restorable', async () => {
    const before = await app();
    await click('#reset');
    await until((a) => a.asking);
    await click('#confirm-cancel');
    let a = await until((a) => !a.asking);
    expect(a.phase).toBe('paused');
    expect(a.step).toBe(before.step);
    await click('#reset');
    await until((a) => a.asking);
    await click('#confirm-ok');
    a = await until((a) => a.phase === 'none' && a.previousStep === before.step && !a.busy);
    expect(await page.textContent('#restore-previous')).toContain(`step ${before.step.toLocaleString('en')}`);
    await click('#restore-previous'); // no current run: nothing to ask
    a = await until((a) => a.phase === 'paused' && !a.busy);
    expect(a.step).toBe(before.step);
    expect(a.previousStep).toBe(-1); // it is the current run again, not also a previous one
    expect(await page.locator('#restore-previous').isHidden()).toBe(true);
    expect(a.historyLength).toBeGreaterThan(5);
  });

  it('asks before new data (a valid IDX file of another image size) and keeps the replaced run restorable', async () => {
    const before = await app();
    // 100 images of 14×14: a valid IDX3 file.
    const n = 100,
      header = Buffer.from([0, 0, 0x08, 3, 0, 0, 0, n, 0, 0, 0, 14, 0, 0, 0, 14]);
    const pixels = Buffer.from(Array.from({ length: n * 196 }, (_, i) => (i * 37) % 256));
    const file = { name: 'small-images-idx3-ubyte', mimeType: 'application/octet-stream', buffer: Buffer.concat([header, pixels]) };
    await page.setInputFiles('#data-files', file);
    await until((a) => a.asking);
    await click('#confirm-cancel');
    let a = await until((a) => !a.asking && !a.busy);
    expect(a.data!.train).toBe(SUBSET * 0.9);
    expect(a.step).toBe(before.step);
    await page.setInputFiles('#data-files', file);
    await until((a) => a.asking);
    await click('#confirm-ok');
    a = await until((a) => a.phase === 'none' && a.data!.train === 90 && !a.busy);
    expect(a.previousStep).toBe(before.step);
    await click('#restore-previous');
    a = await until((a) => a.phase === 'paused' && !a.busy);
    expect(a.step).toBe(before.step);
    expect(a.data!.train).toBe(SUBSET * 0.9);
  });

  it('asks before loading a checkpoint over a run, and the replaced run stays restorable', async () => {
    const before = await app();
    expect(before.step).not.toBe(saved.step);
    await page.setInputFiles('#load-checkpoint', {
      name: checkpoint.name,
      mimeType: 'application/octet-stream',
      buffer: checkpoint.buffer,
    });
    await until((a) => a.asking);
    await click('#confirm-ok');
    let a = await until((a) => a.step === saved.step && !a.busy);
    expect(a.previousStep).toBe(before.step);
    await click('#restore-previous'); // a run exists: it asks, and swaps the two
    await until((a) => a.asking);
    await click('#confirm-ok');
    a = await until((a) => a.step === before.step && !a.busy && a.previousStep === saved.step);
    expect(a.phase).toBe('paused');
  });
});

/** A finished sweep on disk, written by the contract (docs/figures.md): J = 3 and 5, AEVB and wake-sleep, one run pending. */
function writeSweep(): string {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'aevb-sweep-')), 'fig2');
  const runs = [
    ['J3-aevb', 3, 'aevb', 5],
    ['J3-wake-sleep', 3, 'wake-sleep', 4],
    ['J5-aevb', 5, undefined, 6],
    ['J5-wake-sleep', 5, 'wake-sleep', 3],
  ] as const;
  for (const [name, , algorithm, points] of runs) {
    mkdirSync(path.join(dir, name), { recursive: true });
    const lines = Array.from({ length: points }, (_, k) =>
      JSON.stringify({
        epoch: k + 1,
        step: k + 1,
        samplesSeen: 1000 * 3 ** (k + 1),
        trainElbo: -250 + 25 * k + (algorithm === 'wake-sleep' ? -30 : 0),
        testElbo: -252 + 25 * k + (algorithm === 'wake-sleep' ? -30 : 0),
        ...(name === 'J5-aevb' ? { trainElboSe: 0.4, testElboSe: 1.2 } : {}),
      }),
    );
    writeFileSync(path.join(dir, name, 'metrics.jsonl'), `${lines.join('\n')}\n`);
  }
  writeFileSync(path.join(dir, 'J3-aevb', 'checkpoint.aevb'), new Uint8Array(4096)); // never read by the page
  writeFileSync(
    path.join(dir, 'sweep.json'),
    JSON.stringify({
      version: 1,
      runs: [
        ...runs.map(([name, latent, algorithm]) => ({
          name,
          dir: name,
          status: 'done',
          config: { latent, hidden: 16, ...(algorithm ? { algorithm } : {}) },
        })),
        { name: 'J10-aevb', dir: 'J10-aevb', status: 'pending', config: { latent: 10 } },
      ],
    }),
  );
  return dir;
}

/** Drop files on an element as a user's drop does (a DataTransfer of Files), from Node-side texts. */
function dropFiles(selector: string, files: { name: string; text: string }[]): Promise<void> {
  return page.evaluate(
    ({ sel, fs }) => {
      const dt = new DataTransfer();
      for (const f of fs) dt.items.add(new File([f.text], f.name));
      document.querySelector(sel)!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    { sel: selector, fs: files },
  );
}

describe("a finished sweep's Figure 2 in the page", () => {
  it("picks the sweep's directory and shows the CLI's chart (same lines), no long task while Vega works; a bad drop gets its message; loose files work", async () => {
    const dir = writeSweep();
    const t0 = await page.evaluate(() => performance.now());
    await page.setInputFiles('#sweep-dir', dir);
    let a = await until((s) => s.sweepFigure.pending === 0 && (s.sweepFigure.shown !== null || s.sweepFigure.error !== ''));
    expect(a.sweepFigure.error).toBe('');
    expect(a.sweepFigure.open).toBe(true);
    const names = ['J3-aevb', 'J3-wake-sleep', 'J5-aevb', 'J5-wake-sleep'];
    expect([...a.sweepFigure.shown!.series].sort()).toEqual(names.flatMap((n) => [`${n} (test)`, `${n} (train)`]).sort());
    expect(a.sweepFigure.shown!.panels).toEqual([3, 5]);
    expect(a.sweepFigure.shown!.notes).toEqual(['Figure 2: run J10-aevb (pending) has no metrics.jsonl yet; left out.']);
    // The SVG in the page: one line per run and set, labelled by Vega; axis titles and panels.
    const drawn = await page.evaluate(() => ({
      lines: [...document.querySelectorAll('#sweep-chart g.elbo_line_marks path')].map(
        (p) => [p.getAttribute('aria-label'), p.getAttribute('d')] as const,
      ),
      bands: document.querySelectorAll('#sweep-chart g.se_band_marks path').length,
      texts: [...document.querySelectorAll('#sweep-chart text')].map((t) => t.textContent),
      box: document.querySelector('#sweep-chart svg')!.getBoundingClientRect().toJSON() as DOMRect,
      scrollWidth: document.documentElement.scrollWidth,
    }));
    expect(drawn.lines).toHaveLength(8);
    expect(drawn.bands).toBe(2); // J5-aevb's train and test ± SE
    expect(drawn.texts).toEqual(
      expect.arrayContaining(['# training samples evaluated', 'lower bound (nats per datapoint)', 'J = 3', 'J = 5', 'AEVB', 'Wake-Sleep']),
    );
    expect(drawn.box.width).toBeGreaterThan(500);
    expect(drawn.box.right).toBeLessThanOrEqual(VIEWPORT.width);
    expect(drawn.scrollWidth).toBeLessThanOrEqual(VIEWPORT.width);
    // The same chart as npm run figures: the spec rendered in Node draws every line through the same points.
    const sweep = parseSweepJson(readFileSync(path.join(dir, 'sweep.json'), 'utf8'));
    const rows = figure2Rows(
      figure2Runs(
        sweep,
        (r) => {
          const f = path.join(dir, r.dir, 'metrics.jsonl');
          return existsSync(f) ? { text: readFileSync(f, 'utf8'), file: f } : undefined;
        },
        () => undefined,
      ),
    );
    const cli = markPaths(parseSvg(await renderSvg(figure2Spec(rows))), 'elbo_line_marks').map(
      (p) => [`${ariaFields(p).run}/${ariaFields(p).split}`, p.getAttribute('d')] as const,
    );
    const page2 = drawn.lines.map(([label, d]) => {
      const f = Object.fromEntries(label!.split('; ').map((kv) => kv.split(': ')));
      return [`${f.run}/${f.split}`, d] as const;
    });
    expect(new Map(page2)).toEqual(new Map(cli));
    // Vega ran in the worker (hundreds of ms of compiling and layout off the main thread): the page itself
    // never loaded it. (Checked by what was loaded, not by timing tasks, which load would make flaky.)
    a = await app();
    const { asked, answered } = a.sweepFigure.times;
    expect(asked).toBeGreaterThan(t0);
    expect(answered).toBeGreaterThan(asked);
    const mainScripts = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name));
    expect(mainScripts.filter((u) => /vega/i.test(u))).toEqual([]);
    await page.screenshot({ path: path.join(ROOT, 'test-artifacts', 'sweep-figure2.png') });
    await click('#sweep-close');

    // A bad drop: the message names the file and the fix; the figure shown stays.
    await dropFiles('#sweep-drop', [{ name: 'sweep.json', text: '{"version": 1, "runs": [' }]);
    a = await until((s) => s.sweepFigure.pending === 0 && s.sweepFigure.error !== '');
    expect(a.sweepFigure.error).toMatch(/^sweep\.json: is not valid JSON \(.*\)\. Write it again with npm run sweep/);
    expect(a.sweepFigure.shown!.series).toHaveLength(8);
    await dropFiles('#sweep-drop', [{ name: 'notes.txt', text: 'hello' }]);
    a = await until((s) => s.sweepFigure.pending === 0 && /^No sweep\.json/.test(s.sweepFigure.error));
    expect(a.sweepFigure.error).toBe(
      "No sweep.json among the 1 file given (notes.txt). Pick the sweep's directory (the --out of npm run sweep), or drop that folder here.",
    );
    const metrics = (n: string) => ({ name: 'metrics.jsonl', text: readFileSync(path.join(dir, n, 'metrics.jsonl'), 'utf8') });
    await dropFiles('#sweep-drop', [
      { name: 'sweep.json', text: readFileSync(path.join(dir, 'sweep.json'), 'utf8') },
      metrics('J3-aevb'),
      metrics('J5-aevb'),
    ]);
    a = await until((s) => s.sweepFigure.pending === 0 && /came without their folders/.test(s.sweepFigure.error));
    // Loose files that can be matched: sweep.json with one run, and its metrics.jsonl.
    const one = JSON.stringify({ version: 1, runs: [{ name: 'J5-aevb', dir: 'J5-aevb', status: 'done', config: { latent: 5 } }] });
    await dropFiles('#sweep-drop', [{ name: 'sweep.json', text: one }, metrics('J5-aevb')]);
    a = await until((s) => s.sweepFigure.pending === 0 && s.sweepFigure.shown?.series.length === 2);
    expect(a.sweepFigure.error).toBe('');
    expect(a.sweepFigure.open).toBe(true);
    expect(await page.locator('#sweep-chart g.elbo_line_marks path').count()).toBe(2);
    await click('#sweep-close');
    rmSync(path.dirname(dir), { recursive: true, force: true });
  });
});

describe('settings in the address (shareable links)', () => {
  it('restores valid settings from the link, reports and skips bad ones, and writes changes back (round trip)', async () => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    try {
      const p = await context.newPage();
      await p.goto(
        `${baseUrl}/?subset=${SUBSET}#latent=3&hidden=32&lr=0.05&optimizer=adam&binarize=true&algorithm=wake-sleep&batch=abc&bogus=1`,
      );
      const a = await until((s) => s.ready, p);
      expect(await p.inputValue('#setting-latent')).toBe('3');
      expect(await p.inputValue('#setting-hidden')).toBe('32');
      expect(await p.inputValue('#setting-lr')).toBe('0.05');
      expect(await p.inputValue('#setting-optimizer')).toBe('adam');
      expect(await p.isChecked('#setting-binarize')).toBe(true);
      expect(await p.inputValue('#setting-algorithm')).toBe('wake-sleep');
      expect(await p.inputValue('#setting-batch')).toBe('100'); // "abc" was not applied…
      const said = await p.textContent('#link-error');
      expect(said).toContain('Minibatch M is "abc"; it must be a number.'); // …and it says so
      expect(said).toMatch(/"bogus" is not a setting/);
      expect(a.errors.settings).toEqual({}); // the form itself is valid
      await p.fill('#setting-hidden', '48');
      expect(new URLSearchParams((await p.evaluate(() => location.hash)).slice(1)).get('hidden')).toBe('48');
      expect(await p.textContent('#link-error')).toBe(''); // the message was about the link, now replaced
      const link = await p.evaluate(() => location.href);
      const q = await context.newPage();
      await q.goto(link);
      await until((s) => s.ready, q);
      for (const [sel, v] of [
        ['#setting-hidden', '48'],
        ['#setting-latent', '3'],
        ['#setting-lr', '0.05'],
        ['#setting-optimizer', 'adam'],
        ['#setting-algorithm', 'wake-sleep'],
      ]) {
        expect(await q.inputValue(sel), sel).toBe(v);
      }
      expect(await q.textContent('#link-error')).toBe('');
      // The Algorithm choice reaches the trainer: a run started here trains by wake-sleep.
      await q.locator('#start').click();
      const run = await until((s) => s.config !== null && s.step > 0, q);
      expect(run.config!.algorithm).toBe('wake-sleep');
    } finally {
      await context.close();
    }
  });

  it('a deeper model and the kernels from the link: hidden=24,16&activation=relu,tanh&kernels=tfjs trains that model', async () => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    try {
      const p = await context.newPage();
      await p.goto(`${baseUrl}/?subset=${SUBSET}#hidden=24,16&activation=relu,tanh&kernels=tfjs&latent=3`);
      await until((s) => s.ready, p);
      expect(await p.inputValue('#setting-hidden')).toBe('24,16');
      expect(await p.inputValue('#setting-activation')).toBe('relu,tanh');
      expect(await p.inputValue('#setting-kernels')).toBe('tfjs');
      expect(await p.textContent('#link-error')).toBe('');
      // The address keeps the lists readable (commas, not %2C).
      await p.fill('#setting-latent', '4');
      expect(await p.evaluate(() => location.hash)).toMatch(/hidden=24,16&activation=relu,tanh&.*kernels=tfjs/);
      // As many activations as layers, or one: the validator's message sits next to the control.
      await p.fill('#setting-activation', 'relu,tanh,relu');
      expect(await p.textContent('#setting-activation-error')).toMatch(/3 activations for 2 hidden layers/);
      await p.fill('#setting-activation', 'relu,tanh');
      await p.locator('#start').click();
      const run = await until((s) => s.config !== null && s.step > 0, p);
      expect(run.config).toMatchObject({ hidden: [24, 16], activation: ['relu', 'tanh'], latent: 4 });
      expect(await p.locator('#setting-hidden').isDisabled()).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('earlyStop=1 from the link: a run whose test ELBO stops getting better ends early and says so', async () => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    try {
      const p = await context.newPage();
      // lr 1e-9: the model stays where it started, so the test ELBO moves only by the evaluation's draws.
      await p.goto(`${baseUrl}/?subset=${SUBSET}#hidden=16&batch=100&workers=1&epochs=60&lr=0.000000001&earlyStop=1`);
      await until((s) => s.ready, p);
      expect(await p.inputValue('#setting-earlyStop')).toBe('1');
      await p.locator('#start').click();
      const a = await until((s) => s.phase === 'done' && !s.busy, p);
      expect(a.config!.earlyStop).toBe(1);
      expect(a.epochs.length).toBeLessThan(60);
      expect(a.epochs.at(-1)!.earlyStop).toMatchObject({ stop: true, sinceBest: 1, evaluation: a.epochs.length });
      expect(a.status).toMatch(
        new RegExp(`^Stopped early at evaluation ${a.epochs.length}: no better test ELBO in 1 evaluation\\. The best was evaluation \\d+`),
      );
    } finally {
      await context.close();
    }
  });
});

/**
 * A plain static server for a build folder at two sub-paths: /isolated/ sends every header of
 * HOSTING_HEADERS (COOP + COEP and the CSP without inline styles, as README's hosting notes ask),
 * /plain/ sends no special header. Records every path asked for.
 */
function serveBuild(dir: string): Promise<{ origin: string; close: () => void; paths: string[] }> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };
  const paths: string[] = [];
  const srv = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    paths.push(url.pathname);
    const m = /^\/(isolated|plain)\/(.*)$/.exec(url.pathname);
    const file = m && path.resolve(dir, m[2] || 'index.html');
    if (!m || !file!.startsWith(dir)) {
      res.writeHead(404).end();
      return;
    }
    readFile(file!).then(
      (body) => {
        res.writeHead(200, {
          'Content-Type': types[path.extname(file!)] ?? 'application/octet-stream',
          ...(m[1] === 'isolated' ? HOSTING_HEADERS : {}),
        });
        res.end(body);
      },
      () => res.writeHead(404).end(),
    );
  });
  return new Promise((resolve) =>
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      resolve({ origin: `http://127.0.0.1:${port}`, close: () => srv.close(), paths });
    }),
  );
}

describe('the static build (vite build) served from a sub-path by another server', () => {
  let dir: string, host: Awaited<ReturnType<typeof serveBuild>>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'aevb-app-'));
    await build({
      root: ROOT,
      configFile: path.join(ROOT, 'vite.config.ts'),
      logLevel: 'error',
      build: { outDir: dir, emptyOutDir: true },
    });
    host = await serveBuild(dir);
  }, 180_000);

  afterAll(() => {
    host?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Open the build at /<mode>/, train one epoch with 2 workers; returns the app's state and what went wrong. */
  async function trainOnce(mode: 'isolated' | 'plain') {
    const context = await browser.newContext({ viewport: VIEWPORT });
    const p = await context.newPage();
    const problems: string[] = [];
    p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    p.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    p.on('request', (r) => {
      if (!/^(blob:|data:)/.test(r.url()) && !r.url().startsWith(`${host.origin}/${mode}/`))
        problems.push(`request outside the app: ${r.url()}`);
    });
    try {
      await p.goto(`${host.origin}/${mode}/?subset=${SUBSET}`);
      await until((a) => a.ready, p);
      await p.fill('#setting-hidden', '64');
      await p.fill('#setting-workers', '2');
      await p.fill('#setting-epochs', '1');
      await p.locator('#start').click();
      const a = await until((s) => s.phase === 'done', p);
      return { a, problems, banner: await p.locator('#isolation-banner').isVisible() };
    } finally {
      await context.close();
    }
  }

  it("draws a sweep's Figure 2 in the build under the CSP header: Vega in its worker needs no eval and no inline style", async () => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    const p = await context.newPage();
    const problems: string[] = [];
    p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    p.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    const sweep = writeSweep();
    try {
      await p.goto(`${host.origin}/isolated/?subset=${SUBSET}`);
      await until((a) => a.ready, p);
      await p.setInputFiles('#sweep-dir', sweep);
      const a = await until((s) => s.sweepFigure.pending === 0 && (s.sweepFigure.shown !== null || s.sweepFigure.error !== ''), p);
      expect(a.sweepFigure.error).toBe('');
      expect(await p.locator('#sweep-chart g.elbo_line_marks path').count()).toBe(8);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      rmSync(path.dirname(sweep), { recursive: true, force: true });
    }
  });

  let sharedElbo: number;

  // `problems` holds console errors: a CSP violation (an inline style, say) is one, so this also shows the
  // chart and the pictures need no 'unsafe-inline'.
  it('trains over shared memory where the host sends COOP/COEP and the CSP header, asking nothing of any other origin', async () => {
    const { a, problems, banner } = await trainOnce('isolated');
    sharedElbo = a.epochs[0].testElbo;
    expect(problems).toEqual([]);
    expect(a).toMatchObject({ isolated: true, transport: 'shared', phase: 'done' });
    expect(a.epochs).toHaveLength(1);
    expect(banner).toBe(false);
    expect(host.paths).toContain('/isolated/mnist-digits.bin');
    expect(host.paths.some((p) => p.endsWith('.wasm'))).toBe(true); // served by the build itself
  });

  it('says in plain words when the page is not cross-origin isolated, and still trains (message path)', async () => {
    const { a, problems, banner } = await trainOnce('plain');
    expect(problems).toEqual([]);
    expect(a).toMatchObject({ isolated: false, transport: 'message', phase: 'done' });
    expect(banner).toBe(true);
    expect(a.epochs).toHaveLength(1);
    expect(a.epochs[0].testElbo).toBeCloseTo(sharedElbo, 4); // the same model either way
  });
});
