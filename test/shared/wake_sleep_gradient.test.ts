/**
 * The hand-written wake-sleep gradient (src/shared/model/wake_sleep_gradient.ts) against tfjs autodiff of
 * the plain objectives (test/helpers/wake_sleep_autodiff.ts), and its dreams' keying.
 * Finite differences: wake_sleep_finite_differences.test.ts.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { resolveConfig, type TrainConfig } from '../../src/shared/training/config.ts';
import { buildLayout } from '../../src/shared/model/layout.ts';
import { initParams } from '../../src/shared/model/model.ts';
import { SgvbGradient } from '../../src/shared/model/gradients.ts';
import { drawDreams, WakeSleepGradient } from '../../src/shared/model/wake_sleep_gradient.ts';
import { createStepGradient, stepShard } from '../../src/shared/training/step_gradient.ts';
import { AevbStepGradient } from '../../src/shared/model/aevb_step_gradient.ts';
import { buildShard } from '../../src/shared/training/minibatch.ts';
import { MinibatchSchedule } from '../../src/shared/training/schedule.ts';
import { CounterRng, Stream } from '../../src/shared/training/rng.ts';
import { autodiffWakeSleep } from '../helpers/wake_sleep_autodiff.ts';
import { useBackend, relErr } from '../helpers/backend.ts';
import { transposedMirror } from '../helpers/mirror.ts';

function setup(over: Partial<TrainConfig>) {
  const cfg = resolveConfig({ inputSize: 30, hidden: 16, latent: 4, init: 'pytorch', algorithm: 'wake-sleep', ...over });
  const layout = buildLayout(cfg);
  // ×2: pre-activations O(1), so tanh's curvature and sigmoid's range are really exercised.
  const params = initParams(cfg, 3, layout).map((v) => 2 * v);
  const N = 12,
    D = cfg.inputSize;
  const x = new Float32Array(N * D).map((_, i) => ((i * 7919) % 101) / 100);
  const data = { name: 'fixture', n: N, d: D, x };
  const indices = [0, 3, 5, 7, 11],
    step = 2;
  const shard = { ...buildShard(cfg, data, { indices, step }), dreams: drawDreams(cfg, step, 0, indices.length) };
  return { cfg, layout, params, shard, data };
}

const CASES: Array<Partial<TrainConfig>> = [
  { decoder: 'bernoulli', activation: 'tanh', samples: 1 },
  { decoder: 'bernoulli', activation: 'relu', samples: 3 },
  { decoder: 'gaussian', activation: 'tanh', samples: 2 },
  { decoder: 'gaussian', activation: 'tanh', samples: 1, sigmoidMean: false },
  { decoder: 'bernoulli', activation: 'linear', samples: 2 },
  // Deeper MLPs: two hidden layers, widths and activations differing (the decoder mirrors the encoder).
  { decoder: 'bernoulli', hidden: [7, 5], activation: ['relu', 'tanh'], samples: 2 },
  { decoder: 'gaussian', hidden: [7, 5], activation: ['tanh', 'relu'], samples: 1 },
];

describe('wake-sleep: hand-written gradient against tfjs autodiff (wasm)', () => {
  beforeAll(() => useBackend('wasm'));

  for (const c of CASES) {
    it(`matches for ${JSON.stringify(c)}`, () => {
      const { cfg, layout, params, shard } = setup(c);
      const gHand = new Float32Array(layout.size),
        gAuto = new Float32Array(layout.size);
      const engine = new WakeSleepGradient(cfg, layout);
      engine.compute(params, shard, gHand, true);
      engine.dispose();
      autodiffWakeSleep(cfg, layout, params, shard, gAuto);
      for (const s of layout.specs) {
        const hand = gHand.subarray(s.offset, s.offset + s.size),
          auto = gAuto.subarray(s.offset, s.offset + s.size);
        // Guard: a tensor whose true gradient is 0 would make the comparison vacuous.
        expect(Math.max(...Array.from(auto, Math.abs)), `${s.name} autodiff gradient is not zero`).toBeGreaterThan(1e-6);
        expect(relErr(hand, auto), s.name).toBeLessThanOrEqual(1e-4);
      }
    });
  }

  it("the reported value is estimator B's minibatch ELBO at the same parameters and ε (bit for bit)", () => {
    for (const c of CASES) {
      const { cfg, layout, params, shard } = setup(c);
      const ws = new WakeSleepGradient(cfg, layout),
        sgvb = new SgvbGradient({ ...cfg, estimator: 'B' }, layout);
      const g = new Float32Array(layout.size);
      const a = ws.compute(params, shard, g, true),
        b = sgvb.compute(params, shard, g, true);
      ws.dispose();
      sgvb.dispose();
      expect(a).toEqual(b);
      expect(Number.isFinite(a.elbo)).toBe(true);
      // Without the value: the same gradient, NaN for the value.
      const g1 = new Float32Array(layout.size),
        g2 = new Float32Array(layout.size);
      const e = new WakeSleepGradient(cfg, layout);
      e.compute(params, shard, g1, true);
      expect(Number.isNaN(e.compute(params, shard, g2, false).elbo)).toBe(true);
      e.dispose();
      expect(Array.from(g2)).toEqual(Array.from(g1));
    }
  });

  it("its θ half is AEVB's (both are ∇θ log p(x|z) at the same z), its φ half is not", () => {
    // With estimator B, AEVB's decoder gradient is ∇θ (1/L) Σ_l log p(x|z_l) at z = μ + σ ε: the wake
    // phase's, the same ops on the same numbers. The encoder's differs: SGVB's reparameterised ∇φ of
    // the ELBO against the sleep phase's ∇φ log q(z'|x') on dreams.
    const { cfg, layout, params, shard } = setup({});
    const ws = new Float32Array(layout.size),
      aevb = new Float32Array(layout.size);
    const a = new WakeSleepGradient(cfg, layout),
      b = new SgvbGradient({ ...cfg, estimator: 'B' }, layout);
    a.compute(params, shard, ws, false);
    b.compute(params, shard, aevb, false);
    a.dispose();
    b.dispose();
    for (const s of layout.specs) {
      const w = ws.subarray(s.offset, s.offset + s.size),
        v = aevb.subarray(s.offset, s.offset + s.size);
      if (s.name.startsWith('dec.')) expect(Array.from(w), s.name).toEqual(Array.from(v));
      else expect(relErr(w, v), s.name).toBeGreaterThan(0.1);
    }
  });

  it('with the mirror of transposed weights gives the same bits as transposing in the step', () => {
    for (const c of CASES) {
      const { cfg, layout, params, shard } = setup(c);
      const mirror = transposedMirror(layout, params);
      const a = new Float32Array(layout.size),
        b = new Float32Array(layout.size);
      const engine = new WakeSleepGradient(cfg, layout);
      engine.compute(params, shard, a, false);
      engine.compute(params, shard, b, false, mirror);
      engine.dispose();
      expect(Array.from(b)).toEqual(Array.from(a));
    }
  });

  it('leaks no tensors, and refuses a shard without its dreams', () => {
    const { cfg, layout, params, shard } = setup({ samples: 2, decoder: 'gaussian' });
    const engine = new WakeSleepGradient(cfg, layout);
    const g = new Float32Array(layout.size);
    engine.compute(params, shard, g, true); // first call makes the kept tensors and constants
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) engine.compute(params, shard, g, i % 2 === 0);
    expect(tf.memory().numTensors).toBe(before);
    const { dreams: _, ...bare } = shard;
    expect(() => engine.compute(params, bare, g, false)).toThrow(/one dream per datapoint/);
    expect(tf.memory().numTensors).toBe(before);
    engine.dispose();
  });

  it('createStepGradient and stepShard choose by config.algorithm (and the kernels: wake-sleep is tfjs either way)', () => {
    const { cfg, layout, data } = setup({});
    const e1 = createStepGradient(cfg, layout),
      e2 = createStepGradient({ ...cfg, algorithm: 'aevb' }, layout, 'tfjs');
    const e3 = createStepGradient({ ...cfg, algorithm: 'aevb' }, layout, 'aevb');
    expect(e1).toBeInstanceOf(WakeSleepGradient);
    expect(e1.kernels).toBe('tfjs');
    expect(e2).toBeInstanceOf(SgvbGradient);
    expect(e2.kernels).toBe('tfjs');
    expect(e3).toBeInstanceOf(AevbStepGradient);
    expect(e3.kernels).toMatch(/^aevb-(relaxed|simd128)$/);
    e1.dispose();
    e2.dispose();
    e3.dispose();
    const schedule = new MinibatchSchedule(cfg.seed, data.n, 6);
    expect(stepShard(cfg, data, schedule, 1, 2, 5).dreams?.b).toBe(3);
    expect(stepShard({ ...cfg, algorithm: 'aevb' }, data, schedule, 1, 2, 5).dreams).toBeUndefined();
  });
});

describe('the dreams: keyed by (seed, step, minibatch position), the same for any split', () => {
  const cfg = resolveConfig({ inputSize: 10, hidden: 4, latent: 3, algorithm: 'wake-sleep' });

  it('a split into shards draws exactly the columns of the whole minibatch', () => {
    for (const decoder of ['bernoulli', 'gaussian'] as const) {
      const c = { ...cfg, decoder },
        M = 7,
        step = 5;
      const whole = drawDreams(c, step, 0, M);
      for (const [lo, hi] of [
        [0, 3],
        [3, 4],
        [4, 7],
      ]) {
        const part = drawDreams(c, step, lo, hi - lo);
        for (let i = lo; i < hi; i++) {
          for (let j = 0; j < c.latent; j++) expect(part.z[j * (hi - lo) + i - lo]).toBe(whole.z[j * M + i]);
          for (let d = 0; d < c.inputSize; d++) expect(part.noise[d * (hi - lo) + i - lo]).toBe(whole.noise[d * M + i]);
        }
      }
    }
  });

  it("uses its own stream: z' is not AEVB's ε, and each step and position dreams anew", () => {
    const d = drawDreams(cfg, 4, 0, 2);
    const eps = new Float32Array(cfg.latent);
    new CounterRng(cfg.seed, Stream.EPSILON).normals(4, 0, 0, eps, 0, cfg.latent);
    expect(Array.from(d.z.filter((_, k) => k % 2 === 0))).not.toEqual(Array.from(eps));
    expect(Array.from(drawDreams(cfg, 5, 0, 2).z)).not.toEqual(Array.from(d.z));
    expect(d.z[0]).not.toBe(d.z[1]);
    // Bernoulli: uniforms in (0, 1); Gaussian: normals (some negative).
    expect(d.noise.every((u) => u > 0 && u < 1)).toBe(true);
    expect(drawDreams({ ...cfg, decoder: 'gaussian' }, 4, 0, 2).noise.some((v) => v < 0)).toBe(true);
  });

  it('every stream of the counter RNG is its own number', () => {
    const values = Object.values(Stream);
    expect(new Set(values).size).toBe(values.length);
  });
});
