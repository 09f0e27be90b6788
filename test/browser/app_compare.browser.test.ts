/**
 * Runs compared, in real Chromium with real runs: a log p(x) estimate is a point on the chart and a
 * row of the CSV and JSONL (the CSV has every JSONL field, `point` included); after Reset the
 * previous run is drawn beside the next one, labelled by the setting that differs, and can be
 * hidden; a run's metrics.jsonl loads beside them; a checkpoint saved and loaded keeps its curve.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, launchChromium, ROOT } from '../helpers/browser.ts';
import { app, trainSmallRun, until } from '../helpers/app_page.ts';

let server: ViteDevServer, browser: Browser, page: Page, dir: string;
const SUBSET = 2000;
const RUN_A = { hidden: '20', batch: '100', workers: '2', epochs: '3' };

beforeAll(async () => {
  const s = await startServer();
  server = s.server;
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1366, height: 768 }, acceptDownloads: true })).newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${s.url}/?subset=${SUBSET}`);
  await until(page, (a) => a.ready);
  dir = mkdtempSync(path.join(os.tmpdir(), 'aevb-compare-'));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function download(sel: string): Promise<{ name: string; file: string }> {
  const [d] = await Promise.all([page.waitForEvent('download'), page.locator(sel).click()]);
  const file = path.join(dir, d.suggestedFilename());
  await d.saveAs(file);
  return { name: d.suggestedFilename(), file };
}

/** CSV text → header and rows as objects (no quoted cells in these files). */
function parseCsv(text: string): { header: string[]; rows: Record<string, string>[] } {
  const [head, ...lines] = text.trimEnd().split('\n');
  const header = head.split(',');
  return { header, rows: lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v]))) };
}

let jsonlFile = '',
  checkpointFile = '',
  runARows = 0;

describe('a log p(x) estimate in the metrics', () => {
  it('is a point on the chart and a row (point "estimate") of the JSONL and the CSV, which has every JSONL field', async () => {
    await trainSmallRun(page, RUN_A);
    await page.fill('#loglik-k', '5');
    await page.locator('#loglik').click();
    const a = await until(page, (s) => !s.estimating.running && s.chartLoglikPoints === 1 && !s.busy);
    expect(a.metricsRows).toBe(4); // 3 epochs and the estimate
    runARows = a.metricsRows;

    const jsonl = await download('#metrics-jsonl');
    jsonlFile = jsonl.file;
    const objs = readFileSync(jsonl.file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs.map((o) => o.point)).toEqual(['epoch', 'epoch', 'epoch', 'estimate']);
    const est = objs[3];
    expect(est).toMatchObject({ step: 54, samplesSeen: 5400, logLikelihoodK: 5, point: 'estimate' });
    expect(est.logLikelihood).toBe(a.evaluation!.logLikelihood);

    const csv = parseCsv(readFileSync((await download('#metrics-csv')).file, 'utf8'));
    for (const o of objs) for (const k of Object.keys(o)) expect(csv.header, k).toContain(k);
    expect(csv.header.slice(0, 4)).toEqual(['epoch', 'step', 'point', 'samplesSeen']);
    expect(csv.rows.map((r) => r.point)).toEqual(['epoch', 'epoch', 'epoch', 'estimate']);
    expect(Number(csv.rows[3].logLikelihood)).toBe(est.logLikelihood);
  });
});

describe('a checkpoint carries its curve', () => {
  it('saved, then loaded over another run, it brings its metrics and chart history', async () => {
    checkpointFile = (await download('#save-checkpoint')).file;
    const before = await app(page);
    // Load it back (over the run it came from: the page asks first).
    await page.locator('#load-checkpoint').setInputFiles(checkpointFile);
    await until(page, (s) => s.asking);
    await page.locator('#confirm-ok').click();
    const a = await until(page, (s) => !s.busy && !s.asking && s.status.startsWith('Loaded'));
    expect(a.step).toBe(before.step);
    expect(a.metricsRows).toBe(runARows);
    expect(a.historyLength).toBeGreaterThanOrEqual(before.historyLength - 1);
    expect(a.chartLoglikPoints).toBe(1);
    await until(page, (s) => s.chartData.points >= a.historyLength);
  });
});

describe('runs side by side', () => {
  it('after Reset, the previous run is drawn beside the next one, labelled by what differs, and can be hidden', async () => {
    await page.locator('#reset').click();
    await until(page, (s) => s.asking);
    await page.locator('#confirm-ok').click();
    let a = await until(page, (s) => s.phase === 'none' && !s.busy && s.chartCompared.length === 1);
    expect(a.chartCompared[0].label).toMatch(/^previous run, step 54 \(same settings\)$/);
    expect(a.chartCompared[0].points).toBeGreaterThanOrEqual(3);

    a = await trainSmallRun(page, { ...RUN_A, hidden: '30' });
    expect(a.chartCompared).toHaveLength(1);
    expect(a.chartCompared[0]).toMatchObject({ label: 'previous run, step 54 (hidden 20)', shown: true });
    const box = page.locator('#chart-runs input[type="checkbox"]');
    expect(await box.count()).toBe(1);
    expect(await page.locator('#chart-runs label').textContent()).toContain('previous run, step 54 (hidden 20)');
    await box.uncheck();
    await until(page, (s) => s.chartCompared[0].shown === false);
    await box.check();
    await until(page, (s) => s.chartCompared[0].shown === true);
  });

  it("a run's metrics.jsonl loads beside them (two runs and a file on one chart), and a bad one is refused in one line", async () => {
    const named = path.join(dir, 'run-a', 'metrics.jsonl');
    await import('node:fs').then((fs) => fs.mkdirSync(path.dirname(named), { recursive: true }));
    writeFileSync(named, readFileSync(jsonlFile));
    await page.locator('#compare-files').setInputFiles(named);
    const a = await until(page, (s) => s.chartCompared.length === 2 && !s.busy);
    expect(a.chartCompared[1]).toMatchObject({ label: 'metrics.jsonl (settings unknown)', shown: true, points: 3 });
    expect(a.chartCompared[0]).toMatchObject({ label: 'previous run, step 54 (hidden 20)', shown: true });

    const bad = path.join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"samplesSeen": 100, "testElbo": -200}\nnot json\n');
    await page.locator('#compare-files').setInputFiles(bad);
    const b = await until(page, (s) => s.errors.keep !== '' && !s.busy);
    expect(b.errors.keep).toMatch(/^bad\.jsonl line 2 is not JSON/);
    expect(b.chartCompared).toHaveLength(2); // nothing else changed

    // The checkpoint saved above, compared (not loaded): its own curve from its metrics, labelled by its settings.
    await page.locator('#compare-files').setInputFiles(checkpointFile);
    const c = await until(page, (s) => s.chartCompared.length === 3 && !s.busy);
    expect(c.chartCompared[2]).toMatchObject({ label: `${path.basename(checkpointFile)} (hidden 20)`, points: 3 });

    // The README's picture of two runs compared (refreshed on request only, as the other screenshots).
    await page.locator('#chart-runs input[type="checkbox"]').nth(2).uncheck(); // the same run twice says nothing
    await page.locator('#chart-runs input[type="checkbox"]').nth(1).uncheck();
    const shots = process.env.AEVB_UPDATE_SCREENSHOTS
      ? path.join(ROOT, 'docs', 'screenshots')
      : path.join(ROOT, 'test-artifacts', 'screenshots');
    mkdirSync(shots, { recursive: true });
    await page.locator('.chart-figure').screenshot({ path: path.join(shots, 'app-compare.png') });
  });

  it("a sweep's directory puts each of its runs beside them, named by sweep.json and labelled by their settings", async () => {
    const sweep = path.join(dir, 'sweep-out');
    const runs = [
      ['J3-aevb', 3, 'aevb'],
      ['J3-wake-sleep', 3, 'wake-sleep'],
    ] as const;
    for (const [name, , algorithm] of runs) {
      mkdirSync(path.join(sweep, name), { recursive: true });
      writeFileSync(
        path.join(sweep, name, 'metrics.jsonl'),
        `${[1, 2, 3]
          .map((k) =>
            JSON.stringify({
              epoch: k,
              step: 18 * k,
              samplesSeen: 1800 * k,
              testElbo: -220 + 10 * k + (algorithm === 'wake-sleep' ? -15 : 0),
            }),
          )
          .join('\n')}\n`,
      );
    }
    writeFileSync(
      path.join(sweep, 'sweep.json'),
      JSON.stringify({
        version: 1,
        runs: runs.map(([name, latent, algorithm]) => ({ name, dir: name, status: 'done', config: { latent, hidden: 30, algorithm } })),
      }),
    );
    const before = (await app(page)).chartCompared.length;
    await page.locator('#compare-sweep').setInputFiles(sweep);
    const a = await until(page, (s) => s.chartCompared.length === before + 2 && !s.busy);
    expect(a.chartCompared.slice(before).map((r) => [r.label, r.points])).toEqual([
      ['J3-aevb (latent 3)', 3],
      ['J3-wake-sleep (latent 3, algorithm wake-sleep)', 3],
    ]);
  });
});
