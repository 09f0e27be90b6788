/**
 * Sweep benchmark: two models on two workers (a sweep with --parallel 2 --workers 1) against one
 * model on one worker, side by side in one process, as `npm run sweep` runs them: each model is a
 * Trainer with its own one-worker pool, created as runTraining creates it, all coordinated by
 * this one main thread. Rounds are interleaved (the order alternates) and medians reported.
 *
 *   samples/s (one)   k·M / wall time of k steps of the single model
 *   samples/s (two)   2·k·M / wall time of k steps of each of the two models, run at once
 *   speed-up          two / one (the issue asks ≥ 1.8 on two free cores)
 *
 *   npx tsx bench/sweep.ts [--hidden 500] [--latent 20] [--batch 100] [--steps 200] [--rounds 7] [--json FILE]
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

const { values } = parseArgs({ options: {
  hidden: { type: 'string' }, latent: { type: 'string' }, batch: { type: 'string' }, steps: { type: 'string' },
  rounds: { type: 'string' }, json: { type: 'string' },
} });
const H = Number(values.hidden ?? 500), J = Number(values.latent ?? 20), M = Number(values.batch ?? 100);
const steps = Number(values.steps ?? 200), rounds = Number(values.rounds ?? 7);
const json = values.json ?? process.env.AEVB_BENCH_JSON;
for (const [k, v] of Object.entries({ hidden: H, latent: J, batch: M, steps, rounds })) {
  if (!Number.isInteger(v) || v < 1) { console.error(`--${k} must be a whole number ≥ 1 (got ${v}).`); process.exit(2); }
}

const cores = os.availableParallelism();
const data = loadEmbeddedMnist();
/** As runTraining creates a sweep's run: one worker, the cores shared by the runs at once. */
const create = (seed: number, parallel: number) => Trainer.create(
  { data, config: { hidden: H, latent: J, batch: M, seed }, workers: 1, evaluateTrain: false },
  nodeSpawner(), Math.max(1, Math.floor(cores / parallel)));

const one = await create(1, 1);
const two = await Promise.all([create(2, 2), create(3, 2)]);
const all = [one, ...two];
// Warm-up: the first requests compile and size the chunks.
await Promise.all(all.map((t) => t.runSteps(Math.min(20, steps))));

const time = async (ts: Trainer[]) => {
  const t0 = performance.now();
  await Promise.all(ts.map((t) => t.runSteps(steps)));
  return (ts.length * steps * M * 1000) / (performance.now() - t0);
};
const single: number[] = [], pair: number[] = [];
for (let r = 0; r < rounds; r++) {
  // Alternate which goes first, so a drift of the machine's speed favours neither.
  if (r % 2 === 0) { single.push(await time([one])); pair.push(await time(two)); }
  else { pair.push(await time(two)); single.push(await time([one])); }
  console.error(`round ${r + 1}/${rounds}: one model ${Math.round(single[r])} samples/s, two models ${Math.round(pair[r])} samples/s`);
}
await Promise.all(all.map((t) => t.dispose()));

const ratios = paired(pair, single, (p, s) => p / s);
const result = {
  setting: { hidden: H, latent: J, batch: M, stepsPerRound: steps, rounds, cores, node: process.version },
  oneModelOneWorker: { samplesPerSecond: median(single), rounds: single },
  twoModelsTwoWorkers: { samplesPerSecond: median(pair), rounds: pair },
  speedup: { ofMedians: median(pair) / median(single), medianOfPairedRounds: median(ratios) },
};
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
console.log(`Sweep benchmark: H ${H}, J ${J}, M ${M}; ${steps} steps a model a round, ${rounds} rounds; ${cores} cores, Node ${process.version}`);
console.log('| setting | samples/s (median) |');
console.log('|---|---|');
console.log(`| one model, one worker | ${fmt(result.oneModelOneWorker.samplesPerSecond)} |`);
console.log(`| two models, two workers (a sweep, --parallel 2) | ${fmt(result.twoModelsTwoWorkers.samplesPerSecond)} |`);
console.log(`speed-up: ${result.speedup.ofMedians.toFixed(2)}× (median of paired rounds ${result.speedup.medianOfPairedRounds.toFixed(2)}×)`);
if (json) fs.writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
