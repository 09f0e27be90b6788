/**
 * The pool in a real page (real Chromium, see test/helpers/chromium.ts): cross-origin isolated, SIMD WASM in every worker,
 * N Web Workers train the same model as one worker in Node, and the message path (no shared
 * memory) gives the same parameters.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { startServer, launchChromium, toBase64 } from '../helpers/browser.ts';
import { loadEmbeddedMnist } from '../../src/main/node/data_files.ts';
import { LocalTrainer } from '../../src/main/local_trainer.ts';
import { resolveConfig, type TrainConfig } from '../../src/shared/training/config.ts';
import { useBackend, relErr } from '../helpers/backend.ts';
import { kernelFixture, KERNEL_CASES } from '../helpers/kernel_fixture.ts';
import { SgvbGradient } from '../../src/shared/model/gradients.ts';

let server: ViteDevServer, browser: Browser, page: Page;
const config: Partial<TrainConfig> = { hidden: 40, latent: 5, batch: 30, optimizer: 'adam', lr: 1e-3, init: 'pytorch' };
const nTrain = 600,
  nTest = 100;
let reference: Float32Array;

beforeAll(async () => {
  const full = loadEmbeddedMnist();
  const train = full.train.x.slice(0, nTrain * 784),
    test = full.test.x.slice(0, nTest * 784);
  await useBackend('wasm');
  const lt = new LocalTrainer(resolveConfig({ ...config, inputSize: 784 }), {
    train: { ...full.train, n: nTrain, x: train },
    test: { ...full.test, n: nTest, x: test },
  });
  for (let i = 0; i < 20; i++) lt.step();
  reference = lt.state.params;
  lt.dispose();

  ({ server } = await startServer()
    .then((s) => {
      server = s.server;
      return s;
    })
    .then(async (s) => {
      browser = await launchChromium();
      page = await browser.newPage();
      page.on('pageerror', (e) => console.error('page error:', e.message));
      await page.goto(`${s.url}/test/browser/harness.html`);
      await page.waitForFunction(() => 'aevbHarness' in globalThis, null, { timeout: 60_000 });
      return s;
    }));
  await page.evaluate(([a, b, c, d]) => (globalThis as any).aevbHarness.setData(a, b, c, d, 784), [
    toBase64(train),
    nTrain,
    toBase64(test),
    nTest,
  ] as const);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the pool in Chromium', () => {
  it('the page is cross-origin isolated', async () => {
    expect(await page.evaluate(() => (globalThis as any).aevbHarness.isolated())).toBe(true);
  });

  it('N = 1, 2, 3, 4 Web Workers end within 1e-5 of the one-worker Node run after 20 steps, with SIMD WASM and the update kernels in every worker', async () => {
    for (const n of [1, 2, 3, 4]) {
      const r = await page.evaluate(([n, c]) => (globalThis as any).aevbHarness.train(n, 20, c), [n, config] as const);
      expect(r.transport).toBe('shared');
      expect(r.infos).toHaveLength(n);
      // …and every worker runs its slice's update in the WASM SIMD kernels on the shared memory.
      // The step's gradient on aevb's kernels, relaxed-SIMD build (Chromium has had relaxed SIMD since 114).
      for (const info of r.infos)
        expect(info).toMatchObject({ backend: 'wasm', simd: true, threads: false, update: 'shared', kernels: 'aevb-relaxed' });
      expect(r.step).toBe(20);
      expect(relErr(Float32Array.from(r.params), reference), `N = ${n}`).toBeLessThanOrEqual(1e-5);
    }
  });

  it("workers 'auto' in a page: one Web Worker per core, each count measured, the fastest then trains", async () => {
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    // 300 steps, then more until the probe (a warm-up and two measured requests of ~100 ms per count) ends.
    const r = await page.evaluate((c) => (globalThis as any).aevbHarness.train('auto', 300, c), config);
    expect(r.infos).toHaveLength(Math.min(cores, config.batch!));
    expect(r.used.length).toBeGreaterThanOrEqual(Math.min(2, r.infos.length)); // every count was tried…
    expect(Object.keys(r.choice.measured).map(Number)).toEqual(r.used);
    expect(r.used).toContain(r.choice.workers); // …and one of them chosen
    for (const info of r.infos) expect(info.update).toBe('shared');
  });

  it("kernels 'tfjs' in a page: the workers say so and train the model aevb's kernels train (to float rounding)", async () => {
    const r = await page.evaluate((c) => (globalThis as any).aevbHarness.train(2, 20, c, 'auto', 'tfjs'), config);
    for (const info of r.infos) expect(info.kernels).toBe('tfjs');
    expect(relErr(Float32Array.from(r.params), reference)).toBeLessThanOrEqual(1e-4);
  });

  it("aevb's kernel gradient in the page, both builds, equals the tfjs gradient in Node to 1e-5 (every decoder, estimator, activation)", async () => {
    for (const c of KERNEL_CASES) {
      const r = await page.evaluate((o) => (globalThis as any).aevbHarness.kernelGradients(o), c);
      expect(r.detected).toBe('relaxed');
      expect(Object.keys(r.builds).sort()).toEqual(['relaxed', 'simd128']);
      const { cfg, layout, params, shard } = kernelFixture(c);
      const ref = new Float32Array(layout.size);
      const tfjs = new SgvbGradient(cfg, layout);
      const v = tfjs.compute(params, shard, ref, true);
      tfjs.dispose();
      for (const build of ['relaxed', 'simd128']) {
        const g = Float32Array.from(r.builds[build].grad);
        for (const s of layout.specs) {
          expect(
            relErr(g.subarray(s.offset, s.offset + s.size), ref.subarray(s.offset, s.offset + s.size)),
            `${build} ${s.name} ${JSON.stringify(c)}`,
          ).toBeLessThanOrEqual(1e-5);
        }
        expect(Math.abs(r.builds[build].elbo - v.elbo) / Math.abs(v.elbo)).toBeLessThan(1e-5);
      }
    }
  });

  it('without shared memory (message path) the page trains to the same parameters', async () => {
    const r = await page.evaluate((c) => (globalThis as any).aevbHarness.train(2, 20, c, 'message'), config);
    expect(r.transport).toBe('message');
    for (const info of r.infos) expect(info.update).toBe('coordinator');
    expect(relErr(Float32Array.from(r.params), reference)).toBeLessThanOrEqual(1e-5);
  });

  it("a Web Worker's AevbError arrives in the page as an AevbError with its code, field, neutral fix and remedy", async () => {
    const r = await page.evaluate(() => (globalThis as any).aevbHarness.workerConfigError(-1));
    expect(r).toEqual({
      isAevbError: true,
      name: 'AevbError',
      code: 'CONFIG',
      field: 'lr',
      problem: 'is -1; it must be a finite number > 0 and ≤ 10',
      fix: 'Use a value in that range.',
      remedy: { id: 'range' },
      message: 'Config field "lr" is -1; it must be a finite number > 0 and ≤ 10. Use a value in that range.',
    });
  });
});
