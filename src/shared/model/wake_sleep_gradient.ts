/**
 * The wake-sleep gradient (Hinton, Dayan, Frey & Neal 1995) for the model of docs/method.md: the same
 * encoder q_φ(z|x) and decoder p_θ(x|z), p(z) = N(0, I), hand-written in the column layout of
 * gradients.ts (whose layers, heads and kept tensors it shares through ShardGradient) and checked
 * against tfjs autodiff and finite differences in tests. One step's gradient vector holds both phases;
 * the update (step_update.ts) is AEVB's: one update per step, the same optimizer slots and kernels.
 *
 * Wake (θ only). For each datapoint x_i of the shard and sample l, z_il = μ(x_i) + σ(x_i) ⊙ ε_il with
 * AEVB's ε (the same counter draws), taken as data: no gradient flows into φ through z. The wake
 * objective is log p_θ(x|z) + log p(z); log p(z) = Σ_j −½ log 2π − ½ z_j² has no θ in it, so
 *   gradient_θ = (1/L) Σ_l ∇_θ log p_θ(x_i | z_il)                     (summed over the shard)
 *
 * Sleep (φ only). One dream per minibatch datapoint, keyed by its position k in the minibatch (not
 * by which worker holds it, so any split draws the same dreams; Stream.DREAM):
 *   z'_k ~ N(0, I)                                     counter (step, k, 0)
 *   x'_k ~ p_θ(x | z'_k):  Bernoulli  x' = 1[u < y],   y = sigmoid(logits), u ~ U(0, 1)   counter (step, k, 1)
 *                          Gaussian   x' = μₓ + σₓ ⊙ ε',                    ε' ~ N(0, I)  counter (step, k, 1)
 * x' is a draw, taken as data: no gradient flows into θ through it. With
 *   log q_φ(z|x) = Σ_j [−½ log 2π − ½ log σ_j² − ½ (z_j − μ_j)² / σ_j²],   μ, log σ² = encoder(x),
 *   ∂ log q/∂μ_j = (z_j − μ_j) / σ_j²,    ∂ log q/∂ log σ_j² = −½ + ½ (z_j − μ_j)² / σ_j²,
 *   gradient_φ = ∇_φ log q_φ(z'_k | x'_k)                                 (summed over the shard)
 *
 * Like SgvbGradient, the result is a SUM over the shard in the ascent direction; the update makes it
 * g = −(1/M) Σ + λ(θ, φ) (weight decay on every parameter, as in AEVB). The reported value (when asked)
 * is the minibatch ELBO of estimator B at the current parameters, from the wake pass's forward
 * (½ Σ_j (1 + log σ² − μ² − σ²) + (1/L) Σ_l log p(x|z_l)), so that AEVB's and wake-sleep's training
 * curves measure the same thing.
 *
 * Cost: one more decoder forward and one more encoder forward and backward than AEVB's step, all of
 * them batch-sized; every Wᵀ the backward passes need (W2ᵀ or W4ᵀ, W5ᵀ of the decoder; W4ᵀ, W5ᵀ of
 * the encoder; W_kᵀ of deeper hidden layers) comes from the mirror, as in AEVB. The only transposes are of batch-sized matrices.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../training/config.ts';
import { analyticKl, ShardGradient, type GradWriter, type ShardValue } from './gradients.ts';
import type { ParamTensors } from './model.ts';
import type { Dreams, ShardInputs } from '../training/minibatch.ts';
import { readScalar } from './tensor_io.ts';
import { CounterRng, Stream } from '../training/rng.ts';
import { stateError } from '../errors.ts';

/**
 * The sleep phase's noise for the minibatch positions [first, first + count) of step `step`:
 * z' [J, count] and the per-pixel noise of x' [D, count] (uniforms for the Bernoulli decoder,
 * normals for the Gaussian), both as columns.
 */
export function drawDreams(
  cfg: Pick<TrainConfig, 'seed' | 'latent' | 'inputSize' | 'decoder'>,
  step: number,
  first: number,
  count: number,
): Dreams {
  const J = cfg.latent,
    D = cfg.inputSize,
    B = count;
  const rng = new CounterRng(cfg.seed, Stream.DREAM);
  const z = new Float32Array(J * B),
    noise = new Float32Array(D * B);
  const zCol = new Float32Array(J),
    nCol = new Float32Array(D);
  for (let i = 0; i < B; i++) {
    const k = first + i;
    rng.normals(step, k, 0, zCol, 0, J);
    if (cfg.decoder === 'bernoulli') rng.uniforms(step, k, 1, nCol, 0, D);
    else rng.normals(step, k, 1, nCol, 0, D);
    for (let j = 0; j < J; j++) z[j * B + i] = zCol[j];
    for (let d = 0; d < D; d++) noise[d * B + i] = nCol[d];
  }
  return { b: B, z, noise };
}

/**
 * Computes the wake-sleep gradient of shards (the wake phase's ∇θ and the sleep phase's ∇φ in one
 * vector). The shard must carry its dreams (stepShard in step_gradient.ts draws them). Call dispose().
 */
export class WakeSleepGradient extends ShardGradient {
  protected backprop(p: ParamTensors, s: ShardInputs, write: GradWriter, withValue: boolean): ShardValue {
    const value = this.wake(p, s, write, withValue);
    this.sleep(p, s, write);
    return value;
  }

  /** ∇θ Σ_i (1/L) Σ_l log p_θ(x_i|z_il) at z = μ + σ ε (no gradient into φ), and the ELBO (B) if asked. */
  private wake(p: ParamTensors, s: ShardInputs, write: GradWriter, withValue: boolean): ShardValue {
    const { cfg } = this;
    const B = s.b,
      L = s.l,
      J = cfg.latent,
      D = cfg.inputSize;
    const c = this.constants();
    const invL = L > 1 ? tf.scalar(1 / L) : null;
    const perSample = <T extends tf.Tensor>(t: T): T => (invL ? tf.mul(t, invL) : t);
    const x = tf.tensor2d(s.xCols, [D, B]); // [D, B]
    const { mu, logvar } = this.encoderForward(p, x); // [J, B]
    const sigma = tf.exp(tf.mul(c.half, logvar)); // [J, B]
    const rep = L > 1 ? this.replicator(B, L) : null;
    const tileL = (t: tf.Tensor) => (rep ? tf.matMul(t as tf.Tensor2D, rep.R) : t); // [·, B] → [·, L·B]
    const eps = tf.tensor2d(s.eps, [J, L * B]); // [J, LB]
    const z = tf.add(tileL(mu), tf.mul(tileL(sigma), eps)); // [J, LB], a constant below
    const hid = this.decoderHidden(p, z);
    const xL = L > 1 ? tf.tensor2d(s.xColsTiled, [D, L * B]) : x;
    const dec = this.decoderHead(p, hid.hd, xL, perSample, withValue);
    this.decoderBackward(p, z, hid, dec, write); // dec.*; stops at a_1: z is data
    if (!withValue) return { elbo: NaN, recon: NaN, kl: NaN };
    const recon = readScalar(dec.value!) / L;
    const kl = analyticKl(mu, sigma, logvar, c);
    return { elbo: recon - kl, recon, kl };
  }

  /** Dreams z' ~ p(z), x' ~ p_θ(x|z') (data), then ∇φ Σ_k log q_φ(z'_k|x'_k). */
  private sleep(p: ParamTensors, s: ShardInputs, write: GradWriter): void {
    const { cfg } = this;
    const dreams = s.dreams;
    if (!dreams || dreams.b !== s.b) {
      throw stateError(
        `Wake-sleep needs one dream per datapoint of the shard (${s.b}); got ${dreams ? dreams.b : 'none'}.`,
        'Build the shard with stepShard (step_gradient.ts), which draws the dreams.',
      );
    }
    const B = s.b,
      J = cfg.latent,
      D = cfg.inputSize;
    const c = this.constants();
    // ---- Dream: z' ~ N(0, I), x' ~ p_θ(x|z') ----
    const zd = tf.tensor2d(dreams.z, [J, B]); // [J, B]
    const { hd } = this.decoderHidden(p, zd); // [H_1, B]
    const noise = tf.tensor2d(dreams.noise, [D, B]); // [D, B]
    let xd: tf.Tensor2D;
    const head = this.layers.decoder.head;
    if (head.kind === 'bernoulli') {
      const y = tf.sigmoid(tf.add(tf.matMul(p[head.logits.W], hd as tf.Tensor2D), p[head.logits.b]));
      xd = tf.cast(tf.less(noise, y), 'float32') as tf.Tensor2D; // x' = 1[u < y]
    } else {
      const raw = tf.add(tf.matMul(p[head.mean.W], hd as tf.Tensor2D), p[head.mean.b]);
      const m = cfg.sigmoidMean ? tf.sigmoid(raw) : raw;
      const sd = tf.exp(tf.mul(c.half, tf.add(tf.matMul(p[head.logvar.W], hd as tf.Tensor2D), p[head.logvar.b])));
      xd = tf.add(m, tf.mul(sd, noise)) as tf.Tensor2D; // x' = μₓ + σₓ ε'
    }
    // ---- Recognition of the dream: ∂ log q(z'|x')/∂(μ, log σ²), then back into φ ----
    const enc = this.encoderForward(p, xd);
    const r = tf.sub(zd, enc.mu); // z' − μ
    const rIv = tf.mul(r, tf.exp(tf.neg(enc.logvar))); // (z' − μ) / σ²
    const gMu = rIv;
    const gLogvar = tf.mul(tf.sub(tf.mul(r, rIv), c.one), c.half); // ½ ((z' − μ)² / σ² − 1)
    this.encoderBackward(p, enc, gMu, gLogvar, tf.transpose(xd), write);
  }
}
