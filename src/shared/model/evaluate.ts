/**
 * Evaluation (docs/method.md, "Evaluation"): the ELBO per datapoint on a dataset with S draws of ε
 * per datapoint and its Monte Carlo standard error, and the K-sample importance-sampled estimate of
 * log p(x) (Burda et al. 2015; a stochastic lower bound) with the encoder as proposal:
 *     log p̂_K(x) = log (1/K) Σ_k w_k,   w_k = exp(log p(x, z_k) − log q(z_k|x)),   z_k ~ q(z|x),
 * with its jackknife standard error.
 *
 * Noise: the EVAL stream, counter (code + 4·draw, datapoint index, sample index, ·) where `code`
 * separates the ELBO from importance sampling and the training set from the test set (so train
 * image i and test image i never share ε), and `draw` says which evaluation this is (the trainer
 * passes the model's step: each evaluation of a run gets fresh noise, and the same model at the
 * same step always gets the same number, on any number of workers).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../training/config.ts';
import type { Dataset } from '../data/dataset.ts';
import { buildLayout } from './layout.ts';
import { transposeRows } from '../training/minibatch.ts';
import { decode, disposeParams, encode, klToPrior, logLikelihood, paramTensors, type ParamTensors } from './model.ts';
import { CounterRng, Stream } from '../training/rng.ts';
import {
  elboReport,
  logLikelihoodReport,
  type ElboReport,
  type ElboSums,
  type EvalSplit,
  type LogLikelihoodReport,
  type LogLikelihoodSums,
} from './eval_sums.ts';

export * from './eval_sums.ts';

/** Which noise an evaluation uses: the run's seed, the set evaluated, and the evaluation's draw (the trainer: the step). */
export interface EvalNoise {
  seed: number;
  split: EvalSplit;
  /** Which evaluation: any integer ≥ 0 (taken modulo 2^30). */
  draw: number;
}

const PURPOSE_ELBO = 0,
  PURPOSE_IS = 1;
const DRAW_PERIOD = 2 ** 30;

/** Counter word c0 of the evaluation noise: (purpose, split) in the low 2 bits, the draw above them. */
export function noiseWord(purpose: number, noise: EvalNoise): number {
  const draw = ((Math.floor(noise.draw) % DRAW_PERIOD) + DRAW_PERIOD) % DRAW_PERIOD;
  return (purpose * 2 + (noise.split === 'test' ? 1 : 0) + 4 * draw) >>> 0;
}

/** Columns [D, B] of datapoints [start, start + B) of a dataset. */
function columns(data: Dataset, start: number, B: number): tf.Tensor2D {
  const rows = data.x.subarray(start * data.d, (start + B) * data.d);
  return tf.tensor2d(transposeRows(rows, B, data.d), [data.d, B]);
}

/** ε [J, K·B] for datapoints [start, start+B) and samples k0 ≤ k < k0 + K: column (k − k0)·B + i. */
function evalNoise(rng: CounterRng, c0: number, start: number, B: number, K: number, J: number, k0 = 0): tf.Tensor2D {
  const eps = new Float32Array(J * K * B),
    col = new Float32Array(J);
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < B; i++) {
      rng.normals(c0, start + i, k0 + k, col, 0, J);
      for (let j = 0; j < J; j++) eps[j * K * B + k * B + i] = col[j];
    }
  }
  return tf.tensor2d(eps, [J, K * B]);
}

/**
 * Σ over datapoints [start, end) of the ELBO terms, estimator B with S draws of ε per datapoint:
 * the encoder runs once per datapoint, the decoder S times. At most maxColumns decoded samples at once.
 * The per-datapoint means and variances are taken in float64 from the S log p(x|z) values.
 */
export function elboSums(
  cfg: ModelConfig,
  params: Float32Array,
  data: Dataset,
  noise: EvalNoise,
  samples = 1,
  start = 0,
  end = data.n,
  maxColumns = 1000,
): ElboSums {
  const S = samples;
  if (!Number.isInteger(S) || S < 1) throw new RangeError(`elboSums: samples is ${S}; it must be a whole number ≥ 1`);
  const p = paramTensors(params, buildLayout(cfg));
  const rng = new CounterRng(noise.seed, Stream.EVAL);
  const c0 = noiseWord(PURPOSE_ELBO, noise);
  const batch = Math.max(1, Math.floor(maxColumns / S));
  let elbo = 0,
    recon = 0,
    kl = 0,
    variance = 0;
  try {
    for (let s0 = start; s0 < end; s0 += batch) {
      const B = Math.min(batch, end - s0);
      const [r, k] = tf.tidy(() => {
        const x = columns(data, s0, B);
        const { mu, logvar } = encode(cfg, p, x);
        const tile = (t: tf.Tensor) => (S === 1 ? t : tf.tile(t, [1, S]));
        const z = tf.add(tile(mu), tf.mul(tile(tf.exp(tf.mul(0.5, logvar))), evalNoise(rng, c0, s0, B, S, cfg.latent))) as tf.Tensor2D;
        return [
          logLikelihood(cfg, decode(cfg, p, z), tile(x) as tf.Tensor2D).dataSync() as Float32Array, // [S·B], column s·B + i
          klToPrior(mu, logvar).dataSync() as Float32Array,
        ]; // [B]
      });
      for (let i = 0; i < B; i++) {
        let m = 0;
        for (let s = 0; s < S; s++) m += r[s * B + i];
        m /= S;
        let v = 0;
        for (let s = 0; s < S; s++) v += (r[s * B + i] - m) ** 2;
        recon += m;
        kl += k[i];
        elbo += m - k[i];
        if (S > 1) variance += v / (S - 1);
      }
    }
  } finally {
    disposeParams(p);
  }
  return { count: end - start, samples: S, elbo, recon, kl, variance };
}

export interface ElboOptions {
  /** S, draws of ε per datapoint (default cfg.evalElboSamples, else 1). */
  samples?: number;
  /** Which set's noise (default 'test'). */
  split?: EvalSplit;
  /** Which evaluation's noise (default 0). */
  draw?: number;
  maxColumns?: number;
}

/** The per-datapoint ELBO (estimator B, S draws per datapoint) averaged over a dataset, with its standard error. */
export function evaluateElbo(
  cfg: ModelConfig & { evalElboSamples?: number },
  params: Float32Array,
  data: Dataset,
  seed: number,
  o: ElboOptions = {},
): ElboReport {
  const noise = { seed, split: o.split ?? 'test', draw: o.draw ?? 0 };
  return elboReport(elboSums(cfg, params, data, noise, o.samples ?? cfg.evalElboSamples ?? 1, 0, data.n, o.maxColumns));
}

/**
 * One datapoint's K log-weights → log p̂_K = log (1/K) Σ_k w_k and the jackknife estimate of its
 * variance (Efron & Stein 1981):
 *     Var(log p̂_K) ≈ (K−1)/K · Σ_k (L₋ₖ − L̄)²,   L₋ₖ = log (1/(K−1)) Σ_{j≠k} w_j,   L̄ = mean of the L₋ₖ.
 * Everything in log space relative to the largest weight (u_k = w_k / w_max ≤ 1), in float64. The
 * jackknife keeps the curvature of the log that the delta method, Var(w)/(K w̄²), drops: on a small
 * MNIST model at K = 20 (test/shared/evaluation_errors.test.ts) the delta method gave an SE of
 * 0.0274 nats against a measured spread of 0.0324 (−15 %), the jackknife 0.0365 (+13 %): it errs on
 * the safe side, as the Efron–Stein inequality says it does in expectation. 0 for K = 1.
 */
export function logMeanExpWithVariance(lw: ArrayLike<number>): { logMean: number; variance: number } {
  const K = lw.length;
  let m = -Infinity,
    top = 0;
  for (let k = 0; k < K; k++)
    if (lw[k] > m) {
      m = lw[k];
      top = k;
    }
  if (m === -Infinity) return { logMean: -Infinity, variance: 0 };
  let s1 = 0,
    m2 = -Infinity; // Σ u, and the largest log-weight but the top one
  for (let k = 0; k < K; k++) {
    s1 += Math.exp(lw[k] - m);
    if (k !== top && lw[k] > m2) m2 = lw[k];
  }
  const logMean = m + Math.log(s1 / K);
  if (K < 2) return { logMean, variance: 0 };
  if (m2 === -Infinity) return { logMean, variance: Infinity }; // every other weight is 0: no spread can be told
  // Leaving the top weight out: Σ_{j≠top} w_j relative to the second largest, so neither
  // s1 − 1 (cancellation) nor exp(m2 − m) (underflow when one weight dominates) is taken.
  let others = 0;
  for (let k = 0; k < K; k++) if (k !== top) others += Math.exp(lw[k] - m2);
  const loo = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    loo[k] = k === top ? m2 + Math.log(others / (K - 1)) : m + Math.log((s1 - Math.exp(lw[k] - m)) / (K - 1));
  }
  let mean = 0;
  for (let k = 0; k < K; k++) mean += loo[k];
  mean /= K;
  let ss = 0;
  for (let k = 0; k < K; k++) ss += (loo[k] - mean) ** 2;
  return { logMean, variance: ((K - 1) / K) * ss };
}

/**
 * Σ over datapoints [start, end) of the K-sample importance-sampled log p(x) and of its per-datapoint
 * jackknife variance (logMeanExpWithVariance). At most maxColumns samples are decoded at once: for
 * K > maxColumns each datapoint's samples go in blocks into one array of K log-weights, so the
 * tensors stay bounded however large K is (the page offers K up to 100,000: 0.8 MB of float64).
 */
export function logLikelihoodSums(
  cfg: ModelConfig,
  params: Float32Array,
  data: Dataset,
  K: number,
  noise: EvalNoise,
  start = 0,
  end = data.n,
  maxColumns = 2000,
): LogLikelihoodSums {
  const p = paramTensors(params, buildLayout(cfg));
  const rng = new CounterRng(noise.seed, Stream.EVAL);
  const c0 = noiseWord(PURPOSE_IS, noise);
  let sum = 0,
    variance = 0;
  const finish = (lw: ArrayLike<number>) => {
    const r = logMeanExpWithVariance(lw);
    sum += r.logMean;
    variance += r.variance;
  };
  try {
    if (K <= maxColumns) {
      const B = Math.max(1, Math.floor(maxColumns / K));
      const one = new Float64Array(K);
      for (let s = start; s < end; s += B) {
        const b = Math.min(B, end - s);
        const lw = tf.tidy(() => importanceLogWeights(cfg, p, columns(data, s, b), evalNoise(rng, c0, s, b, K, cfg.latent), K).dataSync());
        for (let i = 0; i < b; i++) {
          for (let k = 0; k < K; k++) one[k] = lw[k * b + i];
          finish(one);
        }
      }
    } else {
      const all = new Float64Array(K); // one datapoint's K log-weights, filled block by block
      for (let s = start; s < end; s++) {
        for (let k0 = 0; k0 < K; k0 += maxColumns) {
          const k = Math.min(maxColumns, K - k0);
          all.set(
            tf.tidy(() => importanceLogWeights(cfg, p, columns(data, s, 1), evalNoise(rng, c0, s, 1, k, cfg.latent, k0), k).dataSync()),
            k0,
          );
        }
        finish(all);
      }
    }
  } finally {
    disposeParams(p);
  }
  return { count: end - start, samples: K, sum, variance };
}

/** Σ over datapoints [start, end) of the K-sample importance-sampled log p(x) (test-set noise, draw 0 unless given). */
export function logLikelihoodSum(
  cfg: ModelConfig,
  params: Float32Array,
  data: Dataset,
  K: number,
  seed: number,
  start = 0,
  end = data.n,
  maxColumns = 2000,
  noise: Partial<EvalNoise> = {},
): number {
  return logLikelihoodSums(cfg, params, data, K, { seed, split: 'test', draw: 0, ...noise }, start, end, maxColumns).sum;
}

/** The K-sample importance-sampled estimate over a dataset with its standard error. */
export function estimateLogLikelihood(
  cfg: ModelConfig,
  params: Float32Array,
  data: Dataset,
  K: number,
  seed: number,
  o: { split?: EvalSplit; draw?: number; maxColumns?: number } = {},
): LogLikelihoodReport {
  return logLikelihoodReport(
    logLikelihoodSums(cfg, params, data, K, { seed, split: o.split ?? 'test', draw: o.draw ?? 0 }, 0, data.n, o.maxColumns),
  );
}

/**
 * Mean over the dataset of the K-sample importance-sampled log p(x). K = 1 is estimator A's
 * one-sample ELBO; the estimate rises towards log p(x) as K grows.
 */
export function evaluateLogLikelihood(
  cfg: ModelConfig,
  params: Float32Array,
  data: Dataset,
  K: number,
  seed: number,
  maxColumns = 2000,
): number {
  return logLikelihoodSum(cfg, params, data, K, seed, 0, data.n, maxColumns) / data.n;
}

/** log w_k = log p(x, z_k) − log q(z_k|x) per sample and datapoint, [K·B] with entry k·B + i; x [D, B], eps [J, K·B]. */
export function importanceLogWeights(cfg: ModelConfig, p: ParamTensors, x: tf.Tensor2D, eps: tf.Tensor2D, K: number): tf.Tensor1D {
  return tf.tidy(() => {
    const { mu, logvar } = encode(cfg, p, x);
    const tile = (t: tf.Tensor) => tf.tile(t, [1, K]);
    const z = tf.add(tile(mu), tf.mul(tile(tf.exp(tf.mul(0.5, logvar))), eps)) as tf.Tensor2D; // [J, KB]
    const logPxz = logLikelihood(cfg, decode(cfg, p, z), tile(x) as tf.Tensor2D); // [KB]
    // log p(z) = Σ_j −½ log 2π − ½ z²;  log q(z|x) = Σ_j −½ log 2π − ½ log σ² − ½ ε²  (the 2π terms cancel)
    const logPz = tf.mul(-0.5, tf.sum(tf.square(z), 0));
    const logQz = tf.mul(-0.5, tf.sum(tf.add(tile(logvar), tf.square(eps)), 0));
    return tf.sub(tf.add(logPxz, logPz), logQz) as tf.Tensor1D;
  });
}

/** log (1/K) Σ_k w_k per datapoint, [B]; x [D, B], eps [J, K·B] (column k·B + i). */
export function importanceLogLik(cfg: ModelConfig, p: ParamTensors, x: tf.Tensor2D, eps: tf.Tensor2D, K: number): tf.Tensor1D {
  return tf.tidy(() => {
    const logW = tf.reshape(importanceLogWeights(cfg, p, x, eps, K), [K, x.shape[1]]);
    return tf.sub(tf.logSumExp(logW, 0), Math.log(K)) as tf.Tensor1D;
  });
}
