/**
 * The production SGVB gradient: forward and hand-written backward pass of the minibatch ELBO in
 * TF.js ops, checked against tfjs autodiff (test/helpers/sgvb_autodiff.ts) and finite differences in tests.
 *
 * Why by hand, and why in columns. On the WASM backend a matMul is fast (XNNPACK, ~30 GFLOP/s
 * on one core) only without transpose flags (with one it takes a scalar path at ~2 GFLOP/s), and
 * XNNPACK re-packs its right operand whenever that arrives as a new tensor (~5 ns per element).
 * So activations are kept as columns, [features, B], every weight is a LEFT operand (never packed),
 * and the right operands are batch-sized matrices (packed once each, cheap next to the product).
 * Where Wᵀ is needed (backprop to a layer's input) it comes from the mirror that the update kernel
 * keeps beside θ (step_update.ts), or, without one, from one explicit transpose.
 * Transcendentals are scalar libm on WASM, so tanh is computed through sigmoid (model.ts) and
 * the ELBO's value (softplus, a log per pixel) only when asked for.
 *
 * Notation (docs/method.md): per datapoint i and sample l, z_il = μ_i + σ_i ⊙ ε_il;
 *   estimator B: ℒ̃ᴮ = ½ Σ_j (1 + log σ_j² − μ_j² − σ_j²) + (1/L) Σ_l log p(x|z_l)      (eq. 10)
 *   estimator A: ℒ̃ᴬ = (1/L) Σ_l [log p(x|z_l) + log p(z_l) − log q(z_l|x)]              (eq. 7)
 * The result is ∇ of the SUM over the shard of ℒ̃(x_i) (workers return sums; the optimizer scales).
 *
 * The layers' forward and backward passes, the decoder heads and the kept parameter tensors live in
 * ShardGradient, which the wake-sleep gradient (wake_sleep_gradient.ts) shares.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../training/config.ts';
import type { ParamLayout } from './layout.ts';
import type { ShardInputs } from '../training/minibatch.ts';
import { activate, activationGrad, disposeParams, overwriteParams, paramTensors, type ParamTensors, type Scalars } from './model.ts';
import { modelLayers, type ModelLayers } from './layers.ts';
import { readInto, readScalar } from './tensor_io.ts';

/** Sums over the shard (not means): ELBO = reconstruction − KL. NaN where not computed. */
export interface ShardValue {
  elbo: number;
  /** (1/L) Σ_l log p(x|z_l), summed over the shard. */
  recon: number;
  /** KL(q(z|x) ‖ p(z)): analytic for estimator B, its one-sample-per-l Monte Carlo form for A. */
  kl: number;
}

/** What a forward pass keeps for its backward: each hidden layer's pre-activation a_k and output h_k. */
export interface EncoderPass {
  a: tf.Tensor[];
  h: tf.Tensor[];
  mu: tf.Tensor;
  logvar: tf.Tensor;
}
export interface DecoderPass {
  a: tf.Tensor[];
  h: tf.Tensor[];
  hd: tf.Tensor;
}

export type ModelCfg = Pick<
  TrainConfig,
  'activation' | 'decoder' | 'sigmoidMean' | 'estimator' | 'samples' | 'latent' | 'inputSize' | 'hidden'
>;

/** Milliseconds of the last compute() spent copying: θ into the backend, gradients out of it. */
export interface CopyTimes {
  upload: number;
  readout: number;
}

/** ×1/L for a per-sample term (identity when L = 1). */
export type PerSample = <T extends tf.Tensor>(t: T) => T;

/** Wᵀ: from the uploaded mirror when there is one, else one explicit transpose. */
export function transposed(p: ParamTensors, name: string): tf.Tensor2D {
  return p[`${name}ᵀ`] ?? tf.transpose(p[name]);
}

/** Writes a gradient tensor into gradOut at its parameter's offset (timed as read-out). */
export type GradWriter = (name: string, t: tf.Tensor) => void;

/** A decoder head: ∂ log p(x|z)/∂(each output), per output weight and bias, and Σ log p(x|z) if asked. */
export interface DecoderHead {
  outputs: Array<[string, tf.Tensor2D]>;
  biases: Array<[string, tf.Tensor]>;
  value: tf.Scalar | null;
}

/**
 * What every hand-written shard gradient shares (SGVB here, wake-sleep in wake_sleep_gradient.ts):
 * θ and φ uploaded as kept tensors, the constants, the replication matrices for L > 1, the decoder
 * heads, and the encoder's and decoder's layers forward and backward. A subclass writes `backprop`.
 */
export abstract class ShardGradient {
  private readonly replicators = new Map<string, { R: tf.Tensor2D; RT: tf.Tensor2D }>();
  /** 1, 2 and ½, kept across steps (made lazily inside the first step's scope, so kept with tf.keep). */
  private scalars: Scalars | null = null;
  /**
   * θ (and the mirror) as tensors kept from step to step: each step writes the new values into their
   * memory instead of making ~16 tensors and freeing them again (WASM backend; others upload anew).
   * Every one of them is a matMul's left operand or a bias, so no kernel holds a stale copy.
   */
  private kept: { p: ParamTensors; mirror: boolean; backend: string } | null = null;
  /** Copy times of the last compute() (for the pool's per-phase breakdown). */
  readonly copyTimes: CopyTimes = { upload: 0, readout: 0 };

  /** The encoder's and decoder's layers (model/layers.ts): every name and activation below comes from here. */
  protected readonly layers: ModelLayers;

  constructor(
    readonly cfg: ModelCfg,
    readonly layout: ParamLayout,
  ) {
    this.layers = modelLayers(cfg);
  }

  /**
   * Writes the shard's gradient (a sum over its datapoints) into gradOut (layout order) and returns the
   * shard's summed ELBO terms if `withValue` (the value costs a log per pixel; the gradient does not).
   * `mirror`: the transposed weights (ParamLayout.mirror) when the caller keeps them; otherwise the
   * backward pass transposes each weight itself (a data copy: the result is the same bits).
   */
  compute(params: Float32Array, shard: ShardInputs, gradOut: Float32Array, withValue = true, mirror?: Float32Array): ShardValue {
    const t0 = performance.now();
    const p = this.upload(params, mirror);
    this.copyTimes.upload = performance.now() - t0;
    this.copyTimes.readout = 0;
    tf.engine().startScope();
    try {
      return this.backprop(p, shard, this.writer(gradOut), withValue);
    } finally {
      tf.engine().endScope();
      if (this.kept?.p !== p) disposeParams(p);
    }
  }

  /** The forward and backward pass of one shard, inside compute()'s scope. */
  protected abstract backprop(p: ParamTensors, s: ShardInputs, write: GradWriter, withValue: boolean): ShardValue;

  private writer(gradOut: Float32Array): GradWriter {
    return (name, t) => {
      const r0 = performance.now();
      readInto(t, gradOut, this.layout.byName(name).offset);
      this.copyTimes.readout += performance.now() - r0;
    };
  }

  /** The parameters as tensors: the kept ones, overwritten, where the backend allows it. */
  private upload(params: Float32Array, mirror?: Float32Array): ParamTensors {
    const backend = tf.getBackend(),
      withMirror = mirror !== undefined;
    if (this.kept && (this.kept.backend !== backend || this.kept.mirror !== withMirror)) this.release();
    if (this.kept && overwriteParams(this.kept.p, params, this.layout, mirror)) return this.kept.p;
    this.release();
    // Made outside any scope, so they live until release(). Kept only if they can be overwritten.
    const p = paramTensors(params, this.layout, mirror);
    if (overwriteParams(p, params, this.layout, mirror)) this.kept = { p, mirror: withMirror, backend };
    return p;
  }

  private release(): void {
    if (this.kept) disposeParams(this.kept.p);
    this.kept = null;
  }

  dispose(): void {
    this.release();
    for (const { R, RT } of this.replicators.values()) {
      R.dispose();
      RT.dispose();
    }
    this.replicators.clear();
    if (this.scalars) Object.values(this.scalars).forEach((t) => t.dispose());
    this.scalars = null;
  }

  protected constants(): Scalars {
    return (this.scalars ??= { one: tf.keep(tf.scalar(1)), two: tf.keep(tf.scalar(2)), half: tf.keep(tf.scalar(0.5)) });
  }

  /**
   * Encoder q_φ(z|x) through its hidden layers k = 1 … n (x as columns [D, B], h₀ = x):
   *   a_k = W_k h_{k−1} + b_k,  h_k = act_k(a_k);   μ = W4 h_n + b4;  log σ² = W5 h_n + b5
   * (the paper's model: n = 1, W_1 = enc.W3). `a` and `h` keep every layer's pre-activation and output.
   */
  protected encoderForward(p: ParamTensors, x: tf.Tensor2D): EncoderPass {
    const c = this.constants(),
      { hidden, mu: muL, logvar: lvL } = this.layers.encoder;
    const a: tf.Tensor[] = [],
      h: tf.Tensor[] = [];
    let input: tf.Tensor = x;
    for (const l of hidden) {
      const ak = tf.add(tf.matMul(p[l.W], input as tf.Tensor2D), p[l.b]); // [H_k, B]
      input = activate(l.activation, ak, c); // [H_k, B]
      a.push(ak);
      h.push(input);
    }
    const mu = tf.add(tf.matMul(p[muL.W], input as tf.Tensor2D), p[muL.b]); // [J, B]
    const logvar = tf.add(tf.matMul(p[lvL.W], input as tf.Tensor2D), p[lvL.b]); // [J, B]
    return { a, h, mu, logvar };
  }

  /**
   * Encoder backward from ∂/∂μ and ∂/∂ log σ² ([J, B] each) into enc.*; `xRows` is the input as
   * rows [B, D] (xᵀ, the right operand of the first layer's ∂/∂W = g_1 · xᵀ). With g_k = ∂/∂a_k:
   *   ∂/∂h_n = W4ᵀ ∂μ + W5ᵀ ∂log σ²;   g_k = ∂/∂h_k ⊙ act_k'(a_k);   ∂/∂h_{k−1} = W_kᵀ g_k
   *   ∂/∂W_k = g_k h_{k−1}ᵀ,  ∂/∂b_k = Σ_cols g_k
   */
  protected encoderBackward(
    p: ParamTensors,
    f: EncoderPass,
    gMu: tf.Tensor,
    gLogvar: tf.Tensor,
    xRows: tf.Tensor2D,
    write: GradWriter,
  ): void {
    const c = this.constants(),
      { hidden, mu, logvar } = this.layers.encoder,
      n = hidden.length;
    const hT = tf.transpose(f.h[n - 1]); // [B, H_n]
    write(mu.W, tf.matMul(gMu as tf.Tensor2D, hT)); // [J, H_n]
    write(logvar.W, tf.matMul(gLogvar as tf.Tensor2D, hT));
    write(mu.b, tf.sum(gMu, 1));
    write(logvar.b, tf.sum(gLogvar, 1));
    let gH = tf.add(tf.matMul(transposed(p, mu.W), gMu as tf.Tensor2D), tf.matMul(transposed(p, logvar.W), gLogvar as tf.Tensor2D));
    for (let k = n - 1; k >= 0; k--) {
      const l = hidden[k];
      const gA = tf.mul(gH, activationGrad(l.activation, f.a[k], f.h[k], c)) as tf.Tensor2D; // [H_k, B]
      // h_{k−1}ᵀ: the input rows for the first layer, a transpose of the layer below otherwise.
      write(l.W, tf.matMul(gA, k === 0 ? xRows : (tf.transpose(f.h[k - 1]) as tf.Tensor2D))); // [H_k, H_{k−1}]
      write(l.b, tf.sum(gA, 1));
      if (k > 0) gH = tf.matMul(transposed(p, l.W), gA); // [H_{k−1}, B]
    }
  }

  /** The decoder's hidden layers k = 1 … n for columns z [J, ·]: a_k = W_k h_{k−1} + b_k, h_k = act_k(a_k), h₀ = z; hd = h_n. */
  protected decoderHidden(p: ParamTensors, z: tf.Tensor): DecoderPass {
    const c = this.constants(),
      a: tf.Tensor[] = [],
      h: tf.Tensor[] = [];
    let input = z;
    for (const l of this.layers.decoder.hidden) {
      const ak = tf.add(tf.matMul(p[l.W], input as tf.Tensor2D), p[l.b]); // [H_k, ·]
      input = activate(l.activation, ak, c); // [H_k, ·]
      a.push(ak);
      h.push(input);
    }
    return { a, h, hd: input };
  }

  /**
   * Decoder backward from a head's ∂ log p/∂(outputs) into dec.*; returns ∂/∂a_1 [H_1, ·] of the first
   * hidden layer (the caller goes on into z through W_1ᵀ, or stops there). The same rule as the encoder's.
   */
  protected decoderBackward(p: ParamTensors, z: tf.Tensor, f: DecoderPass, dec: DecoderHead, write: GradWriter): tf.Tensor2D {
    const c = this.constants(),
      hidden = this.layers.decoder.hidden,
      n = hidden.length;
    const hdT = tf.transpose(f.hd); // [LB, H]
    dec.outputs.forEach(([name, g]) => write(name, tf.matMul(g, hdT as tf.Tensor2D))); // gW = g · hdᵀ
    dec.biases.forEach(([name, g]) => write(name, tf.sum(g, 1))); // gb = Σ_cols g
    // ∂/∂hd = Σ_heads Wᵀ g
    let gH: tf.Tensor = tf.matMul(transposed(p, dec.outputs[0][0]), dec.outputs[0][1]);
    if (dec.outputs.length > 1) gH = tf.add(gH, tf.matMul(transposed(p, dec.outputs[1][0]), dec.outputs[1][1]));
    let gA!: tf.Tensor2D;
    for (let k = n - 1; k >= 0; k--) {
      const l = hidden[k];
      gA = tf.mul(gH, activationGrad(l.activation, f.a[k], f.h[k], c)) as tf.Tensor2D; // [H_k, LB]
      write(l.W, tf.matMul(gA, tf.transpose(k === 0 ? z : f.h[k - 1]) as tf.Tensor2D)); // [H_k, H_{k−1} or J]
      write(l.b, tf.sum(gA, 1));
      if (k > 0) gH = tf.matMul(transposed(p, l.W), gA); // [H_{k−1}, LB]
    }
    return gA;
  }

  /** The head of cfg.decoder: ∂ log p(x|z)/∂(its outputs) for targets x, and the value if asked. */
  protected decoderHead(p: ParamTensors, hd: tf.Tensor, x: tf.Tensor, perSample: PerSample, withValue: boolean): DecoderHead {
    return this.layers.decoder.head.kind === 'bernoulli'
      ? this.bernoulliHead(p, hd, x, perSample, withValue)
      : this.gaussianHead(p, hd, x, perSample, withValue);
  }

  /** Bernoulli: log p = Σ x ℓ − softplus(ℓ); ∂/∂ℓ = x − sigmoid(ℓ). */
  private bernoulliHead(p: ParamTensors, hd: tf.Tensor, x: tf.Tensor, perSample: PerSample, withValue: boolean): DecoderHead {
    const head = this.layers.decoder.head;
    if (head.kind !== 'bernoulli') throw new Error('bernoulliHead on a Gaussian decoder');
    const { W, b } = head.logits;
    const logits = tf.add(tf.matMul(p[W], hd as tf.Tensor2D), p[b]); // [D, LB]
    const gLogits = perSample(tf.sub(x, tf.sigmoid(logits))) as tf.Tensor2D; // [D, LB]
    const value = withValue ? (tf.sum(tf.sub(tf.mul(x, logits), tf.softplus(logits))) as tf.Scalar) : null;
    return { outputs: [[W, gLogits]], biases: [[b, gLogits]], value };
  }

  /**
   * Gaussian: log p = Σ −½ log 2π − ½ v − (x − m)² e^{−v} / 2 with m = μₓ (or sigmoid(μₓ)), v = log σₓ².
   * ∂/∂m = (x − m) e^{−v};  ∂/∂v = −½ + ½ (x − m)² e^{−v}.
   */
  private gaussianHead(p: ParamTensors, hd: tf.Tensor, x: tf.Tensor, perSample: PerSample, withValue: boolean): DecoderHead {
    const { cfg } = this,
      head = this.layers.decoder.head;
    if (head.kind !== 'gaussian') throw new Error('gaussianHead on a Bernoulli decoder');
    const { mean, logvar } = head;
    const raw = tf.add(tf.matMul(p[mean.W], hd as tf.Tensor2D), p[mean.b]); // [D, LB]
    const v = tf.add(tf.matMul(p[logvar.W], hd as tf.Tensor2D), p[logvar.b]); // [D, LB]
    const m = cfg.sigmoidMean ? tf.sigmoid(raw) : raw;
    const r = tf.sub(x, m);
    const invVar = tf.exp(tf.neg(v));
    const rIv = tf.mul(r, invVar);
    let gRaw = perSample(rIv);
    if (cfg.sigmoidMean) gRaw = tf.mul(gRaw, tf.mul(m, tf.sub(tf.scalar(1), m))); // sigmoid' = m(1 − m)
    const r2Iv = tf.mul(r, rIv);
    const gV = perSample(tf.mul(tf.sub(r2Iv, tf.scalar(1)), tf.scalar(0.5)));
    const value = withValue
      ? (tf.sub(tf.scalar(-0.5 * Math.log(2 * Math.PI) * x.size), tf.mul(tf.scalar(0.5), tf.sum(tf.add(v, r2Iv)))) as tf.Scalar)
      : null;
    return {
      outputs: [
        [mean.W, gRaw as tf.Tensor2D],
        [logvar.W, gV as tf.Tensor2D],
      ],
      biases: [
        [mean.b, gRaw],
        [logvar.b, gV],
      ],
      value,
    };
  }

  /** R [B, L·B] with R[i, l·B + i] = 1, and Rᵀ: replicate columns L times, and sum them back. */
  protected replicator(B: number, L: number) {
    const key = `${B}x${L}`;
    let r = this.replicators.get(key);
    if (!r) {
      const vals = new Float32Array(B * L * B);
      for (let i = 0; i < B; i++) for (let l = 0; l < L; l++) vals[i * L * B + l * B + i] = 1;
      const R = tf.tensor2d(vals, [B, L * B]);
      // Kept across steps on purpose: as a constant right operand, XNNPACK packs it only once.
      // tf.keep: created lazily inside the step's tidy, they must outlive it.
      r = { R: tf.keep(R), RT: tf.keep(tf.transpose(R) as tf.Tensor2D) };
      this.replicators.set(key, r);
    }
    return r;
  }
}

/**
 * Computes ∇_{θ,φ} Σ_i ℒ̃(x_i) for shards. Holds a few constant tensors (the replication
 * matrices used when L > 1); call dispose() when done.
 */
export class SgvbGradient extends ShardGradient {
  protected backprop(p: ParamTensors, s: ShardInputs, write: GradWriter, withValue: boolean): ShardValue {
    const { cfg } = this;
    const B = s.b,
      L = s.l,
      J = cfg.latent,
      D = cfg.inputSize;
    const c = this.constants(),
      half = c.half;
    // ×1/L only when L > 1 (a multiply over [D, LB] is not free).
    const invL = L > 1 ? tf.scalar(1 / L) : null;
    const perSample = <T extends tf.Tensor>(t: T): T => (invL ? tf.mul(t, invL) : t);

    // ---- Encoder q_φ(z|x): h = act(W3 x + b3) (each hidden layer); μ = W4 h + b4; log σ² = W5 h + b5 ----
    const x = tf.tensor2d(s.xCols, [D, B]); // [D, B]
    const enc = this.encoderForward(p, x);
    const { mu, logvar } = enc;
    const sigma = tf.exp(tf.mul(half, logvar)); // [J, B]

    // ---- Reparameterisation z = μ + σ ⊙ ε, L samples per datapoint: columns l·B + i ----
    const rep = L > 1 ? this.replicator(B, L) : null;
    const tileL = (t: tf.Tensor) => (rep ? tf.matMul(t as tf.Tensor2D, rep.R) : t); // [·, B] → [·, L·B]
    const sumL = (t: tf.Tensor) => (rep ? tf.matMul(t as tf.Tensor2D, rep.RT) : t); // [·, L·B] → [·, B]
    const eps = tf.tensor2d(s.eps, [J, L * B]); // [J, LB]
    const sigmaL = tileL(sigma); // [J, LB]
    const z = tf.add(tileL(mu), tf.mul(sigmaL, eps)); // [J, LB]

    // ---- Decoder p_θ(x|z) and ∂ log p(x|z)/∂(its output), scaled by 1/L ----
    const hid = this.decoderHidden(p, z); // a_k, h_k; hd [H_1, LB]
    const xL = L > 1 ? tf.tensor2d(s.xColsTiled, [D, L * B]) : x; // [D, LB]
    const dec = this.decoderHead(p, hid.hd, xL, perSample, withValue);
    const gA1 = this.decoderBackward(p, z, hid, dec, write); // [H_1, LB]
    let gZ: tf.Tensor = tf.matMul(transposed(p, this.layers.decoder.hidden[0].W), gA1); // [J, LB]
    if (cfg.estimator === 'A') gZ = tf.sub(gZ, perSample(z)); // + ∂ log p(z)/∂z = −z, per sample 1/L

    // ---- Back through z = μ + σ ε to μ and log σ² (∂σ/∂ log σ² = σ/2) ----
    let gMu = sumL(gZ); // [J, B]
    let gLogvar = tf.mul(tf.mul(sumL(tf.mul(gZ, eps)), sigma), half); // [J, B]
    if (cfg.estimator === 'B') {
      // −KL = ½ Σ (1 + log σ² − μ² − σ²):  ∂/∂μ = −μ,  ∂/∂ log σ² = ½ (1 − σ²)
      gMu = tf.sub(gMu, mu);
      gLogvar = tf.add(gLogvar, tf.mul(half, tf.sub(c.one, tf.square(sigma))));
    } else {
      // −log q(z|x) = Σ_j ½ (log 2π + log σ_j² + ε_j²): ∂/∂ log σ² = ½ for each of L samples × 1/L
      gLogvar = tf.add(gLogvar, half);
    }

    // ---- Encoder backward ----
    this.encoderBackward(p, enc, gMu, gLogvar, tf.tensor2d(s.xRows, [B, D]), write);

    if (!withValue) return { elbo: NaN, recon: NaN, kl: NaN };
    const recon = readScalar(dec.value!) / L;
    const kl =
      cfg.estimator === 'B'
        ? analyticKl(mu, sigma, logvar, c)
        : // (1/L) Σ_l [log q(z_l|x) − log p(z_l)] = (1/L) Σ ½ (z² − log σ² − ε²)
          readScalar(tf.mul(half, tf.sum(tf.sub(tf.square(z), tf.add(tileL(logvar), tf.square(eps)))))) / L;
    return { elbo: recon - kl, recon, kl };
  }
}

/** KL(q(z|x) ‖ N(0, I)) summed over the shard, analytic: ½ Σ (μ² + σ² − 1 − log σ²). */
export function analyticKl(mu: tf.Tensor, sigma: tf.Tensor, logvar: tf.Tensor, c: Scalars): number {
  return readScalar(tf.mul(c.half, tf.sum(tf.sub(tf.add(tf.square(mu), tf.square(sigma)), tf.add(c.one, logvar)))));
}
