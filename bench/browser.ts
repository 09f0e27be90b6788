/**
 * The pool in Chromium against the pool in Node, side by side in one run (`npm run bench -- --browser`):
 * the same configuration, the same data and the same number of workers, rounds interleaved, medians.
 * The page is the test harness (test/browser/harness.html) served by vite with COOP/COEP.
 */
import os from 'node:os';
import fs from 'node:fs';
import { startServer, launchChromium, toBase64 } from '../test/helpers/browser.ts';
import { loadEmbeddedMnist } from '../src/main/node/data_files.ts';
import { Trainer } from '../src/main/trainer.ts';
import { nodeSpawner } from '../src/main/pool/spawn_node.ts';
import type { TrainConfig } from '../src/shared/training/config.ts';

const config: Partial<TrainConfig> = { hidden: 500, latent: 20, batch: 100 };
const rounds = Number(process.env.AEVB_BENCH_ROUNDS ?? 5),
  warmup = 10,
  steps = 40;
const full = loadEmbeddedMnist();
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

const { server, url } = await startServer();
const browser = await launchChromium();
const page = await browser.newPage();
await page.goto(`${url}/test/browser/harness.html`);
await page.waitForFunction(() => 'aevbHarness' in globalThis, null, { timeout: 60_000 });
await page.evaluate(([a, b, c, d]) => (globalThis as any).aevbHarness.setData(a, b, c, d, 784), [
  toBase64(full.train.x),
  full.train.n,
  toBase64(full.test.x),
  full.test.n,
] as const);

const rows: Array<{ workers: number; node: number; page: number }> = [];
try {
  for (const workers of [1, 2]) {
    const nodeRates: number[] = [],
      pageRates: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t = await Trainer.create({ data: full, config, workers }, nodeSpawner(), workers);
      await t.runSteps(warmup);
      const t0 = performance.now();
      await t.runSteps(steps);
      nodeRates.push((steps * 100 * 1000) / (performance.now() - t0));
      await t.dispose();
      const p = await page.evaluate(([w, wu, st, c]) => (globalThis as any).aevbHarness.bench(w, wu, st, c), [
        workers,
        warmup,
        steps,
        config,
      ] as const);
      pageRates.push(p.samplesPerSecond);
    }
    rows.push({ workers, node: median(nodeRates), page: median(pageRates) });
  }
} finally {
  await browser.close();
  await server.close();
}
console.log(
  `\nPool in Chromium vs Node, H=500 J=20 M=100 (paper setting), ${rounds} interleaved rounds × ${steps} steps, medians — ${os.cpus()[0]?.model}, ${os.availableParallelism()} cores`,
);
console.log('| workers | Node samples/s | Chromium samples/s | page / Node |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(`| ${r.workers} | ${Math.round(r.node)} | ${Math.round(r.page)} | ${(r.page / r.node).toFixed(2)} |`);
if (process.env.AEVB_BENCH_JSON) fs.writeFileSync(process.env.AEVB_BENCH_JSON, JSON.stringify({ rows }, null, 2));
