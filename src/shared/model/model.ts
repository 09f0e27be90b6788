/**
 * The model of docs/method.md: initialisation of θ and φ, and the forward passes used outside training
 * (encode, decode, sampling, evaluation). The training step's forward and hand-written backward
 * live in gradients.ts; the tests' autodiff reference in test/helpers/sgvb_autodiff.ts.
 *
 * Shapes are columns: a batch of B datapoints is [features, B]; weights are [out, in].
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation, InitKind, ModelConfig } from '../training/config.ts';
import { buildLayout, view, type ParamLayout } from './layout.ts';
import { modelLayers, type DenseLayer, type LayerConfig } from './layers.ts';
import { CounterRng, Stream } from '../training/rng.ts';
import { overwrite, tensorFrom } from './tensor_io.ts';

/** The paper's initialisation scale: every weight and bias from N(0, 0.01²). */
export const PAPER_INIT_STD = 0.01;

/**
 * θ and φ at step 0. 'paper': N(0, 0.01²) for all. 'pytorch': nn.Linear's default,
 * U(−1/√fan_in, 1/√fan_in) for weights and biases. Deterministic in (seed, parameter index).
 */
export function initParams(cfg: ModelConfig, seed: number, layout = buildLayout(cfg)): Float32Array {
  const flat = new Float32Array(layout.size);
  const rng = new CounterRng(seed, Stream.INIT);
  layout.specs.forEach((spec, p) => {
    const v = view(flat, spec);
    fillInit(cfg.init, rng, p, spec.fanIn, v);
  });
  return flat;
}

function fillInit(kind: InitKind, rng: CounterRng, p: number, fanIn: number, out: Float32Array): void {
  // Counter (INIT stream, parameter index, element block): independent of the layout's offsets.
  const CHUNK = 4096;
  for (let start = 0; start < out.length; start += CHUNK) {
    const n = Math.min(CHUNK, out.length - start);
    if (kind === 'paper') {
      rng.normals(p, start / CHUNK, 0, out, start, n);
      for (let i = start; i < start + n; i++) out[i] *= PAPER_INIT_STD;
    } else {
      rng.uniforms(p, start / CHUNK, 1, out, start, n);
      const bound = 1 / Math.sqrt(fanIn);
      for (let i = start; i < start + n; i++) out[i] = (2 * out[i] - 1) * bound;
    }
  }
}

/** The parameters as tensors, shaped for column-batch maths. Dispose with disposeParams. */
export interface ParamTensors {
  readonly [name: string]: tf.Tensor2D;
}

/**
 * Upload θ and φ: weights as [out, in], biases as [out, 1] columns (they broadcast over a batch).
 * With a mirror (ParamLayout.mirror), also each mirrored weight's transpose as `${name}ᵀ` [in, out].
 */
export function paramTensors(flat: Float32Array, layout: ParamLayout, mirror?: Float32Array): ParamTensors {
  const out: Record<string, tf.Tensor2D> = {};
  for (const s of layout.specs) {
    const shape = s.shape.length === 2 ? [s.shape[0], s.shape[1]] : [s.shape[0], 1];
    out[s.name] = tensorFrom(view(flat, s), shape) as tf.Tensor2D;
  }
  if (mirror) {
    for (const m of layout.mirror) {
      out[`${m.name}ᵀ`] = tensorFrom(mirror.subarray(m.mirrorOffset, m.mirrorOffset + m.size), [m.cols, m.rows]) as tf.Tensor2D;
    }
  }
  return out;
}

/** Write new values into tensors made by paramTensors; false where the backend cannot (then make new ones). */
export function overwriteParams(p: ParamTensors, flat: Float32Array, layout: ParamLayout, mirror?: Float32Array): boolean {
  for (const s of layout.specs) if (!overwrite(p[s.name], view(flat, s))) return false;
  if (mirror) {
    for (const m of layout.mirror) if (!overwrite(p[`${m.name}ᵀ`], mirror.subarray(m.mirrorOffset, m.mirrorOffset + m.size))) return false;
  }
  return true;
}

export function disposeParams(p: ParamTensors): void {
  for (const t of Object.values(p)) t.dispose();
}

/** Scalars a training step uses, made once by its owner (each tf.scalar is an upload and a tensor to track). */
export interface Scalars {
  one: tf.Scalar;
  two: tf.Scalar;
  half: tf.Scalar;
}

/**
 * The hidden nonlinearity. tanh is computed as 2·sigmoid(2a) − 1: identical maths, and on the
 * WASM backend sigmoid is a vectorised XNNPACK kernel while tanh is scalar libm, ~10× slower.
 */
export function activate(kind: Activation, a: tf.Tensor, c?: Scalars): tf.Tensor {
  switch (kind) {
    case 'tanh':
      return tf.tidy(() => {
        const two = c?.two ?? tf.scalar(2);
        return tf.sub(tf.mul(tf.sigmoid(tf.mul(a, two)), two), c?.one ?? tf.scalar(1));
      });
    case 'relu':
      return tf.relu(a);
    case 'linear':
      return a.clone();
  }
}

/** act'(a), written with the output h = act(a) where that is cheaper: tanh' = 1 − h². */
export function activationGrad(kind: Activation, a: tf.Tensor, h: tf.Tensor, c?: Scalars): tf.Tensor {
  switch (kind) {
    case 'tanh':
      return tf.sub(c?.one ?? tf.scalar(1), tf.square(h));
    case 'relu':
      return tf.step(a, 0);
    case 'linear':
      return tf.onesLike(a);
  }
}

/**
 * One MLP's hidden layers for columns x [in, B]: h_k = act_k(W_k h_{k−1} + b_k), h₀ = x. The same layers
 * (model/layers.ts) and the same ops as the training step's forward (gradients.ts), so evaluation,
 * sampling and the explorer see the model that was trained.
 */
function hiddenForward(layers: readonly DenseLayer[], p: ParamTensors, x: tf.Tensor2D): tf.Tensor2D {
  let h = x;
  for (const l of layers) h = activate(l.activation, tf.add(tf.matMul(p[l.W], h), p[l.b])) as tf.Tensor2D; // [H_k, B]
  return h;
}

/** y = W h + b for a linear layer. */
const linear = (l: DenseLayer, p: ParamTensors, h: tf.Tensor2D) => tf.add(tf.matMul(p[l.W], h), p[l.b]) as tf.Tensor2D;

/** Encoder q_φ(z|x) = N(μ, diag σ²): h = act(W3 x + b3) (each hidden layer); μ = W4 h + b4; log σ² = W5 h + b5. */
export function encode(cfg: LayerConfig, p: ParamTensors, x: tf.Tensor2D): { mu: tf.Tensor2D; logvar: tf.Tensor2D } {
  const { encoder } = modelLayers(cfg);
  return tf.tidy(() => {
    const h = hiddenForward(encoder.hidden, p, x); // [H_n, B]
    return { mu: linear(encoder.mu, p, h), logvar: linear(encoder.logvar, p, h) }; // [J, B] each
  });
}

/**
 * Decoder p_θ(x|z): the hidden layers and the output parameters.
 * Bernoulli: logits ℓ = W2 act(W1 z + b1) + b2 (y = sigmoid(ℓ)).
 * Gaussian: mean μₓ = W4' h + b4' (through a sigmoid if cfg.sigmoidMean), log σₓ² = W5' h + b5'.
 */
export function decode(
  cfg: LayerConfig & Pick<ModelConfig, 'sigmoidMean'>,
  p: ParamTensors,
  z: tf.Tensor2D,
): { logits?: tf.Tensor2D; mean: tf.Tensor2D; logvar?: tf.Tensor2D } {
  const { decoder } = modelLayers(cfg);
  return tf.tidy(() => {
    const hd = hiddenForward(decoder.hidden, p, z); // [H_1, B]
    const head = decoder.head;
    if (head.kind === 'bernoulli') {
      const logits = linear(head.logits, p, hd); // [D, B]
      return { logits, mean: tf.sigmoid(logits) as tf.Tensor2D };
    }
    const raw = linear(head.mean, p, hd); // [D, B]
    const mean = (cfg.sigmoidMean ? tf.sigmoid(raw) : raw) as tf.Tensor2D;
    return { mean, logvar: linear(head.logvar, p, hd) }; // [D, B]
  });
}

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * log p_θ(x|z) per column, [B]. Bernoulli from the logits for stability:
 * Σ_d x_d ℓ_d − softplus(ℓ_d). Gaussian: Σ_d −½ log 2π − ½ log σ²_d − (x_d − μ_d)² / (2σ²_d).
 */
export function logLikelihood(cfg: ModelConfig, out: ReturnType<typeof decode>, x: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    if (cfg.decoder === 'bernoulli') {
      const l = out.logits!;
      return tf.sum(tf.sub(tf.mul(x, l), tf.softplus(l)), 0) as tf.Tensor1D;
    }
    const lv = out.logvar!;
    const r = tf.sub(x, out.mean);
    const terms = tf.add(tf.mul(0.5, lv), tf.mul(0.5, tf.mul(tf.square(r), tf.exp(tf.neg(lv)))));
    return tf.sub(tf.scalar(-HALF_LOG_2PI * x.shape[0]), tf.sum(terms, 0)) as tf.Tensor1D;
  });
}

/** KL(N(μ, σ²) ‖ N(0, I)) per column, [B]: ½ Σ_j (μ² + σ² − 1 − log σ²). */
export function klToPrior(mu: tf.Tensor2D, logvar: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.mul(0.5, tf.sum(tf.sub(tf.add(tf.square(mu), tf.exp(logvar)), tf.add(1, logvar)), 0)) as tf.Tensor1D);
}
