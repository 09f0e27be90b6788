/**
 * The production gradients (SgvbGradient in tfjs ops; aevb's kernels, both builds) against central finite differences of an independent
 * float64 plain-JS reference of the per-shard ELBO, written from docs/method.md's formulas (not from
 * gradients.ts or sgvb_autodiff.ts). Both see the same inputs: x and ε from buildShard, and the
 * same float32 parameter values (widened to float64 for the reference).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { resolveConfig, type TrainConfig } from '../../src/shared/training/config.ts';
import { buildLayout, type ParamLayout } from '../../src/shared/model/layout.ts';
import { initParams } from '../../src/shared/model/model.ts';
import { SgvbGradient } from '../../src/shared/model/gradients.ts';
import { buildShard, type ShardInputs } from '../../src/shared/training/minibatch.ts';
import type { Dataset } from '../../src/shared/data/dataset.ts';
import { useBackend, relErr } from '../helpers/backend.ts';
import { affine, hiddenLayers, LOG_2PI, sigmoid, softplus } from '../helpers/float64_mlp.ts';
import { referenceHidden } from '../helpers/reference_layers.ts';
import { AevbStepGradient } from '../../src/shared/model/aevb_step_gradient.ts';
import { stepKernelFactory } from '../../src/shared/model/step_kernels.ts';
import { detectKernelBuild, type KernelBuild } from '../../src/kernels/step_kernel.ts';
import type { StepGradient } from '../../src/shared/training/step_gradient.ts';

/**
 * Σ_i ℒ̃(x_i) over the shard, float64, from docs/method.md:
 *   encoder h = act(W3 x + b3) (each hidden layer), μ = W4 h + b4, log σ² = W5 h + b5;  z_l = μ + σ ⊙ ε_l
 *   Bernoulli: log p(x|z) = Σ_d x_d ℓ_d − softplus(ℓ_d), ℓ = W2 act(W1 z + b1) + b2
 *   Gaussian:  log p(x|z) = Σ_d −½ log 2π − ½ v_d − (x_d − m_d)² / (2 e^{v_d})
 *   B: ℒ̃ = ½ Σ_j (1 + log σ_j² − μ_j² − σ_j²) + (1/L) Σ_l log p(x|z_l)
 *   A: ℒ̃ = (1/L) Σ_l [log p(x|z_l) + log N(z_l; 0, I) − log N(z_l; μ, σ²)]
 * `pre` collects every hidden pre-activation (to keep relu away from its kink).
 */
function referenceElbo(cfg: TrainConfig, layout: ParamLayout, theta: Float64Array, s: ShardInputs, pre: number[] = []): number {
  const D = cfg.inputSize,
    J = cfg.latent,
    B = s.b,
    L = s.l;
  const o = (n: string) => layout.byName(n).offset;
  const enc = referenceHidden(cfg, 'enc'),
    dec = referenceHidden(cfg, 'dec');
  let total = 0;
  for (let i = 0; i < B; i++) {
    const x = Array.from({ length: D }, (_, d) => s.xCols[d * B + i]);
    const h = hiddenLayers(theta, o, enc, x, pre);
    const mu = affine(theta, o('enc.W4'), o('enc.b4'), J, h, []);
    const lv = affine(theta, o('enc.W5'), o('enc.b5'), J, h, []);
    let elbo = 0;
    if (cfg.estimator === 'B') {
      for (let j = 0; j < J; j++) elbo += 0.5 * (1 + lv[j] - mu[j] ** 2 - Math.exp(lv[j]));
    }
    for (let l = 0; l < L; l++) {
      const eps = Array.from({ length: J }, (_, j) => s.eps[j * L * B + l * B + i]);
      const z = mu.map((m, j) => m + Math.exp(0.5 * lv[j]) * eps[j]);
      const hd = hiddenLayers(theta, o, dec, z, pre);
      let logpx = 0;
      if (cfg.decoder === 'bernoulli') {
        const logits = affine(theta, o('dec.W2'), o('dec.b2'), D, hd, []);
        for (let d = 0; d < D; d++) logpx += x[d] * logits[d] - softplus(logits[d]);
      } else {
        const raw = affine(theta, o('dec.W4'), o('dec.b4'), D, hd, []);
        const v = affine(theta, o('dec.W5'), o('dec.b5'), D, hd, []);
        for (let d = 0; d < D; d++) {
          const m = cfg.sigmoidMean ? sigmoid(raw[d]) : raw[d];
          logpx += -0.5 * LOG_2PI - 0.5 * v[d] - (x[d] - m) ** 2 / (2 * Math.exp(v[d]));
        }
      }
      let term = logpx;
      if (cfg.estimator === 'A') {
        for (let j = 0; j < J; j++) {
          const logPz = -0.5 * LOG_2PI - 0.5 * z[j] ** 2;
          const logQz = -0.5 * LOG_2PI - 0.5 * lv[j] - (z[j] - mu[j]) ** 2 / (2 * Math.exp(lv[j]));
          term += logPz - logQz;
        }
      }
      elbo += term / L;
    }
    total += elbo;
  }
  return total;
}

const CASES: Array<Partial<TrainConfig>> = [];
for (const estimator of ['A', 'B'] as const) {
  for (const activation of ['tanh', 'relu', 'linear'] as const) {
    CASES.push({ estimator, activation, decoder: 'bernoulli' });
    CASES.push({ estimator, activation, decoder: 'gaussian', sigmoidMean: activation !== 'linear' });
  }
}
CASES.push({ estimator: 'B', activation: 'tanh', decoder: 'gaussian', sigmoidMean: false });
CASES.push({ estimator: 'A', activation: 'linear', decoder: 'gaussian', sigmoidMean: true });
// Deeper MLPs: two hidden layers of different widths and activations, both decoders and estimators (L = 2);
// three layers with L = 1.
for (const estimator of ['A', 'B'] as const) {
  for (const decoder of ['bernoulli', 'gaussian'] as const)
    CASES.push({ estimator, decoder, hidden: [4, 3], activation: ['relu', 'tanh'] });
}
CASES.push({ estimator: 'B', decoder: 'bernoulli', hidden: [3, 4, 3], activation: ['tanh', 'linear', 'tanh'], samples: 1 });

function setup(over: Partial<TrainConfig>) {
  const cfg = resolveConfig({ inputSize: 6, hidden: 4, latent: 2, samples: 2, init: 'pytorch', seed: 5, ...over });
  const layout = buildLayout(cfg);
  // pytorch init is U(±1/√fan_in); ×2 so that pre-activations are O(1) and every nonlinearity
  // (tanh's curvature, relu's mask, sigmoid) is really exercised.
  const params = initParams(cfg, 21, layout).map((v) => 2 * v);
  const N = 5,
    D = cfg.inputSize;
  const x = new Float32Array(N * D).map((_, i) => ((i * 29) % 97) / 96);
  const data: Dataset = { name: 'fd-fixture', n: N, d: D, x };
  const shard = buildShard(cfg, data, { indices: [4, 1, 2], step: 3 }); // B = 3, L = 2
  return { cfg, layout, params, shard };
}

/** The gradients held against the reference: tfjs's (on two backends) and aevb's kernels (each build this engine runs). */
const ENGINES: Array<[string, 'cpu' | 'wasm', (cfg: TrainConfig, layout: ParamLayout) => StepGradient]> = [
  ['SgvbGradient (tfjs cpu)', 'cpu', (cfg, layout) => new SgvbGradient(cfg, layout)],
  ['SgvbGradient (tfjs wasm)', 'wasm', (cfg, layout) => new SgvbGradient(cfg, layout)],
  ...(['relaxed', 'simd128'] as KernelBuild[])
    .filter((b) => b === 'simd128' || detectKernelBuild() === 'relaxed')
    .map((b): [string, 'wasm', (cfg: TrainConfig, layout: ParamLayout) => StepGradient] => [
      `aevb's kernels (${b} build)`,
      'wasm',
      (cfg, layout) => new AevbStepGradient(cfg, layout, stepKernelFactory(b)),
    ]),
];

for (const [engineName, backend, makeEngine] of ENGINES) {
  describe(`${engineName} against finite differences of a float64 reference`, () => {
    beforeAll(() => useBackend(backend));

    for (const c of CASES) {
      it(JSON.stringify(c), () => {
        const { cfg, layout, params, shard } = setup(c);
        const theta = Float64Array.from(params);
        const pre: number[] = [];
        const ref = referenceElbo(cfg, layout, theta, shard, pre);
        if ([cfg.activation].flat().includes('relu')) {
          // Precondition: FD steps of 1e-5 move a pre-activation by < 1e-4, so a margin of 1e-3
          // keeps every relu on one side of its kink and the function smooth where we difference it.
          const minAbs = Math.min(...pre.map(Math.abs));
          expect(minAbs, 'closest relu pre-activation to 0').toBeGreaterThan(1e-3);
          expect(pre.some((a) => a < 0) && pre.some((a) => a > 0), 'relu must be both on and off').toBe(true);
        }

        const engine = makeEngine(cfg, layout);
        const grad = new Float32Array(layout.size);
        const value = engine.compute(params, shard, grad, true);
        engine.dispose();

        // (a) Value: float32 sums of ~50 terms of size ≤ ~10 carry ~1e-6 relative error; 1e-4 leaves
        // ample margin while any wrong term (a missing ½, a sign) is far larger.
        expect(Math.abs(value.elbo - ref) / Math.abs(ref)).toBeLessThan(1e-4);

        // (b) Gradient: central differences, h = 1e-5, of the float64 reference. Their truncation
        // error is O(h²) ~ 1e-10 and rounding ~1e-16/h ~ 1e-11, so the FD gradient is accurate to
        // ~1e-8 relative; float32 backprop is ~1e-6. 1e-3 per tensor catches any wrong term.
        const h = 1e-5;
        const fd = new Float64Array(layout.size);
        for (let k = 0; k < layout.size; k++) {
          const t0 = theta[k];
          theta[k] = t0 + h;
          const up = referenceElbo(cfg, layout, theta, shard);
          theta[k] = t0 - h;
          const dn = referenceElbo(cfg, layout, theta, shard);
          theta[k] = t0;
          fd[k] = (up - dn) / (2 * h);
        }
        for (const s of layout.specs) {
          const g = grad.subarray(s.offset, s.offset + s.size),
            f = fd.subarray(s.offset, s.offset + s.size);
          // Guard: the test would be vacuous for a tensor whose true gradient is 0.
          expect(Math.max(...Array.from(f, Math.abs)), `${s.name} FD gradient is not zero`).toBeGreaterThan(1e-6);
          expect(relErr(g, f), s.name).toBeLessThanOrEqual(1e-3);
        }
      });
    }
  });
}
