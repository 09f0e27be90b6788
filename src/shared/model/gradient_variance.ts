/**
 * The per-parameter variance of the minibatch gradient at fixed parameters (the estimator-variance
 * study, docs/method.md "Estimator variance"): for R independent draws r of a minibatch X_r of M
 * training datapoints (uniform, without replacement within it) and of its noise ε_r,
 *     g_r = (1/M) ∇_{θ,φ} Σ_{i ∈ X_r} ℒ̃(x_i, ε_r)        (estimator A or B, L samples per datapoint)
 * and, per parameter p, the unbiased variance of g_r[p] over r (Welford, float64). The gradient is the
 * production one (SgvbGradient). With `fixedMinibatch`, X_r is the same minibatch for every r and only
 * ε varies: the part of the variance that L averages away (it scales as exactly 1/L, since the L
 * per-sample terms of ℒ̃ are independent and averaged).
 *
 * Noise: minibatch r from the PERMUTE stream at counter (STUDY, r, ·), ε and binarisation from the
 * EPSILON and BINARIZE streams at step STUDY + r, all under the study's own seed, so the draws share
 * nothing with training and every estimator and L sees the same minibatches (common random numbers).
 */
import type { TrainConfig } from '../training/config.ts';
import type { Dataset } from '../data/dataset.ts';
import { SgvbGradient } from './gradients.ts';
import { buildLayout, type ParamLayout } from './layout.ts';
import { buildShard } from '../training/minibatch.ts';
import { CounterRng, Stream } from '../training/rng.ts';

/** Counter offset of the study's draws ("VAR" in ASCII): far from any training step. */
const STUDY = 0x564152;

export interface VarianceOptions {
  /** R: independent minibatches (and ε draws). */
  draws: number;
  /** Seed of the study's draws. */
  seed: number;
  /** Hold the minibatch fixed (draw 0's) and vary only ε. */
  fixedMinibatch?: boolean;
}

/** M distinct indices of 0..n−1, uniform: a partial Fisher–Yates shuffle keyed by (seed, r). */
export function studyMinibatch(seed: number, r: number, n: number, M: number): Uint32Array {
  const rng = new CounterRng(seed, Stream.PERMUTE);
  const pool = new Uint32Array(n);
  for (let i = 0; i < n; i++) pool[i] = i;
  for (let i = 0; i < M; i++) {
    const j = i + Math.floor(rng.uniform(STUDY, r, i, 0) * (n - i));
    const t = pool[i];
    pool[i] = pool[j];
    pool[j] = t;
  }
  return pool.slice(0, M);
}

/** Per-parameter unbiased variance of the per-datapoint minibatch gradient over R draws, in layout order. */
export function gradientVariance(cfg: TrainConfig, params: Float32Array, train: Dataset, o: VarianceOptions): Float64Array {
  if (!Number.isInteger(o.draws) || o.draws < 2) throw new RangeError(`gradientVariance: draws is ${o.draws}; it needs at least 2`);
  const layout = buildLayout(cfg);
  const engine = new SgvbGradient(cfg, layout);
  const P = layout.size,
    M = cfg.batch;
  const mean = new Float64Array(P),
    m2 = new Float64Array(P),
    g = new Float32Array(P);
  const noiseCfg = { ...cfg, seed: o.seed };
  try {
    for (let r = 0; r < o.draws; r++) {
      const indices = studyMinibatch(o.seed, o.fixedMinibatch ? 0 : r, train.n, M);
      engine.compute(params, buildShard(noiseCfg, train, { indices, step: STUDY + r }), g, false);
      // Welford: mean and Σ squared deviations, per parameter. ∇ of the sum / M: the per-datapoint gradient.
      const k = r + 1;
      for (let p = 0; p < P; p++) {
        const x = g[p] / M,
          d = x - mean[p];
        mean[p] += d / k;
        m2[p] += d * (x - mean[p]);
      }
    }
  } finally {
    engine.dispose();
  }
  for (let p = 0; p < P; p++) m2[p] /= o.draws - 1;
  return m2;
}

export interface VarianceSummary {
  /** Mean over all parameters of the per-parameter variance. */
  meanVariance: number;
  medianVariance: number;
  /** Mean per-parameter variance within each tensor (enc.W3, …, dec.b2). */
  perGroup: Record<string, number>;
}

export function summarizeVariance(v: Float64Array, layout: ParamLayout): VarianceSummary {
  let total = 0;
  for (let p = 0; p < v.length; p++) total += v[p];
  const sorted = Float64Array.from(v).sort();
  const n = sorted.length,
    mid = n >> 1;
  const perGroup: Record<string, number> = {};
  for (const s of layout.specs) {
    let acc = 0;
    for (let p = s.offset; p < s.offset + s.size; p++) acc += v[p];
    perGroup[s.name] = acc / s.size;
  }
  return { meanVariance: total / n, medianVariance: n % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2, perGroup };
}
