import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { resolveConfig, type TrainConfig } from '../../src/shared/training/config.ts';
import { buildLayout } from '../../src/shared/model/layout.ts';
import { initParams } from '../../src/shared/model/model.ts';
import { SgvbGradient } from '../../src/shared/model/gradients.ts';
import { autodiffGradient } from '../helpers/sgvb_autodiff.ts';
import { buildShard } from '../../src/shared/training/minibatch.ts';
import { useBackend, relErr } from '../helpers/backend.ts';
import { transposedMirror } from '../helpers/mirror.ts';

function setup(over: Partial<TrainConfig>) {
  const cfg = resolveConfig({ inputSize: 30, hidden: 16, latent: 4, init: 'pytorch', ...over });
  const layout = buildLayout(cfg);
  const params = initParams(cfg, 3, layout);
  const N = 12,
    D = cfg.inputSize;
  const x = new Float32Array(N * D).map((_, i) => ((i * 7919) % 101) / 100);
  const data = { name: 'fixture', n: N, d: D, x };
  const shard = buildShard(cfg, data, { indices: [0, 3, 5, 7, 11], step: 2 });
  return { cfg, layout, params, shard };
}

const CASES: Array<Partial<TrainConfig>> = [
  { estimator: 'B', decoder: 'bernoulli', activation: 'tanh', samples: 1 },
  { estimator: 'A', decoder: 'bernoulli', activation: 'relu', samples: 3 },
  { estimator: 'A', decoder: 'gaussian', activation: 'tanh', samples: 2 },
  { estimator: 'B', decoder: 'gaussian', activation: 'tanh', samples: 1, sigmoidMean: false },
  { estimator: 'B', decoder: 'bernoulli', activation: 'linear', samples: 2 },
];
// Deeper MLPs (model/layers.ts): two hidden layers of different widths and activations, so a layer that
// took the wrong width, activation or name would show; both decoders, both estimators, L = 1 and 2.
for (const decoder of ['bernoulli', 'gaussian'] as const) {
  for (const estimator of ['A', 'B'] as const) {
    for (const samples of [1, 2]) CASES.push({ hidden: [7, 5], activation: ['relu', 'tanh'], decoder, estimator, samples });
  }
}
CASES.push({ hidden: [6, 9, 4], activation: 'tanh', decoder: 'bernoulli', estimator: 'B', samples: 1 });

describe('hand-written backward pass against tfjs autodiff (wasm)', () => {
  beforeAll(() => useBackend('wasm'));
  for (const c of CASES) {
    it(`matches for ${JSON.stringify(c)}`, () => {
      const { cfg, layout, params, shard } = setup(c);
      const gHand = new Float32Array(layout.size),
        gAuto = new Float32Array(layout.size);
      const engine = new SgvbGradient(cfg, layout);
      const vHand = engine.compute(params, shard, gHand, true);
      const vAuto = autodiffGradient(cfg, layout, params, shard, gAuto);
      engine.dispose();
      for (const s of layout.specs) {
        const err = relErr(gHand.subarray(s.offset, s.offset + s.size), gAuto.subarray(s.offset, s.offset + s.size));
        expect(err, s.name).toBeLessThanOrEqual(1e-4);
      }
      expect(vHand.elbo).toBeCloseTo(vAuto.elbo, 3);
      expect(vHand.kl).toBeCloseTo(vAuto.kl, 3);
    });
  }

  it('with the mirror of transposed weights gives the same bits as transposing in the step', () => {
    for (const c of CASES) {
      const { cfg, layout, params, shard } = setup(c);
      const mirror = transposedMirror(layout, params);
      expect(layout.mirror.map((m) => m.name)).not.toContain('enc.W3');
      const a = new Float32Array(layout.size),
        b = new Float32Array(layout.size);
      const engine = new SgvbGradient(cfg, layout);
      engine.compute(params, shard, a, false);
      engine.compute(params, shard, b, false, mirror);
      engine.dispose();
      expect(Array.from(b)).toEqual(Array.from(a));
    }
  });

  it('parameters overwritten in the kept tensors give the bits of freshly uploaded ones', () => {
    const { cfg, layout, params, shard } = setup({});
    const other = params.map((v, i) => v * 0.5 + Math.sin(i) * 0.01);
    const kept = new SgvbGradient(cfg, layout),
      fresh = new SgvbGradient(cfg, layout);
    const a = new Float32Array(layout.size),
      b = new Float32Array(layout.size);
    kept.compute(params, shard, a, false); // makes the tensors it keeps…
    kept.compute(other, shard, a, false); // …and overwrites them here
    fresh.compute(other, shard, b, false);
    kept.dispose();
    fresh.dispose();
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  for (const deep of [{}, { hidden: [7, 5], activation: ['relu', 'tanh'] }] as Array<Partial<TrainConfig>>)
    it(`leaks no tensors ${JSON.stringify(deep)}`, () => {
      const { cfg, layout, params, shard } = setup({ samples: 2, ...deep });
      const engine = new SgvbGradient(cfg, layout);
      const g = new Float32Array(layout.size);
      engine.compute(params, shard, g); // first call creates the L > 1 constants
      const before = tf.memory().numTensors;
      const mirror = new Float32Array(layout.mirrorSize);
      for (let i = 0; i < 20; i++) engine.compute(params, shard, g, i % 2 === 0, i % 3 === 0 ? mirror : undefined);
      expect(tf.memory().numTensors).toBe(before);
      engine.dispose();
    });
});
