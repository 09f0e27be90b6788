/**
 * Pool benchmark, every part measured side by side in one run (pools alive together, rounds
 * interleaved, medians):
 *   profile     one worker at M ∈ {5, 10, 25, 50, 100}: each phase of a step split into a fixed part
 *               and a per-datapoint part (least squares over M)
 *   throughput  samples/s for N = 1, 2, … workers at M ∈ {100, 200}, each step's phases per worker,
 *               and N independent one-worker pools at once (the machine's own scaling)
 *   cost model  fitted to those parts; predictions for N = 1 … 16 at M = 100 and 400
 *   auto        workers 'auto' against each fixed count, whole epochs including its probes
 *   memory      process memory for N = 1 and 4
 *
 *   npx tsx bench/pool.ts [--workers 1,2] [--batches 100,200] [--rounds 5] [--steps 40] [--hidden 500]
 *                         [--no-profile] [--no-auto] [--no-memory] [--cores C] [--kernels aevb|tfjs] [--json FILE]
 */
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { WorkerPool } from '../src/main/pool/pool.ts';
import { Trainer } from '../src/main/trainer.ts';
import { nodeSpawner } from '../src/main/pool/spawn_node.ts';
import { initialState } from '../src/shared/training/training_state.ts';
import { loadEmbeddedMnist } from '../src/main/node/data_files.ts';
import { resolveConfig, type TrainConfig } from '../src/shared/training/config.ts';
import { buildLayout } from '../src/shared/model/layout.ts';
import type { PhaseTimes } from '../src/shared/runtime/protocol.ts';

const { values } = parseArgs({
  options: {
    workers: { type: 'string' },
    batches: { type: 'string' },
    rounds: { type: 'string' },
    steps: { type: 'string' },
    hidden: { type: 'string' },
    json: { type: 'string' },
    'no-memory': { type: 'boolean' },
    kernels: { type: 'string' },
    'no-profile': { type: 'boolean' },
    'no-auto': { type: 'boolean' },
    cores: { type: 'string' },
  },
});
// The cores 'auto' may use. os.availableParallelism() sees CPU affinity but not a container's CPU
// quota, so on a quota-limited machine pass --cores explicitly.
const cores = Number(values.cores ?? os.availableParallelism());
/** The step's kernels: 'aevb' (default) or 'tfjs' (the reference path, for a before/after comparison). */
const kernels = (values.kernels ?? 'aevb') as 'aevb' | 'tfjs';
const workerList = (values.workers ?? `1,${Math.min(2, cores)}`).split(',').map(Number);
const batches = (values.batches ?? '100,200').split(',').map(Number);
const rounds = Number(values.rounds ?? 5),
  steps = Number(values.steps ?? 40),
  H = Number(values.hidden ?? 500);
const data = loadEmbeddedMnist();
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const PHASES: (keyof PhaseTimes)[] = ['shard', 'upload', 'gradient', 'readout', 'wait1', 'update', 'wait2'];
/** The phases of a worker's own gradient (they scale with its shard), as opposed to the update and the waits. */
const GRADIENT_SIDE: (keyof PhaseTimes)[] = ['shard', 'upload', 'gradient', 'readout'];

/** Least squares y = a + b·x. */
/** A pool of n workers on a fresh model, reporting values rarely (the benchmark reads its phases, not the ELBO). */
function poolOf(cfg: TrainConfig, n: number): Promise<WorkerPool> {
  return WorkerPool.create({
    config: cfg,
    data,
    workers: n,
    spawn: nodeSpawner(),
    state: initialState(cfg),
    valueEvery: 1_000_000,
    kernels,
  });
}

function line(pts: Array<[number, number]>): { a: number; b: number } {
  const mx = pts.reduce((s, p) => s + p[0], 0) / pts.length,
    my = pts.reduce((s, p) => s + p[1], 0) / pts.length;
  const b =
    pts.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0) /
    Math.max(
      1e-12,
      pts.reduce((s, p) => s + (p[0] - mx) ** 2, 0),
    );
  return { a: my - b * mx, b };
}

/** One worker's phases per step at each shard size M (ms), and each phase's fit: fixed + per datapoint. */
const profileSizes = [5, 10, 25, 50, 100];
const profile: Array<{ batch: number; phases: PhaseTimes }> = [];
if (!values['no-profile']) {
  const pools = await Promise.all(
    profileSizes.map((M) => {
      const cfg = resolveConfig({ hidden: H, latent: 20, batch: M, inputSize: 784 });
      return poolOf(cfg, 1);
    }),
  );
  for (const p of pools) await p.runSteps(0, 20);
  const perRound: PhaseTimes[][] = pools.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [i, p] of pools.entries()) {
      const k = Math.max(10, Math.round((steps * 100) / profileSizes[i] / 4)); // small M: more steps per round
      const rep = await p.runSteps(20 + r * 1000, k);
      perRound[i].push(Object.fromEntries(PHASES.map((f) => [f, rep.times[0][f] / k])) as unknown as PhaseTimes);
    }
  }
  profileSizes.forEach((M, i) =>
    profile.push({
      batch: M,
      phases: Object.fromEntries(PHASES.map((f) => [f, median(perRound[i].map((x) => x[f]))])) as unknown as PhaseTimes,
    }),
  );
  await Promise.all(pools.map((p) => p.dispose()));
}
const profileFit = Object.fromEntries(PHASES.map((f) => [f, line(profile.map((p) => [p.batch, p.phases[f]]))])) as Record<
  keyof PhaseTimes,
  { a: number; b: number }
>;

interface Row {
  workers: number;
  batch: number;
  samplesPerSecond: number;
  stepMs: number;
  phases: PhaseTimes[];
}
const rows: Row[] = [];
/** The hardware's own scaling: N independent one-worker pools, each on full minibatches, run at once. */
const independent: Array<{ copies: number; batch: number; samplesPerSecond: number }> = [];

for (const M of batches) {
  const cfg = resolveConfig({ hidden: H, latent: 20, batch: M, inputSize: 784 });
  const pools = await Promise.all(workerList.map((n) => poolOf(cfg, n)));
  const samples: number[][] = workerList.map(() => []);
  const phases: PhaseTimes[][][] = workerList.map(() => []);
  const next = workerList.map(() => 0);
  for (const [i, p] of pools.entries()) {
    await p.runSteps(0, 10);
    next[i] = 10;
  } // warm-up
  const maxN = Math.max(...workerList);
  const copies = maxN > 1 ? await Promise.all(Array.from({ length: maxN }, () => poolOf(cfg, 1))) : [];
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
    const ph = Array.from(
      { length: n },
      (_, w) => Object.fromEntries(PHASES.map((k) => [k, median(phases[i].map((r) => r[w][k]))])) as unknown as PhaseTimes,
    );
    rows.push({ workers: n, batch: M, samplesPerSecond: sps, stepMs: (M * 1000) / sps, phases: ph });
  }
  if (copies.length) independent.push({ copies: copies.length, batch: M, samplesPerSecond: median(copyRates) });
  await Promise.all([...pools, ...copies].map((p) => p.dispose()));
}

/**
 * Cost model from the measured parts (per worker, per step, ms), N workers, minibatch M:
 *   t(N, M) = g0 + g1·⌈M/N⌉         shard, upload, gradient, readout: the fixed part g0 and the part
 *                                   per datapoint g1, fitted over the one-worker profile at M = 5 … 100
 *           + (c0 + c1·N)·P/N       the update kernel on this worker's slice of P/N parameters: c0 per
 *                                   parameter for the rule and the mirror, c1 per parameter and slot
 *                                   read (N slots); c0, c1 from the update times at N = 1 and N = 2
 *           + 2·b·⌈log2 N⌉          two barriers per step; b is the smallest wait seen at N = 2 (the
 *                                   last worker to arrive waits for nobody, so what it waits is the
 *                                   barrier's own latency), assumed to grow like a tree's depth
 * It assumes every worker has a core of its own as fast as this one and memory bandwidth to match:
 * the copies (upload, readout) and the update move ~(2P + T + (N + 4)·P/N)·4 bytes per worker and
 * step, which many cores share.
 */
function fitModel(P: number) {
  let g0 = 0,
    g1 = 0;
  if (profile.length) {
    const fit = line(profile.map((p) => [p.batch, GRADIENT_SIDE.reduce((s, f) => s + p.phases[f], 0)]));
    g0 = fit.a;
    g1 = fit.b;
  } else {
    const fit = line(
      rows.flatMap((r) =>
        r.phases.map((ph) => [Math.ceil(r.batch / r.workers), GRADIENT_SIDE.reduce((s, f) => s + ph[f], 0)] as [number, number]),
      ),
    );
    g0 = fit.a;
    g1 = fit.b;
  }
  const avg = (r: Row, k: keyof PhaseTimes) => r.phases.reduce((a, p) => a + p[k], 0) / r.phases.length;
  const mean = (rs: Row[], k: keyof PhaseTimes) => rs.reduce((a, r) => a + avg(r, k), 0) / Math.max(1, rs.length);
  const one = rows.filter((r) => r.workers === 1),
    two = rows.filter((r) => r.workers === 2);
  // update(1) = P (c0 + c1);  update(2) = (P/2)(c0 + 2 c1)
  const u1 = mean(one, 'update'),
    u2 = mean(two, 'update');
  const c0 = two.length ? Math.max(0, (2 * (u1 - u2)) / P) : u1 / P;
  const c1 = two.length ? Math.max(0, u1 / P - c0) : 0;
  const b = two.length ? Math.min(...two.map((x) => Math.min(...x.phases.map((p) => Math.min(p.wait1, p.wait2))))) : 0;
  const predict = (N: number, M: number) => g0 + g1 * Math.ceil(M / N) + ((c0 + c1 * N) * P) / N + 2 * b * Math.ceil(Math.log2(N));
  return { g0, g1, c0, c1, b, predict };
}
const P = buildLayout(resolveConfig({ hidden: H, latent: 20, inputSize: 784 })).size;
const model = fitModel(P);
const predictions = [1, 2, 4, 8, 16].flatMap((N) =>
  [100, 400].map((M) => ({
    N,
    M,
    stepMs: model.predict(N, M),
    samplesPerSecond: (M * 1000) / model.predict(N, M),
    speedup: model.predict(1, M) / model.predict(N, M),
  })),
);

/**
 * workers 'auto' against each fixed count: trainers alive together, each runs whole epochs in turn
 * (rounds interleaved); auto's first epoch includes its probe of every count. Samples/s over all rounds.
 */
const autoRows: Array<{ mode: string; samplesPerSecond: number; perRound: number[]; chose?: number }> = [];
if (!values['no-auto']) {
  const cfg = resolveConfig({ hidden: H, latent: 20, batch: 100, inputSize: 784 });
  const modes: Array<number | 'auto'> = ['auto', ...workerList];
  const trainers: Trainer[] = [];
  for (const m of modes)
    trainers.push(
      await Trainer.create({ data, config: cfg, workers: m, valueEvery: 1_000_000, evaluateTrain: false, kernels }, nodeSpawner(), cores),
    );
  const epoch = trainers[0].stepsPerEpoch;
  const per: number[][] = modes.map(() => []);
  const totals = modes.map(() => ({ samples: 0, ms: 0 }));
  for (let r = 0; r < Math.max(3, Math.ceil(rounds / 2)); r++) {
    for (const [i, t] of trainers.entries()) {
      const t0 = performance.now();
      await t.runSteps(epoch);
      const ms = performance.now() - t0;
      per[i].push((epoch * cfg.batch * 1000) / ms);
      totals[i].samples += epoch * cfg.batch;
      totals[i].ms += ms;
    }
  }
  modes.forEach((m, i) =>
    autoRows.push({
      mode: String(m),
      samplesPerSecond: (totals[i].samples * 1000) / totals[i].ms,
      perRound: per[i],
      chose: m === 'auto' ? trainers[i].workerChoice?.workers : undefined,
    }),
  );
  await Promise.all(trainers.map((t) => t.dispose()));
}

// Memory: the dataset lives once in shared memory, whatever N is.
async function memoryFor(n: number) {
  const cfg = resolveConfig({ hidden: H, latent: 20, batch: 100, inputSize: 784 });
  const before = process.memoryUsage();
  const p = await WorkerPool.create({ config: cfg, data, workers: n, spawn: nodeSpawner(), state: initialState(cfg), kernels });
  await p.runSteps(0, 20);
  const after = process.memoryUsage();
  const wasm = await p.memory();
  await p.dispose();
  return {
    workers: n,
    rssMB: after.rss / 2 ** 20,
    rssGrowthMB: (after.rss - before.rss) / 2 ** 20,
    arrayBuffersMB: after.arrayBuffers / 2 ** 20,
    tfjsBytesPerWorker: wasm.map((m) => m.numBytes),
  };
}
const memory = values['no-memory'] ? [] : [await memoryFor(1), await memoryFor(4)];

// Report
const fmt = (x: number, d = 1) => x.toFixed(d);
const machine = {
  cpu: os.cpus()[0]?.model,
  cores,
  logicalCpus: os.availableParallelism(),
  node: process.version,
  platform: `${os.platform()} ${os.arch()}`,
};
console.log(
  `\nPool throughput, H=${H} J=20 tanh Adagrad (paper setting), ${rounds} rounds × ${steps} steps, medians — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`,
);
if (profile.length) {
  console.log(`\nOne worker, ms per step by phase at each M (medians of ${rounds} rounds), and each phase fitted as fixed + per datapoint`);
  console.log(`| phase | ${profileSizes.map((M) => `M=${M}`).join(' | ')} | fixed (ms) | per datapoint (ms) |`);
  console.log(`|---|${profileSizes.map(() => '---|').join('')}---|---|`);
  for (const f of PHASES) {
    if (f === 'wait1' || f === 'wait2') continue;
    console.log(
      `| ${f} | ${profile.map((p) => fmt(p.phases[f], 3)).join(' | ')} | ${fmt(profileFit[f].a, 3)} | ${fmt(profileFit[f].b, 4)} |`,
    );
  }
  const tot = (p: PhaseTimes) => PHASES.reduce((s, f) => s + p[f], 0);
  console.log(`| step | ${profile.map((p) => fmt(tot(p.phases), 3)).join(' | ')} | | |`);
}
console.log(
  '| M | workers | samples/s | speed-up vs 1 | ms/step | per-worker ms/step: shard · upload · gradient · readout · wait1 · update · wait2 |',
);
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  const one = rows.find((x) => x.batch === r.batch && x.workers === 1);
  const ph = r.phases.map((p) => PHASES.map((k) => fmt(p[k], 2)).join(' · ')).join(' / ');
  console.log(
    `| ${r.batch} | ${r.workers} | ${Math.round(r.samplesPerSecond)} | ${one ? `${fmt(r.samplesPerSecond / one.samplesPerSecond, 2)}×` : ''} | ${fmt(r.stepMs, 2)} | ${ph} |`,
  );
}
for (const c of independent) {
  const one = rows.find((x) => x.batch === c.batch && x.workers === 1)!;
  const pool = rows.find((x) => x.batch === c.batch && x.workers === c.copies);
  console.log(
    `M=${c.batch}: ${c.copies} independent one-worker copies at once: ${Math.round(c.samplesPerSecond)} samples/s in all = ` +
      `${fmt(c.samplesPerSecond / one.samplesPerSecond, 2)}× one copy (the machine's own scaling); the ${c.copies}-worker pool reaches ` +
      `${pool ? fmt(pool.samplesPerSecond / one.samplesPerSecond, 2) : '?'}×`,
  );
}
if (memory.length) {
  console.log('\n| workers | process RSS (MB) | RSS growth (MB) | ArrayBuffers incl. shared (MB) | tfjs bytes per worker |');
  console.log('|---|---|---|---|---|');
  for (const m of memory)
    console.log(
      `| ${m.workers} | ${fmt(m.rssMB)} | ${fmt(m.rssGrowthMB)} | ${fmt(m.arrayBuffersMB)} | ${m.tfjsBytesPerWorker.join(', ')} |`,
    );
}
console.log(
  `\nCost model (ms per step): g0 = ${fmt(model.g0, 2)}, g1 = ${fmt(model.g1, 3)} per datapoint, c0 = ${(model.c0 * 1e6).toFixed(2)} ns per parameter, ` +
    `c1 = ${(model.c1 * 1e6).toFixed(2)} ns per parameter and slot, b = ${fmt(model.b, 3)} per barrier level (P = ${P})`,
);
console.log('| M | workers | predicted ms/step | predicted samples/s | predicted speed-up |');
console.log('|---|---|---|---|---|');
for (const p of predictions)
  console.log(`| ${p.M} | ${p.N} | ${fmt(p.stepMs, 2)} | ${Math.round(p.samplesPerSecond)} | ${fmt(p.speedup, 2)}× |`);
if (autoRows.length) {
  const best = Math.max(...autoRows.filter((r) => r.mode !== 'auto').map((r) => r.samplesPerSecond));
  console.log(`\nworkers 'auto' against fixed counts, M = 100, whole epochs interleaved (auto's first includes its probe)`);
  console.log('| workers | samples/s over all rounds | per round | vs the best fixed count |');
  console.log('|---|---|---|---|');
  for (const r of autoRows) {
    console.log(
      `| ${r.mode}${r.chose ? ` (chose ${r.chose})` : ''} | ${Math.round(r.samplesPerSecond)} | ${r.perRound.map((x) => Math.round(x)).join(', ')} | ${fmt(r.samplesPerSecond / best, 3)} |`,
    );
  }
}
if (values.json)
  fs.writeFileSync(
    values.json,
    JSON.stringify(
      { machine, H, profile, profileFit, rows, independent, memory, model: { ...model, predict: undefined }, predictions, auto: autoRows },
      null,
      2,
    ),
  );
