/**
 * The production wake-sleep gradient (WakeSleepGradient) against central finite differences of an
 * independent float64 plain-JS reference written from docs/method.md's wake-sleep section (not from
 * wake_sleep_gradient.ts or the autodiff helper). Same inputs: x and ε from buildShard, the dreams'
 * noise from drawDreams, the same float32 parameter values widened to float64.
 *
 * What wake-sleep holds fixed is fixed here too: the wake phase's z_il = μ(x_i) + σ(x_i) ε_il and the
 * sleep phase's dreams x'_k ~ p(x|z'_k) are computed once at the parameters under test; the functions
 * differenced are
 *   W(θ) = Σ_i (1/L) Σ_l log p_θ(x_i | z_il)       (only decoder parameters move it)
 *   S(φ) = Σ_k log q_φ(z'_k | x'_k)                  (only encoder parameters move it)
 * and the gradient of W + S is compared with the production vector.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { resolveConfig, type TrainConfig } from '../../src/shared/training/config.ts';
import { buildLayout, type ParamLayout } from '../../src/shared/model/layout.ts';
import { initParams } from '../../src/shared/model/model.ts';
import { drawDreams, WakeSleepGradient } from '../../src/shared/model/wake_sleep_gradient.ts';
import { buildShard, type ShardInputs } from '../../src/shared/training/minibatch.ts';
import type { Dataset } from '../../src/shared/data/dataset.ts';
import { useBackend, relErr } from '../helpers/backend.ts';
import { affine, hiddenLayers, LOG_2PI, sigmoid, softplus } from '../helpers/float64_mlp.ts';
import { referenceHidden } from '../helpers/reference_layers.ts';

type Ref = { cfg: TrainConfig; layout: ParamLayout; s: ShardInputs };
const off = (r: Ref, n: string) => r.layout.byName(n).offset;

function encoder(r: Ref, theta: Float64Array, x: number[], pre: number[]) {
  const J = r.cfg.latent;
  const h = hiddenLayers(theta, (n) => off(r, n), referenceHidden(r.cfg, 'enc'), x, pre);
  return {
    mu: affine(theta, off(r, 'enc.W4'), off(r, 'enc.b4'), J, h, []),
    lv: affine(theta, off(r, 'enc.W5'), off(r, 'enc.b5'), J, h, []),
  };
}

/** The decoder's output parameters at z: Bernoulli y = sigmoid(ℓ) (and ℓ), Gaussian mean m and log-variance v. */
function decoder(r: Ref, theta: Float64Array, z: number[], pre: number[]) {
  const D = r.cfg.inputSize;
  const hd = hiddenLayers(theta, (n) => off(r, n), referenceHidden(r.cfg, 'dec'), z, pre);
  if (r.cfg.decoder === 'bernoulli') return { logits: affine(theta, off(r, 'dec.W2'), off(r, 'dec.b2'), D, hd, []) };
  const raw = affine(theta, off(r, 'dec.W4'), off(r, 'dec.b4'), D, hd, []);
  return {
    mean: raw.map((a) => (r.cfg.sigmoidMean ? sigmoid(a) : a)),
    logvar: affine(theta, off(r, 'dec.W5'), off(r, 'dec.b5'), D, hd, []),
  };
}

function logPxz(r: Ref, theta: Float64Array, z: number[], x: number[], pre: number[]): number {
  const o = decoder(r, theta, z, pre);
  let s = 0;
  for (let d = 0; d < x.length; d++) {
    s += o.logits
      ? x[d] * o.logits[d] - softplus(o.logits[d])
      : -0.5 * LOG_2PI - 0.5 * o.logvar![d] - (x[d] - o.mean![d]) ** 2 / (2 * Math.exp(o.logvar![d]));
  }
  return s;
}

/** z_il (wake) and x'_k (sleep) at θ0: what the algorithm treats as data. */
function fixedDraws(r: Ref, theta0: Float64Array) {
  const { latent: J, inputSize: D } = r.cfg,
    B = r.s.b,
    L = r.s.l;
  const xs: number[][] = [],
    zs: number[][][] = [],
    dreamZ: number[][] = [],
    dreamX: number[][] = [];
  for (let i = 0; i < B; i++) {
    const x = Array.from({ length: D }, (_, d) => r.s.xCols[d * B + i]);
    const { mu, lv } = encoder(r, theta0, x, []);
    xs.push(x);
    zs.push(Array.from({ length: L }, (_, l) => mu.map((m, j) => m + Math.exp(0.5 * lv[j]) * r.s.eps[j * L * B + l * B + i])));
    const zd = Array.from({ length: J }, (_, j) => r.s.dreams!.z[j * B + i]);
    const noise = Array.from({ length: D }, (_, d) => r.s.dreams!.noise[d * B + i]);
    const o = decoder(r, theta0, zd, []);
    dreamZ.push(zd);
    dreamX.push(
      o.logits
        ? o.logits.map((a, d) => (noise[d] < sigmoid(a) ? 1 : 0))
        : o.mean!.map((m, d) => m + Math.exp(0.5 * o.logvar![d]) * noise[d]),
    );
  }
  return { xs, zs, dreamZ, dreamX };
}

/** W(θ) + S(φ) at the fixed draws. */
function objective(r: Ref, theta: Float64Array, f: ReturnType<typeof fixedDraws>, pre: number[] = []): number {
  const L = r.s.l;
  let total = 0;
  f.xs.forEach((x, i) =>
    f.zs[i].forEach((z) => {
      total += logPxz(r, theta, z, x, pre) / L;
    }),
  );
  f.dreamX.forEach((xd, k) => {
    const { mu, lv } = encoder(r, theta, xd, pre);
    mu.forEach((m, j) => {
      total += -0.5 * LOG_2PI - 0.5 * lv[j] - (f.dreamZ[k][j] - m) ** 2 / (2 * Math.exp(lv[j]));
    });
  });
  return total;
}

const CASES: Array<Partial<TrainConfig>> = [
  { decoder: 'bernoulli', activation: 'tanh' },
  { decoder: 'bernoulli', activation: 'relu' },
  { decoder: 'bernoulli', activation: 'linear', samples: 1 },
  { decoder: 'gaussian', activation: 'tanh' },
  { decoder: 'gaussian', activation: 'relu' },
  { decoder: 'gaussian', activation: 'tanh', sigmoidMean: false, samples: 1 },
  // Deeper MLPs: two hidden layers, widths and activations differing.
  { decoder: 'bernoulli', hidden: [4, 3], activation: ['relu', 'tanh'] },
  { decoder: 'gaussian', hidden: [4, 3], activation: ['tanh', 'relu'], samples: 1 },
];

function setup(over: Partial<TrainConfig>) {
  const cfg = resolveConfig({ inputSize: 6, hidden: 4, latent: 2, samples: 2, init: 'pytorch', seed: 5, algorithm: 'wake-sleep', ...over });
  const layout = buildLayout(cfg);
  const params = initParams(cfg, 21, layout).map((v) => 2 * v);
  const N = 5,
    D = cfg.inputSize;
  const x = new Float32Array(N * D).map((_, i) => ((i * 29) % 97) / 96);
  const data: Dataset = { name: 'fd-fixture', n: N, d: D, x };
  const s = { ...buildShard(cfg, data, { indices: [4, 1, 2], step: 3 }), dreams: drawDreams(cfg, 3, 0, 3) }; // B = 3
  return { cfg, layout, params, s };
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`WakeSleepGradient against finite differences of a float64 reference (${backend})`, () => {
    beforeAll(() => useBackend(backend));

    for (const c of CASES) {
      it(JSON.stringify(c), () => {
        const { cfg, layout, params, s } = setup(c);
        const r: Ref = { cfg, layout, s };
        const theta = Float64Array.from(params);
        const fixed = fixedDraws(r, theta);
        if (cfg.decoder === 'bernoulli') {
          // The dreams must be real draws, both 0s and 1s, or the sleep phase is barely exercised.
          const flat = fixed.dreamX.flat();
          expect(flat.includes(0) && flat.includes(1), 'dream pixels both 0 and 1').toBe(true);
        }
        if ([cfg.activation].flat().includes('relu')) {
          const pre: number[] = [];
          objective(r, theta, fixed, pre);
          // FD steps of 1e-5 move a pre-activation by < 1e-4: a margin of 1e-3 keeps relu off its kink.
          expect(Math.min(...pre.map(Math.abs)), 'closest relu pre-activation to 0').toBeGreaterThan(1e-3);
          expect(pre.some((a) => a < 0) && pre.some((a) => a > 0), 'relu must be both on and off').toBe(true);
        }

        const engine = new WakeSleepGradient(cfg, layout);
        const grad = new Float32Array(layout.size);
        engine.compute(params, s, grad, false);
        engine.dispose();

        // Central differences, h = 1e-5, of the float64 reference: accurate to ~1e-8 relative;
        // float32 backprop is ~1e-6. 1e-3 per tensor catches any wrong term (a missing ½, a sign).
        const h = 1e-5;
        const fd = new Float64Array(layout.size);
        for (let k = 0; k < layout.size; k++) {
          const t0 = theta[k];
          theta[k] = t0 + h;
          const up = objective(r, theta, fixed);
          theta[k] = t0 - h;
          const dn = objective(r, theta, fixed);
          theta[k] = t0;
          fd[k] = (up - dn) / (2 * h);
        }
        for (const sp of layout.specs) {
          const g = grad.subarray(sp.offset, sp.offset + sp.size),
            f = fd.subarray(sp.offset, sp.offset + sp.size);
          expect(Math.max(...Array.from(f, Math.abs)), `${sp.name} FD gradient is not zero`).toBeGreaterThan(1e-6);
          expect(relErr(g, f), sp.name).toBeLessThanOrEqual(1e-3);
        }
      });
    }
  });
}
