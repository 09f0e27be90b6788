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
import { initialState } from '../src/main/local_trainer.ts';
import { loadEmbeddedMnist } from '../src/main/node/data_files.ts';
import { resolveConfig } from '../src/shared/config.ts';
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
const PHASES: (keyof PhaseTimes)[] = ['shard', 'gradient', 'wait1', 'update', 'wait2'];

interface Row { workers: number; batch: number; samplesPerSecond: number; stepMs: number; phases: PhaseTimes[]; }
const rows: Row[] = [];

for (const M of batches) {
  const cfg = resolveConfig({ hidden: H, latent: 20, batch: M, inputSize: 784 });
  const pools = await Promise.all(workerList.map((n) => WorkerPool.create({ config: cfg, data, workers: n, spawn: nodeSpawner(), state: initialState(cfg), valueEvery: 1_000_000 })));
  const samples: number[][] = workerList.map(() => []);
  const phases: PhaseTimes[][][] = workerList.map(() => []);
  const next = workerList.map(() => 0);
  for (const [i, p] of pools.entries()) { await p.runSteps(0, 10); next[i] = 10; } // warm-up
  for (let r = 0; r < rounds; r++) {
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
  await Promise.all(pools.map((p) => p.dispose()));
}

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
console.log('| M | workers | samples/s | speed-up vs 1 | ms/step | per-worker ms/step: shard · gradient · wait1 · update · wait2 |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  const one = rows.find((x) => x.batch === r.batch && x.workers === 1);
  const ph = r.phases.map((p) => PHASES.map((k) => fmt(p[k], 2)).join(' · ')).join(' / ');
  console.log(`| ${r.batch} | ${r.workers} | ${Math.round(r.samplesPerSecond)} | ${one ? fmt(r.samplesPerSecond / one.samplesPerSecond, 2) + '×' : ''} | ${fmt(r.stepMs, 2)} | ${ph} |`);
}
if (memory.length) {
  console.log('\n| workers | process RSS (MB) | RSS growth (MB) | ArrayBuffers incl. shared (MB) | tfjs bytes per worker |');
  console.log('|---|---|---|---|---|');
  for (const m of memory) console.log(`| ${m.workers} | ${fmt(m.rssMB)} | ${fmt(m.rssGrowthMB)} | ${fmt(m.arrayBuffersMB)} | ${m.tfjsBytesPerWorker.join(', ')} |`);
}
if (values.json) fs.writeFileSync(values.json, JSON.stringify({ machine, H, rows, memory }, null, 2));
