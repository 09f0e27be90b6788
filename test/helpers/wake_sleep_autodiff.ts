/**
 * The reference wake-sleep gradient, written the plain way and differentiated by tfjs autodiff: the
 * yardstick of the hand-written one (src/shared/model/wake_sleep_gradient.ts). Independent code: tf.tanh
 * as it is, tf.tile for L > 1, the densities written out in full, tf.grads for the gradient. What the
 * algorithm treats as data (the wake phase's z, the sleep phase's dream x') is computed by a forward
 * pass first and enters the differentiated functions as a constant tensor.
 *
 *   wake:  Σ_i (1/L) Σ_l [log p_θ(x_i | z_il) + log p(z_il)],   z_il = μ(x_i) + σ(x_i) ε_il (constant)
 *   sleep: Σ_k log q_φ(z'_k | x'_k),                              x'_k ~ p_θ(x | z'_k) (constant)
 *   gradient = ∇θ wake ⊕ ∇φ sleep (wake has no φ in it, sleep no θ)
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients; autodiff needs them.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { Activation } from '../../src/shared/training/config.ts';
import type { ModelCfg } from '../../src/shared/model/gradients.ts';
import type { ParamLayout } from '../../src/shared/model/layout.ts';
import { view } from '../../src/shared/model/layout.ts';
import type { ShardInputs } from '../../src/shared/training/minibatch.ts';
import { readInto, tensorFrom } from '../../src/shared/model/tensor_io.ts';
import { referenceHidden } from './reference_layers.ts';

const LOG_2PI = Math.log(2 * Math.PI);

function act(kind: Activation, a: tf.Tensor): tf.Tensor {
  return kind === 'tanh' ? tf.tanh(a) : kind === 'relu' ? tf.relu(a) : a;
}

type Named = Record<string, tf.Tensor>;
const layer = (p: Named, w: string, v: tf.Tensor) => tf.add(tf.matMul(p[w] as tf.Tensor2D, v as tf.Tensor2D), p[w.replace('W', 'b')]);
/** v through one MLP's hidden layers (reference_layers.ts). */
const hidden = (cfg: ModelCfg, mlp: 'enc' | 'dec', p: Named, v: tf.Tensor) =>
  referenceHidden(cfg, mlp).reduce((h, l) => act(l.act, layer(p, l.W, h)), v);

function encoder(cfg: ModelCfg, p: Named, x: tf.Tensor) {
  const h = hidden(cfg, 'enc', p, x);
  return { mu: layer(p, 'enc.W4', h), logvar: layer(p, 'enc.W5', h) };
}

/** Σ log p_θ(x|z) over every column and pixel. */
function logPxz(cfg: ModelCfg, p: Named, z: tf.Tensor, x: tf.Tensor): tf.Scalar {
  const hd = hidden(cfg, 'dec', p, z);
  if (cfg.decoder === 'bernoulli') {
    const logits = layer(p, 'dec.W2', hd);
    return tf.sum(tf.sub(tf.mul(x, logits), tf.softplus(logits)));
  }
  const raw = layer(p, 'dec.W4', hd);
  const mean = cfg.sigmoidMean ? tf.sigmoid(raw) : raw;
  const v = layer(p, 'dec.W5', hd);
  return tf.sum(tf.mul(-0.5, tf.add(tf.add(LOG_2PI, v), tf.div(tf.square(tf.sub(x, mean)), tf.exp(v)))));
}

/** The wake phase's z (L samples per datapoint, columns l·B + i) and the sleep phase's dreams (z', x'). */
function constants(cfg: ModelCfg, p: Named, s: ShardInputs) {
  const B = s.b,
    L = s.l,
    J = cfg.latent,
    D = cfg.inputSize;
  const x = tf.tensor2d(s.xCols, [D, B]);
  const { mu, logvar } = encoder(cfg, p, x);
  const eps = tf.tensor2d(s.eps, [J, L * B]);
  const z = tf.add(tf.tile(mu, [1, L]), tf.mul(tf.tile(tf.exp(tf.mul(0.5, logvar)), [1, L]), eps));
  const zd = tf.tensor2d(s.dreams!.z, [J, B]);
  const noise = tf.tensor2d(s.dreams!.noise, [D, B]);
  const hd = hidden(cfg, 'dec', p, zd);
  let xd: tf.Tensor;
  if (cfg.decoder === 'bernoulli') {
    xd = tf.cast(tf.less(noise, tf.sigmoid(layer(p, 'dec.W2', hd))), 'float32');
  } else {
    const raw = layer(p, 'dec.W4', hd);
    xd = tf.add(cfg.sigmoidMean ? tf.sigmoid(raw) : raw, tf.mul(tf.exp(tf.mul(0.5, layer(p, 'dec.W5', hd))), noise));
  }
  // Detached copies: the differentiated functions below see numbers, not the graph that made them.
  const detach = (t: tf.Tensor) => tf.tensor(t.dataSync(), t.shape);
  return { xL: tf.tile(x, [1, L]), z: detach(z), zd, xd: detach(xd) };
}

/** The wake objective: Σ_i (1/L) Σ_l [log p(x_i|z_il) + log N(z_il; 0, I)] at the given (constant) z. */
function wakeObjective(cfg: ModelCfg, p: Named, z: tf.Tensor, xL: tf.Tensor, L: number): tf.Scalar {
  const logPz = tf.sum(tf.mul(-0.5, tf.add(LOG_2PI, tf.square(z))));
  return tf.div(tf.add(logPxz(cfg, p, z, xL), logPz), L) as tf.Scalar;
}

/** The sleep objective: Σ_k log N(z'_k; μ(x'_k), σ²(x'_k)), the densities in full. */
function sleepObjective(cfg: ModelCfg, p: Named, zd: tf.Tensor, xd: tf.Tensor): tf.Scalar {
  const { mu, logvar } = encoder(cfg, p, xd);
  return tf.sum(tf.mul(-0.5, tf.add(tf.add(LOG_2PI, logvar), tf.div(tf.square(tf.sub(zd, mu)), tf.exp(logvar)))));
}

/**
 * ∇θ wake (decoder tensors) and ∇φ sleep (encoder tensors) by tf.grads, in layout order, into gradOut.
 * Each objective is differentiated with respect to its own parameters only: the other ones are not
 * in it (the wake phase's z and the sleep phase's x' are constants), so their gradient is 0, and
 * tf.grads refuses a parameter that the result does not depend on.
 */
export function autodiffWakeSleep(cfg: ModelCfg, layout: ParamLayout, params: Float32Array, s: ShardInputs, gradOut: Float32Array): void {
  tf.tidy(() => {
    const all = Object.fromEntries(
      layout.specs.map((sp) => [
        sp.name,
        tensorFrom(view(params, sp), sp.shape.length === 2 ? [sp.shape[0], sp.shape[1]] : [sp.shape[0], 1]),
      ]),
    );
    const c = constants(cfg, all, s);
    const phase = (prefix: string, objective: (p: Named) => tf.Scalar) => {
      const specs = layout.specs.filter((sp) => sp.name.startsWith(prefix));
      const mine = specs.map((sp) => all[sp.name]);
      const grads = tf.grads((...ts: tf.Tensor[]) => objective({ ...all, ...Object.fromEntries(specs.map((sp, k) => [sp.name, ts[k]])) }))(
        mine,
      );
      specs.forEach((sp, k) => readInto(grads[k], gradOut, sp.offset));
    };
    phase('dec.', (p) => wakeObjective(cfg, p, c.z, c.xL, s.l));
    phase('enc.', (p) => sleepObjective(cfg, p, c.zd, c.xd));
  });
}
