/**
 * Evaluation (docs/method.md, "Evaluation"): the ELBO per datapoint on a dataset, and the
 * importance-sampled estimate of log p(x) (Burda et al. 2015) with the encoder as proposal:
 *     log p(x) ≈ log (1/K) Σ_k exp(log p(x, z_k) − log q(z_k|x)),   z_k ~ q(z|x),
 * computed with log-sum-exp. Noise comes from the EVAL stream keyed by (purpose, index, k), so
 * repeated evaluations of the same model give the same number (and curves are not jittered by ε).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from './config.ts';
import type { Dataset } from './dataset.ts';
import { buildLayout } from './layout.ts';
import { transposeRows } from './minibatch.ts';
import { decode, disposeParams, encode, klToPrior, logLikelihood, paramTensors, type ParamTensors } from './model.ts';
import { CounterRng, Stream } from './rng.ts';

const PURPOSE_ELBO = 0, PURPOSE_IS = 1;

export interface ElboReport {
  /** Mean over the dataset of ℒ̃ᴮ(x) with L = 1: nats per datapoint (higher is better). */
  elbo: number;
  /** Mean E_q[log p(x|z)] (one sample). */
  recon: number;
  /** Mean KL(q(z|x) ‖ p(z)), analytic. */
  kl: number;
}

/** Columns [D, B] of datapoints [start, start + B) of a dataset. */
function columns(data: Dataset, start: number, B: number): tf.Tensor2D {
  const rows = data.x.subarray(start * data.d, (start + B) * data.d);
  return tf.tensor2d(transposeRows(rows, B, data.d), [data.d, B]);
}

/** ε [J, K·B] for datapoints [start, start+B) and samples k0 ≤ k < k0 + K: column (k − k0)·B + i. */
function evalNoise(rng: CounterRng, purpose: number, start: number, B: number, K: number, J: number, k0 = 0): tf.Tensor2D {
  const eps = new Float32Array(J * K * B), col = new Float32Array(J);
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < B; i++) {
      rng.normals(purpose, start + i, k0 + k, col, 0, J);
      for (let j = 0; j < J; j++) eps[j * K * B + k * B + i] = col[j];
    }
  }
  return tf.tensor2d(eps, [J, K * B]);
}

/** Σ over datapoints [start, end) of the ELBO terms (estimator B, L = 1): the pool splits this across workers. */
export function elboSums(cfg: ModelConfig, params: Float32Array, data: Dataset, seed: number,
  start = 0, end = data.n, batch = 500): { count: number; elbo: number; recon: number; kl: number } {
  const p = paramTensors(params, buildLayout(cfg));
  const rng = new CounterRng(seed, Stream.EVAL);
  let recon = 0, kl = 0;
  try {
    for (let s = start; s < end; s += batch) {
      const B = Math.min(batch, end - s);
      const [r, k] = tf.tidy(() => {
        const x = columns(data, s, B);
        const { mu, logvar } = encode(cfg, p, x);
        const z = tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logvar)), evalNoise(rng, PURPOSE_ELBO, s, B, 1, cfg.latent))) as tf.Tensor2D;
        return [tf.sum(logLikelihood(cfg, decode(cfg, p, z), x)).dataSync()[0], tf.sum(klToPrior(mu, logvar)).dataSync()[0]];
      });
      recon += r; kl += k;
    }
  } finally {
    disposeParams(p);
  }
  return { count: end - start, elbo: recon - kl, recon, kl };
}

/** The per-datapoint ELBO (estimator B, L = 1) averaged over a dataset. */
export function evaluateElbo(cfg: ModelConfig, params: Float32Array, data: Dataset, seed: number, batch = 500): ElboReport {
  const s = elboSums(cfg, params, data, seed, 0, data.n, batch);
  return { elbo: s.elbo / data.n, recon: s.recon / data.n, kl: s.kl / data.n };
}

/**
 * Σ over datapoints [start, end) of the K-sample importance-sampled log p(x). At most maxColumns
 * samples are decoded at once: for K > maxColumns each datapoint's samples go in blocks of
 * maxColumns, merged with a running log-sum-exp,
 *     log Σ_k w_k = logaddexp over blocks b of (log Σ_{k∈b} w_k),
 * so memory stays bounded however large K is (the page offers K up to 100,000).
 */
export function logLikelihoodSum(cfg: ModelConfig, params: Float32Array, data: Dataset, K: number, seed: number,
  start = 0, end = data.n, maxColumns = 2000): number {
  const p = paramTensors(params, buildLayout(cfg));
  const rng = new CounterRng(seed, Stream.EVAL);
  const B = Math.max(1, Math.floor(maxColumns / K));
  let total = 0;
  try {
    if (K <= maxColumns) {
      for (let s = start; s < end; s += B) {
        const b = Math.min(B, end - s);
        total += tf.tidy(() => tf.sum(importanceLogLik(cfg, p, columns(data, s, b), evalNoise(rng, PURPOSE_IS, s, b, K, cfg.latent), K)).dataSync()[0]);
      }
    } else {
      for (let s = start; s < end; s++) {
        let acc = -Infinity; // log Σ w_k so far
        for (let k0 = 0; k0 < K; k0 += maxColumns) {
          const k = Math.min(maxColumns, K - k0);
          // importanceLogLik gives log (1/k) Σ w over the block; + log k makes it log Σ w.
          const block = tf.tidy(() => importanceLogLik(cfg, p, columns(data, s, 1), evalNoise(rng, PURPOSE_IS, s, 1, k, cfg.latent, k0), k).dataSync()[0]) + Math.log(k);
          const hi = Math.max(acc, block);
          acc = hi === -Infinity ? -Infinity : hi + Math.log(Math.exp(acc - hi) + Math.exp(block - hi));
        }
        total += acc - Math.log(K);
      }
    }
  } finally {
    disposeParams(p);
  }
  return total;
}

/**
 * Mean over the dataset of the K-sample importance-sampled log p(x). K = 1 is estimator A's
 * one-sample ELBO; the estimate rises towards log p(x) as K grows.
 */
export function evaluateLogLikelihood(cfg: ModelConfig, params: Float32Array, data: Dataset, K: number, seed: number,
  maxColumns = 2000): number {
  return logLikelihoodSum(cfg, params, data, K, seed, 0, data.n, maxColumns) / data.n;
}

/** log (1/K) Σ_k w_k per datapoint, [B]; x [D, B], eps [J, K·B] (column k·B + i). */
export function importanceLogLik(cfg: ModelConfig, p: ParamTensors, x: tf.Tensor2D, eps: tf.Tensor2D, K: number): tf.Tensor1D {
  return tf.tidy(() => {
    const B = x.shape[1];
    const { mu, logvar } = encode(cfg, p, x);
    const tile = (t: tf.Tensor) => tf.tile(t, [1, K]);
    const z = tf.add(tile(mu), tf.mul(tile(tf.exp(tf.mul(0.5, logvar))), eps)) as tf.Tensor2D; // [J, KB]
    const logPxz = logLikelihood(cfg, decode(cfg, p, z), tile(x) as tf.Tensor2D);          // [KB]
    // log p(z) = Σ_j −½ log 2π − ½ z²;  log q(z|x) = Σ_j −½ log 2π − ½ log σ² − ½ ε²  (the 2π terms cancel)
    const logPz = tf.mul(-0.5, tf.sum(tf.square(z), 0));
    const logQz = tf.mul(-0.5, tf.sum(tf.add(tile(logvar), tf.square(eps)), 0));
    const logW = tf.reshape(tf.sub(tf.add(logPxz, logPz), logQz), [K, B]);                   // [K, B]
    return tf.sub(tf.logSumExp(logW, 0), Math.log(K)) as tf.Tensor1D;
  });
}
