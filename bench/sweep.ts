/**
 * Sweep benchmark: k models on k workers (a sweep with --parallel k --workers 1; k = 2 by default,
 * or each of --models 2,4,8,16) against one model on one worker, side by side in one process, as `npm run sweep` runs them: each model is a
 * Trainer with its own one-worker pool, created as runTraining creates it, all coordinated by
 * this one main thread. Rounds are interleaved (the order alternates) and medians reported.
 *
 *   samples/s (one)   s·M / wall time of s steps of the single model
 *   samples/s (k)     k·s·M / wall time of s steps of each of the k models, run at once
 *   speed-up          k / one (the issue asks ≥ 1.8 for k = 2 on two free cores)
 *
 *   npx tsx bench/sweep.ts [--hidden 500] [--latent 20] [--batch 100] [--steps 200] [--rounds 7]
 *                          [--models 2[,4,8,16]] [--cores C] [--json FILE]
 *   node bench/run.mjs --sweep [--json FILE]          (the same, with the defaults)
 *
 * Defaults: the paper's MNIST setting (H 500, J 20, M 100, Adagrad). Run it on an idle machine with at
 * least two free cores; the numbers say nothing while other work shares the cores.
 */
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { loadEmbeddedMnist } from '../src/main/node/data_files.ts';
import { nodeSpawner } from '../src/main/pool/spawn_node.ts';
import { Trainer } from '../src/main/trainer.ts';
import { median, paired } from './stats.ts';

const { values } = parseArgs({
  options: {
    hidden: { type: 'string' },
    latent: { type: 'string' },
    batch: { type: 'string' },
    steps: { type: 'string' },
    rounds: { type: 'string' },
    models: { type: 'string' },
    cores: { type: 'string' },
    json: { type: 'string' },
  },
});
const H = Number(values.hidden ?? 500),
  J = Number(values.latent ?? 20),
  M = Number(values.batch ?? 100);
const steps = Number(values.steps ?? 200),
  rounds = Number(values.rounds ?? 7);
/** How many models train at once in each measured sweep (each on its own worker): 2 by default. */
const modelCounts = (values.models ?? '2').split(',').map(Number);
// os.availableParallelism() does not see a container's CPU quota: --cores says it on such a machine.
const cores = Number(values.cores ?? os.availableParallelism());
const json = values.json ?? process.env.AEVB_BENCH_JSON;
for (const [k, v] of Object.entries({
  hidden: H,
  latent: J,
  batch: M,
  steps,
  rounds,
  cores,
  ...Object.fromEntries(modelCounts.map((m, i) => [`models[${i}]`, m])),
})) {
  if (!Number.isInteger(v) || v < 1) {
    console.error(`--${k} must be a whole number ≥ 1 (got ${v}).`);
    process.exit(2);
  }
}

const data = loadEmbeddedMnist();
/** As runTraining creates a sweep's run: one worker, the cores shared by the runs at once. */
const create = (seed: number, parallel: number) =>
  Trainer.create(
    { data, config: { hidden: H, latent: J, batch: M, seed }, workers: 1, evaluateTrain: false },
    nodeSpawner(),
    Math.max(1, Math.floor(cores / parallel)),
  );

const one = await create(1, 1);
let seed = 2;
const sweeps: Trainer[][] = [];
for (const k of modelCounts) sweeps.push(await Promise.all(Array.from({ length: k }, () => create(seed++, k))));
const all = [one, ...sweeps.flat()];
// Warm-up: the first requests compile and size the chunks.
await Promise.all(all.map((t) => t.runSteps(Math.min(20, steps))));

const time = async (ts: Trainer[]) => {
  const t0 = performance.now();
  await Promise.all(ts.map((t) => t.runSteps(steps)));
  return (ts.length * steps * M * 1000) / (performance.now() - t0);
};
const single: number[] = [];
const many: number[][] = modelCounts.map(() => []);
for (let r = 0; r < rounds; r++) {
  // Alternate whether the single model goes first or last, so a drift of the machine's speed favours neither.
  if (r % 2 === 0) single.push(await time([one]));
  for (const [i, ts] of sweeps.entries()) many[i].push(await time(ts));
  if (r % 2 === 1) single.push(await time([one]));
  console.error(
    `round ${r + 1}/${rounds}: one model ${Math.round(single[r])} samples/s; ` +
      modelCounts.map((k, i) => `${k} models ${Math.round(many[i][r])}`).join(', '),
  );
}
await Promise.all(all.map((t) => t.dispose()));

const rows = modelCounts.map((k, i) => {
  const ratios = paired(many[i], single, (p, s) => p / s);
  return {
    models: k,
    samplesPerSecond: median(many[i]),
    rounds: many[i],
    speedup: { ofMedians: median(many[i]) / median(single), medianOfPairedRounds: median(ratios) },
  };
});
const two = rows.find((r) => r.models === 2);
const result = {
  setting: { hidden: H, latent: J, batch: M, stepsPerRound: steps, rounds, cores, cpu: os.cpus()[0]?.model, node: process.version },
  oneModelOneWorker: { samplesPerSecond: median(single), rounds: single },
  ...(two ? { twoModelsTwoWorkers: { samplesPerSecond: two.samplesPerSecond, rounds: two.rounds }, speedup: two.speedup } : {}),
  sweeps: rows,
};
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
console.log(
  `Sweep benchmark: H ${H}, J ${J}, M ${M}; ${steps} steps a model a round, ${rounds} rounds; ${cores} cores (${result.setting.cpu}), Node ${process.version}`,
);
console.log('| setting | samples/s in all (median) | speed-up (of medians) | median of paired rounds |');
console.log('|---|---|---|---|');
console.log(`| one model, one worker | ${fmt(result.oneModelOneWorker.samplesPerSecond)} | 1.00× | |`);
for (const r of rows) {
  console.log(
    `| ${r.models} models, ${r.models} workers (a sweep, --parallel ${r.models}) | ${fmt(r.samplesPerSecond)} | ` +
      `${r.speedup.ofMedians.toFixed(2)}× | ${r.speedup.medianOfPairedRounds.toFixed(2)}× |`,
  );
}
if (json) fs.writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
