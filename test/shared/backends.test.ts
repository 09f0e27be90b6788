/**
 * The WASM backend (production) against tfjs-backend-cpu (plain JS loops): the same SGVB gradient,
 * value and evaluation computed two ways on a mid-size model and real MNIST digits.
 * All cpu results are computed first and stored, then the backend is switched to wasm.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { resolveConfig, type TrainConfig } from '../../src/shared/training/config.ts';
import { buildLayout } from '../../src/shared/model/layout.ts';
import { initParams } from '../../src/shared/model/model.ts';
import { SgvbGradient, type ShardValue } from '../../src/shared/model/gradients.ts';
import { buildShard } from '../../src/shared/training/minibatch.ts';
import { evaluateElbo, evaluateLogLikelihood } from '../../src/shared/model/evaluate.ts';
import type { Dataset } from '../../src/shared/data/dataset.ts';
import { loadEmbeddedMnist } from '../../src/main/node/data_files.ts';
import { useBackend, relErr } from '../helpers/backend.ts';

const CASES: Array<Partial<TrainConfig>> = [
  { estimator: 'B', decoder: 'bernoulli', activation: 'tanh', samples: 1 },
  { estimator: 'A', decoder: 'bernoulli', activation: 'relu', samples: 2 },
  { estimator: 'B', decoder: 'gaussian', activation: 'tanh', samples: 2, sigmoidMean: true },
];

interface Result {
  grad: Float32Array;
  value: ShardValue;
  elbo: number;
  logLik: number;
}

function run(c: Partial<TrainConfig>, train: Dataset, test: Dataset): Result {
  const cfg = resolveConfig({ inputSize: 784, hidden: 50, latent: 8, init: 'pytorch', seed: 4, ...c });
  const layout = buildLayout(cfg);
  const params = initParams(cfg, cfg.seed, layout);
  const shard = buildShard(cfg, train, { indices: Array.from({ length: 20 }, (_, i) => 3 * i + 1), step: 7 }); // B = 20
  const engine = new SgvbGradient(cfg, layout);
  const grad = new Float32Array(layout.size);
  const value = engine.compute(params, shard, grad, true);
  engine.dispose();
  const elbo = evaluateElbo(cfg, params, test, cfg.seed, { maxColumns: 64 }).elbo;
  const logLik = evaluateLogLikelihood(cfg, params, { ...test, n: 20 }, 10, cfg.seed);
  return { grad, value, elbo, logLik };
}

describe('wasm backend against the cpu backend (D = 784, H = 50, J = 8, B = 20)', () => {
  const cpu: Result[] = [],
    wasm: Result[] = [];
  let layouts: ReturnType<typeof buildLayout>[] = [];

  beforeAll(async () => {
    const mnist = loadEmbeddedMnist();
    const train: Dataset = { ...mnist.train, n: 100, x: mnist.train.x.subarray(0, 100 * 784) };
    const test: Dataset = { ...mnist.test, n: 200, x: mnist.test.x.subarray(0, 200 * 784) };
    layouts = CASES.map((c) => buildLayout(resolveConfig({ inputSize: 784, hidden: 50, latent: 8, ...c })));
    await useBackend('cpu');
    expect(tf.getBackend()).toBe('cpu');
    for (const c of CASES) cpu.push(run(c, train, test));
    await useBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
    for (const c of CASES) wasm.push(run(c, train, test));
  });

  CASES.forEach((c, k) => {
    describe(JSON.stringify(c), () => {
      it('gradient: every parameter tensor within relative 1e-5', () => {
        // Both backends compute in float32; they differ only in summation order (XNNPACK's blocked
        // matMul vs. naive loops over 784 terms) and in exp/sigmoid implementations, each ~1e-7
        // relative. Measured: ≤ 4e-7 per tensor. 1e-5 is 25× that, and a real kernel bug
        // (a wrong transpose, a lost bias) gives O(1).
        for (const s of layouts[k].specs) {
          const a = wasm[k].grad.subarray(s.offset, s.offset + s.size),
            b = cpu[k].grad.subarray(s.offset, s.offset + s.size);
          expect(relErr(a, b), s.name).toBeLessThanOrEqual(1e-5);
        }
      });
      it('shard value (ELBO, reconstruction, KL) within relative 3e-5', () => {
        // The value is one float32 tf.sum over 20·L·784 ≤ 31,360 terms; the cpu backend adds them
        // one by one, whose rounding error random-walks to ~√n·2⁻²⁴ ≈ 1e-5 relative. Measured:
        // ≤ 3.1e-6 (ELBO ≈ −11,000 nats per shard, |Δ| ≤ 0.034). 3e-5 is ~10× that.
        for (const key of ['elbo', 'recon', 'kl'] as const) {
          const a = wasm[k].value[key],
            b = cpu[k].value[key];
          expect(Number.isFinite(b)).toBe(true);
          expect(Math.abs(a - b) / Math.abs(b), key).toBeLessThan(3e-5);
        }
      });
      it('evaluateElbo and evaluateLogLikelihood within relative 1e-6 (≈ 5e-4 nats at −550)', () => {
        // Each batch is one float32 sum of ~−30,000 nats (resolution 2e-3, i.e. 1e-5 nats per
        // datapoint after dividing), so absolute agreement much below 1e-4 nats is not meaningful.
        // Measured: ≤ 3.7e-5 nats (ELBO) and ≤ 9.8e-5 nats (IS, K = 10), i.e. ≤ 1.8e-7 relative.
        expect(Math.abs(wasm[k].elbo - cpu[k].elbo) / Math.abs(cpu[k].elbo)).toBeLessThan(1e-6);
        expect(Math.abs(wasm[k].logLik - cpu[k].logLik) / Math.abs(cpu[k].logLik)).toBeLessThan(1e-6);
      });
    });
  });
});
