/**
 * The reference SGVB objective, written the plain way and differentiated by tfjs autodiff.
 * It is the yardstick the hand-written backward pass (gradients.ts) is tested against, and the
 * "tfjs autodiff" column of the benchmark. Same inputs, same estimators, independent code:
 * tf.tanh and tf.softplus as they are, tf.tile for L > 1, tf.grads for the gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients; autodiff needs them.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { Activation } from '../../src/shared/training/config.ts';
import type { ModelCfg, ShardValue } from '../../src/shared/model/gradients.ts';
import type { ParamLayout } from '../../src/shared/model/layout.ts';
import type { ShardInputs } from '../../src/shared/training/minibatch.ts';
import { referenceHidden } from './reference_layers.ts';
import { readInto, readScalar, tensorFrom } from '../../src/shared/model/tensor_io.ts';
import { view } from '../../src/shared/model/layout.ts';

const LOG_2PI = Math.log(2 * Math.PI);

function act(kind: Activation, a: tf.Tensor): tf.Tensor {
  return kind === 'tanh' ? tf.tanh(a) : kind === 'relu' ? tf.relu(a) : a;
}

/**
 * Σ_i ℒ̃(x_i) over the shard and its terms, as tensors, from named parameter tensors
 * (weights [out, in], biases [out, 1]).
 */
export function shardElbo(
  cfg: ModelCfg,
  p: Record<string, tf.Tensor>,
  s: ShardInputs,
): { elbo: tf.Scalar; recon: tf.Scalar; kl: tf.Scalar } {
  const B = s.b,
    L = s.l,
    J = cfg.latent,
    D = cfg.inputSize;
  const x = tf.tensor2d(s.xCols, [D, B]);
  const mm = (w: string, v: tf.Tensor) => tf.add(tf.matMul(p[w] as tf.Tensor2D, v as tf.Tensor2D), p[w.replace('W', 'b')]);
  // Encoder
  const chain = (mlp: 'enc' | 'dec', v: tf.Tensor) => referenceHidden(cfg, mlp).reduce((h, l) => act(l.act, mm(l.W, h)), v);
  const h = chain('enc', x);
  const mu = mm('enc.W4', h),
    logvar = mm('enc.W5', h); // [J, B]
  // z = μ + σ ε, L samples: columns l·B + i
  const eps = tf.tensor2d(s.eps, [J, L * B]);
  const z = tf.add(tf.tile(mu, [1, L]), tf.mul(tf.tile(tf.exp(tf.mul(0.5, logvar)), [1, L]), eps));
  // Decoder log p(x|z), summed over pixels, samples and datapoints
  const hd = chain('dec', z);
  const xL = tf.tile(x, [1, L]);
  let logpxz: tf.Tensor;
  if (cfg.decoder === 'bernoulli') {
    const logits = mm('dec.W2', hd);
    logpxz = tf.sum(tf.sub(tf.mul(xL, logits), tf.softplus(logits)));
  } else {
    const raw = mm('dec.W4', hd);
    const mean = cfg.sigmoidMean ? tf.sigmoid(raw) : raw;
    const v = mm('dec.W5', hd);
    logpxz = tf.sum(tf.mul(-0.5, tf.add(tf.add(LOG_2PI, v), tf.div(tf.square(tf.sub(xL, mean)), tf.exp(v)))));
  }
  const recon = tf.div(logpxz, L) as tf.Scalar;
  let kl: tf.Scalar;
  if (cfg.estimator === 'B') {
    // Analytic: KL = −½ Σ (1 + log σ² − μ² − σ²)
    kl = tf.mul(-0.5, tf.sum(tf.sub(tf.add(1, logvar), tf.add(tf.square(mu), tf.exp(logvar))))) as tf.Scalar;
  } else {
    // Monte Carlo: (1/L) Σ_l [log q(z_l|x) − log p(z_l)], both densities written out in full
    const lvL = tf.tile(logvar, [1, L]),
      muL = tf.tile(mu, [1, L]);
    const logq = tf.mul(-0.5, tf.add(tf.add(LOG_2PI, lvL), tf.div(tf.square(tf.sub(z, muL)), tf.exp(lvL))));
    const logp = tf.mul(-0.5, tf.add(LOG_2PI, tf.square(z)));
    kl = tf.div(tf.sum(tf.sub(logq, logp)), L) as tf.Scalar;
  }
  return { elbo: tf.sub(recon, kl) as tf.Scalar, recon, kl };
}

/**
 * ∇ Σ_i ℒ̃(x_i) by tf.grads, written into gradOut in layout order; returns the value when `withValue`
 * (one more forward pass), NaNs otherwise.
 */
export function autodiffGradient(
  cfg: ModelCfg,
  layout: ParamLayout,
  params: Float32Array,
  s: ShardInputs,
  gradOut: Float32Array,
  withValue = true,
): ShardValue {
  return tf.tidy(() => {
    const named = (ts: tf.Tensor[]) => Object.fromEntries(layout.specs.map((sp, k) => [sp.name, ts[k]]));
    const tensors = layout.specs.map((sp) =>
      tensorFrom(view(params, sp), sp.shape.length === 2 ? [sp.shape[0], sp.shape[1]] : [sp.shape[0], 1]),
    );
    const grads = tf.grads((...ts: tf.Tensor[]) => shardElbo(cfg, named(ts), s).elbo)(tensors);
    layout.specs.forEach((sp, k) => readInto(grads[k], gradOut, sp.offset));
    if (!withValue) return { elbo: NaN, recon: NaN, kl: NaN };
    const v = shardElbo(cfg, named(tensors), s);
    return { elbo: readScalar(v.elbo), recon: readScalar(v.recon), kl: readScalar(v.kl) };
  });
}
