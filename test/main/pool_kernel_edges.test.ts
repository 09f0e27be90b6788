/**
 * The pool end to end on aevb's kernels with odd shapes, both builds (forced): N = 3 real worker_threads,
 * M = 7 (shards of 3, 2 and 2 datapoints), hidden [5, 3], L = 3, real MNIST digits, against LocalTrainer
 * on the same build. On the shared path (twice: the same bits) and the message path; one worker gives
 * LocalTrainer's bits.
 */
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import { WorkerPool } from '../../src/main/pool/pool.ts';
import { nodeSpawner } from '../../src/main/pool/spawn_node.ts';
import { LocalTrainer } from '../../src/main/local_trainer.ts';
import { initialState } from '../../src/shared/training/training_state.ts';
import { resolveConfig, type TrainConfig } from '../../src/shared/training/config.ts';
import type { DataSplit } from '../../src/shared/data/dataset.ts';
import { mnistSubset } from '../helpers/mnist_subset.ts';
import { relErr } from '../helpers/backend.ts';
import { sameBits } from '../helpers/step_arena.ts';
import { WASM_BUILDS } from '../helpers/kernel_engines.ts';

let data: DataSplit;
const open: WorkerPool[] = [];
const STEPS = 12;

beforeAll(() => {
  data = mnistSubset(140, 20);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.dispose()));
});

const MODELS: Array<Partial<TrainConfig>> = [
  { activation: ['relu', 'tanh'], decoder: 'bernoulli', estimator: 'B' },
  { activation: ['tanh', 'linear'], decoder: 'gaussian', estimator: 'A', sigmoidMean: true },
];

describe("the pool on aevb's kernels with N = 3, M = 7, hidden [5, 3], L = 3", () => {
  for (const build of WASM_BUILDS) {
    for (const over of MODELS) {
      it(`${build}, ${JSON.stringify(over)}: trains LocalTrainer's model (shared and message paths, bit for bit on repeat), one worker its bits`, async () => {
        const cfg = resolveConfig({
          inputSize: 784,
          hidden: [5, 3],
          latent: 3,
          samples: 3,
          batch: 7,
          optimizer: 'adam',
          lr: 3e-3,
          init: 'pytorch',
          ...over,
        });
        const lt = new LocalTrainer(cfg, data, initialState(cfg), undefined, 'aevb', build);
        for (let s = 0; s < STEPS; s++) expect(lt.step(s % 4 === 0).ok).toBe(true);
        const reference = lt.state.params.slice();
        lt.dispose();
        const make = async (workers: number, transport: 'shared' | 'message') => {
          const p = await WorkerPool.create({
            config: cfg,
            data,
            workers,
            spawn: nodeSpawner(),
            state: initialState(cfg),
            transport,
            kernelBuild: build,
            valueEvery: 4,
          });
          open.push(p);
          expect(p.infos.map((i) => i.kernels)).toEqual(new Array(workers).fill(`aevb-${build}`));
          const r = await p.runSteps(0, STEPS);
          expect(r.outcomes.every((o) => o.ok)).toBe(true);
          return p.readState().params.slice();
        };
        const [one, shared, again, message] = [
          await make(1, 'shared'),
          await make(3, 'shared'),
          await make(3, 'shared'),
          await make(3, 'message'),
        ];
        expect(sameBits(one, reference), "one worker: LocalTrainer's bits").toBe(true);
        // Three slots summed in worker order instead of one: float32 rounding of the sum, ~1e-7 a step,
        // through Adam's normalised steps over 12 steps; 1e-5 (the pool tests' bound) keeps a decade.
        expect(relErr(shared, reference)).toBeLessThanOrEqual(1e-5);
        expect(sameBits(message, shared), "the message path: the shared path's bits").toBe(true);
        expect(sameBits(again, shared), 'N = 3 again: the same bits').toBe(true);
      });
    }
  }
});
