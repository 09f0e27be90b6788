/**
 * Pool benchmark: samples/s of the worker pool for N = 1, 2, … workers at M ∈ {100, 200}, measured
 * side by side (pools alive together, rounds interleaved, medians), with each step broken into
 * its phases per worker, a cost model fitted to those parts, and process memory for N = 1 and 4.
 *
 *   npx tsx bench/pool.ts [--workers 1,2] [--batches 100,200] [--rounds 5] [--steps 40] [--json FILE]
 */
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { WorkerPool } from '../src/main/pool/pool.ts';
import { nodeSpawner } from '../src/main/pool/spawn_node.ts';
import { initialState } from '../src/shared/training_state.ts';
import { loadEmbeddedMnist } from '../src/main/node/data_files.ts';
import { resolveConfig } from '../src/shared/config.ts';
import { buildLayout } from '../src/shared/layout.ts';
import type { PhaseTimes } from '../src/shared/protocol.ts';

const { values } = parseArgs({ options: {
  workers: { type: 'string' }, batches: { type: 'string' }, rounds: { type: 'string' }, steps: { type: 'string' },
  hidden: { type: 'string' }, json: { type: 'string' }, 'no-memory': { type: 'boolean' },
} });
const workerList = (values.workers ?? `1,${Math.min(2, os.availableParallelism())}`).split(',').map(Number);
const batches = (values.batches ?? '100,200').split(',').map(Number);
const rounds = Number(values.rounds ?? 5), steps = Number(values.steps ?? 40), H = Number(values.hidden ?? 500);
const data = loadEmbeddedMnist();
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const PHASES: (keyof PhaseTimes)[] = ['shard', 'upload', 'gradient', 'readout', 'wait1', 'update', 'wait2'];

interface Row { workers: number; batch: number; samplesPerSecond: number; stepMs: number; phases: PhaseTimes[]; }
const rows: Row[] = [];
/** The hardware's own scaling: N independent one-worker pools, each on full minibatches, run at once. */
const independent: Array<{ copies: number; batch: number; samplesPerSecond: number }> = [];

for (const M of batches) {
  const cfg = resolveConfig({ hidden: H, latent: 20, batch: M, inputSize: 784 });
  const pools = await Promise.all(workerList.map((n) => WorkerPool.create({ config: cfg, data, workers: n, spawn: nodeSpawner(), state: initialState(cfg), valueEvery: 1_000_000 })));
  const samples: number[][] = workerList.map(() => []);
  const phases: PhaseTimes[][][] = workerList.map(() => []);
  const next = workerList.map(() => 0);
  for (const [i, p] of pools.entries()) { await p.runSteps(0, 10); next[i] = 10; } // warm-up
  const maxN = Math.max(...workerList);
  const copies = maxN > 1 ? await Promise.all(Array.from({ length: maxN }, () =>
    WorkerPool.create({ config: cfg, data, workers: 1, spawn: nodeSpawner(), state: initialState(cfg), valueEvery: 1_000_000 }))) : [];
  await Promise.all(copies.map((c) => c.runSteps(0, 10)));
  const copyRates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (copies.length) {
      const t0 = performance.now();
      await Promise.all(copies.map((c) => c.runSteps(10 + r * steps, steps)));
      copyRates.push((copies.length * steps * M * 1000) / (performance.now() - t0));
    }
    for (const [i, p] of pools.entries()) {
      const t0 = performance.now();
      const rep = await p.runSteps(next[i], steps);
      const ms = performance.now() - t0;
      next[i] += steps;
      samples[i].push((steps * M * 1000) / ms);
      phases[i].push(rep.times.map((t) => Object.fromEntries(PHASES.map((k) => [k, t[k] / steps])) as unknown as PhaseTimes));
    }
  }
  for (const [i, n] of workerList.entries()) {
    const sps = median(samples[i]);
    // Median per phase per worker over the rounds.
    const ph = Array.from({ length: n }, (_, w) => Object.fromEntries(PHASES.map((k) => [k, median(phases[i].map((r) => r[w][k]))])) as unknown as PhaseTimes);
    rows.push({ workers: n, batch: M, samplesPerSecond: sps, stepMs: (M * 1000) / sps, phases: ph });
  }
  if (copies.length) independent.push({ copies: copies.length, batch: M, samplesPerSecond: median(copyRates) });
  await Promise.all([...pools, ...copies].map((p) => p.dispose()));
}

/**
 * Cost model from the measured parts (per worker, per step, ms):
 *   t(N, M) = g0 + g1·⌈M/N⌉                 shard + gradient of a shard of ⌈M/N⌉ datapoints
 *           + u·P/N                          optimizer on this worker's slice
 *           + r·P·[N > 1]                    the reduce reads all N slots of a P/N slice: P values
 *           + b·⌈log2 N⌉                     barrier latency, assumed to grow like a tree's depth
 * g0, g1: least squares over every (shard size, shard+gradient time) measured; u from N = 1
 * (no reduce there); r from the update time at N = 2; b from the smallest wait (the slowest
 * worker waits for nobody but still crosses two barriers).
 */
function fitModel(P: number) {
  const pts: Array<[number, number]> = [];
  for (const r of rows) for (const ph of r.phases) pts.push([Math.ceil(r.batch / r.workers), ph.shard + ph.upload + ph.gradient + ph.readout]);
  const mx = pts.reduce((a, p) => a + p[0], 0) / pts.length, my = pts.reduce((a, p) => a + p[1], 0) / pts.length;
  const g1 = pts.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0) / Math.max(1e-9, pts.reduce((a, p) => a + (p[0] - mx) ** 2, 0));
  const g0 = my - g1 * mx;
  const avg = (r: Row, k: keyof PhaseTimes) => r.phases.reduce((a, p) => a + p[k], 0) / r.phases.length;
  const one = rows.filter((r) => r.workers === 1), two = rows.filter((r) => r.workers === 2);
  const u = one.length ? one.reduce((a, r) => a + avg(r, 'update'), 0) / one.length / P : 0;
  const r = two.length ? Math.max(0, two.reduce((a, x) => a + avg(x, 'update'), 0) / two.length - (u * P) / 2) / P : 0;
  const b = two.length ? Math.min(...two.map((x) => Math.min(...x.phases.map((p) => p.wait1 + p.wait2)))) : 0;
  const predict = (N: number, M: number) => g0 + g1 * Math.ceil(M / N) + (u * P) / N + (N > 1 ? r * P : 0) + b * Math.ceil(Math.log2(N));
  return { g0, g1, u, r, b, predict };
}
const P = buildLayout(resolveConfig({ hidden: H, latent: 20, inputSize: 784 })).size;
const model = fitModel(P);
const predictions = [1, 2, 4, 8, 16].flatMap((N) => [100, 400].map((M) => ({ N, M, stepMs: model.predict(N, M), samplesPerSecond: (M * 1000) / model.predict(N, M),
  speedup: model.predict(1, M) / model.predict(N, M) })));

// Memory: the dataset lives once in shared memory, whatever N is.
async function memoryFor(n: number) {
  const cfg = resolveConfig({ hidden: H, latent: 20, batch: 100, inputSize: 784 });
  const before = process.memoryUsage();
  const p = await WorkerPool.create({ config: cfg, data, workers: n, spawn: nodeSpawner(), state: initialState(cfg) });
  await p.runSteps(0, 20);
  const after = process.memoryUsage();
  const wasm = await p.memory();
  await p.dispose();
  return { workers: n, rssMB: after.rss / 2 ** 20, rssGrowthMB: (after.rss - before.rss) / 2 ** 20, arrayBuffersMB: after.arrayBuffers / 2 ** 20,
    tfjsBytesPerWorker: wasm.map((m) => m.numBytes) };
}
const memory = values['no-memory'] ? [] : [await memoryFor(1), await memoryFor(4)];

// Report
const fmt = (x: number, d = 1) => x.toFixed(d);
const machine = { cpu: os.cpus()[0]?.model, cores: os.availableParallelism(), node: process.version, platform: `${os.platform()} ${os.arch()}` };
console.log(`\nPool throughput, H=${H} J=20 tanh Adagrad (paper setting), ${rounds} rounds × ${steps} steps, medians — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`);
console.log('| M | workers | samples/s | speed-up vs 1 | ms/step | per-worker ms/step: shard · upload · gradient · readout · wait1 · reduce · optimizer · wait2 |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  const one = rows.find((x) => x.batch === r.batch && x.workers === 1);
  const ph = r.phases.map((p) => PHASES.map((k) => fmt(p[k], 2)).join(' · ')).join(' / ');
  console.log(`| ${r.batch} | ${r.workers} | ${Math.round(r.samplesPerSecond)} | ${one ? fmt(r.samplesPerSecond / one.samplesPerSecond, 2) + '×' : ''} | ${fmt(r.stepMs, 2)} | ${ph} |`);
}
for (const c of independent) {
  const one = rows.find((x) => x.batch === c.batch && x.workers === 1)!;
  const pool = rows.find((x) => x.batch === c.batch && x.workers === c.copies);
  console.log(`M=${c.batch}: ${c.copies} independent one-worker copies at once: ${Math.round(c.samplesPerSecond)} samples/s in all = ` +
    `${fmt(c.samplesPerSecond / one.samplesPerSecond, 2)}× one copy (the machine's own scaling); the ${c.copies}-worker pool reaches ` +
    `${pool ? fmt(pool.samplesPerSecond / one.samplesPerSecond, 2) : '?'}×`);
}
if (memory.length) {
  console.log('\n| workers | process RSS (MB) | RSS growth (MB) | ArrayBuffers incl. shared (MB) | tfjs bytes per worker |');
  console.log('|---|---|---|---|---|');
  for (const m of memory) console.log(`| ${m.workers} | ${fmt(m.rssMB)} | ${fmt(m.rssGrowthMB)} | ${fmt(m.arrayBuffersMB)} | ${m.tfjsBytesPerWorker.join(', ')} |`);
}
console.log(`\nCost model (ms per step): g0 = ${fmt(model.g0, 2)}, g1 = ${fmt(model.g1, 3)} per datapoint, u = ${(model.u * 1e6).toFixed(2)} ns per parameter, ` +
  `r = ${(model.r * 1e6).toFixed(2)} ns per parameter, b = ${fmt(model.b, 2)} per barrier level (P = ${P})`);
console.log('| M | workers | predicted ms/step | predicted samples/s | predicted speed-up |');
console.log('|---|---|---|---|---|');
for (const p of predictions) console.log(`| ${p.M} | ${p.N} | ${fmt(p.stepMs, 2)} | ${Math.round(p.samplesPerSecond)} | ${fmt(p.speedup, 2)}× |`);
if (values.json) fs.writeFileSync(values.json, JSON.stringify({ machine, H, rows, independent, memory, model: { ...model, predict: undefined }, predictions }, null, 2));
