/**
 * The SGVB gradient on aevb's own WASM SIMD kernels (src/kernels/step.as.ts), for any list of layers
 * (layers.ts): the default path of a training step. TensorFlow.js (gradients.ts) is the reference the
 * tests hold it against.
 *
 * Why not tfjs here. Every worker reads θ straight from the step's memory (the pool's one shared copy,
 * which stays in the last-level cache for all of them): nothing is uploaded, packed or transposed per
 * step, and each gradient is accumulated straight into the worker's slot. Activations live in this
 * worker's scratch region of the same memory.
 *
 * Rows, not columns. A datapoint is a row: X [B, D], a layer's output Y [B, out]. With W [out, in] as
 * stored (the paper's W·x), the three products of a dense layer y = act(W x + b) are
 *   forward          A  = X · Wᵀ            gemm_nt  (dot products along the rows of X and of W)
 *   into the input   ∂X = ∂A · W            gemm_nn
 *   weight gradient  ∂W += ∂Aᵀ · X          gemm_tn  (k runs over the rows: a rank-B update of the slot)
 * so no product needs Wᵀ: the aevb path keeps no mirror of transposed weights.
 *
 * The estimators (docs/method.md), per datapoint i and sample l, z_il = μ_i + σ_i ⊙ ε_il:
 *   B: ℒ̃ᴮ = ½ Σ_j (1 + log σ_j² − μ_j² − σ_j²) + (1/L) Σ_l log p(x|z_l)          (eq. 10)
 *   A: ℒ̃ᴬ = (1/L) Σ_l [log p(x|z_l) + log p(z_l) − log q(z_l|x)]                  (eq. 7)
 * The result is ∇ of the SUM over the shard (workers return sums; the update divides by M).
 *
 * Chunks. The shard is processed CHUNK_ROWS decoder rows (Bc datapoints × L samples) at a time: the
 * scratch is then bounded whatever M and L are (the message path and LocalTrainer see whole
 * minibatches), and a chunk's activations stay in cache. The first chunk writes the slot, later ones add.
 */
import type { Activation } from '../training/config.ts';
import { argumentError } from '../errors.ts';
import type { ShardInputs } from '../training/minibatch.ts';
import type { ParamLayout } from './layout.ts';
import { ACTIVATION_CODE, type StepExports } from '../../kernels/step_kernel.ts';
import { headLayers, modelLayers, type DenseLayer, type LayerConfig, type ModelLayers } from './layers.ts';

/** The kernels this gradient calls: src/kernels/step.as.ts's exports (pointers in bytes, ld in elements). */
export type StepKernelOps = StepExports;

/** Sums over the shard (not means): ELBO = reconstruction − KL. NaN where not computed. */
export interface KernelShardValue {
  elbo: number;
  recon: number;
  kl: number;
}

export type KernelModelCfg = LayerConfig & {
  activation: Activation | readonly Activation[];
  sigmoidMean: boolean;
  estimator: 'A' | 'B';
  samples: number;
};

/** The kernels' activation codes. */
const ACT: Readonly<Record<Activation, number>> = ACTIVATION_CODE;

/** Decoder rows (datapoints × samples) per chunk. */
export const CHUNK_ROWS = 128;

/** Datapoints per chunk for L samples each (at least one, so L > CHUNK_ROWS gives chunks of L rows). */
export function chunkPoints(L: number): number {
  return Math.max(1, Math.floor(CHUNK_ROWS / L));
}

const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

/** Byte offsets (from the scratch base) of one chunk's arrays, and the scratch's size. */
export interface ScratchPlan {
  readonly bytes: number;
  /** Input rows X [Bc, D]. */
  readonly x: number;
  /** Encoder hidden outputs, one [Bc, H_k] per layer. */
  readonly enc: readonly number[];
  readonly mu: number;
  readonly logvar: number;
  /** ε and z, [R, J] with row l·Bc + i. */
  readonly eps: number;
  readonly z: number;
  /** Decoder hidden outputs, one [R, width] per layer. */
  readonly dec: readonly number[];
  /** The head's outputs [R, D] (Gaussian: mean, then log-variance). */
  readonly head: readonly number[];
  /** Two [R, maxWidth] buffers for ∂/∂(a layer's output), used in turn. */
  readonly gA: number;
  readonly gB: number;
  /** ∂/∂μ and ∂/∂ log σ², [Bc, J]. */
  readonly gMu: number;
  readonly gLogvar: number;
}

export function scratchPlan(
  cfg: Pick<KernelModelCfg, 'inputSize' | 'hidden' | 'latent' | 'decoder' | 'samples'>,
  layers: ModelLayers = modelLayers(cfg),
): ScratchPlan {
  const L = cfg.samples,
    Bc = chunkPoints(L),
    R = Bc * L,
    D = cfg.inputSize,
    J = cfg.latent;
  let at = 0;
  const take = (floats: number) => {
    const p = at;
    at += align16(floats * 4);
    return p;
  };
  const maxW = Math.max(J, ...layers.encoder.hidden.map((l) => l.out));
  const x = take(Bc * D);
  const enc = layers.encoder.hidden.map((l) => take(Bc * l.out));
  const mu = take(Bc * J),
    logvar = take(Bc * J);
  const eps = take(R * J),
    z = take(R * J);
  const dec = layers.decoder.hidden.map((l) => take(R * l.out));
  const head = headLayers(layers.decoder.head).map(() => take(R * D));
  const gA = take(R * maxW),
    gB = take(R * maxW);
  const gMu = take(Bc * J),
    gLogvar = take(Bc * J);
  return Object.freeze({ bytes: at, x, enc, mu, logvar, eps, z, dec, head, gA, gB, gMu, gLogvar });
}

/**
 * ∇ Σ_shard ℒ̃ on the kernels, reading θ at `params` and writing the gradient at `grad` (byte offsets
 * into the kernels' memory, layout order), with this worker's scratch at `scratch`.
 */
export class KernelGradient {
  readonly layers: ModelLayers;
  readonly plan: ScratchPlan;
  private readonly view: () => Float32Array;

  constructor(
    readonly cfg: KernelModelCfg,
    readonly layout: ParamLayout,
    readonly k: StepKernelOps,
    readonly memory: WebAssembly.Memory,
    readonly scratch: number,
  ) {
    this.layers = modelLayers(cfg);
    this.plan = scratchPlan(cfg, this.layers);
    // A memory's buffer is replaced when it grows (ours never do, but a view must not go stale).
    let cached: Float32Array | null = null;
    this.view = () => (cached && cached.buffer === memory.buffer ? cached : (cached = new Float32Array(memory.buffer)));
  }

  compute(params: number, s: ShardInputs, grad: number, withValue: boolean): KernelShardValue {
    const { cfg } = this,
      B = s.b,
      L = s.l,
      Bc = chunkPoints(L);
    // The scratch was planned for the config's L: another L gives chunks of another size, which would be
    // written past the plan's arrays (and past the scratch, into a neighbour's region).
    if (L !== cfg.samples) {
      throw argumentError(
        `The shard has ${L} samples per datapoint, but this gradient's scratch is planned for L = samples = ${cfg.samples}.`,
        'Build the shard with the config the gradient was made with (buildShard(cfg, …)).',
      );
    }
    let recon = 0,
      kl = 0;
    for (let i0 = 0, first = true; i0 < B; i0 += Bc, first = false) {
      const v = this.chunk(params, s, i0, Math.min(B, i0 + Bc), grad, first ? 0 : 1, withValue);
      recon += v.recon;
      kl += v.kl;
    }
    if (B === 0) this.zero(grad);
    if (!withValue) return { elbo: NaN, recon: NaN, kl: NaN };
    return { elbo: recon - kl, recon, kl };
  }

  private zero(grad: number): void {
    this.view().fill(0, grad / 4, grad / 4 + this.layout.size);
  }

  private W(params: number, l: DenseLayer): number {
    return params + this.layout.byName(l.W).offset * 4;
  }
  private b(params: number, l: DenseLayer): number {
    return params + this.layout.byName(l.b).offset * 4;
  }

  /** Datapoints [i0, i1) of the shard: forward, backward into the slot (acc: add to it), and the value's terms. */
  private chunk(params: number, s: ShardInputs, i0: number, i1: number, grad: number, acc: number, withValue: boolean) {
    const { k, cfg, layers } = this,
      P = this.plan,
      base = this.scratch,
      f = this.view();
    const D = cfg.inputSize,
      J = cfg.latent,
      L = s.l,
      B = s.b,
      b = i1 - i0,
      r = b * L;
    const at = (off: number) => base + off;
    const W = (l: DenseLayer) => this.W(params, l),
      bias = (l: DenseLayer) => this.b(params, l);
    const gW = (l: DenseLayer) => this.W(grad, l),
      gb = (l: DenseLayer) => this.b(grad, l);

    // ---- inputs: X rows, ε as rows l·b + i (the shard keeps ε as columns [J, L·B], column l·B + i) ----
    f.set(s.xRows.subarray(i0 * D, i1 * D), at(P.x) / 4);
    const eps = at(P.eps) / 4;
    for (let l = 0; l < L; l++) {
      for (let i = 0; i < b; i++) {
        const row = eps + (l * b + i) * J,
          col = l * B + i0 + i;
        for (let j = 0; j < J; j++) f[row + j] = s.eps[j * L * B + col];
      }
    }

    // ---- encoder q_φ(z|x): h_k = act(W h_{k−1} + b) … ; μ = W4 h_n + b4; log σ² = W5 h_n + b5 ----
    let input = at(P.x),
      width = D;
    layers.encoder.hidden.forEach((l, n) => {
      const out = at(P.enc[n]);
      k.gemm_nt(b, l.out, l.in, input, l.in, W(l), l.in, out, l.out, 0);
      k.bias_act(b, l.out, out, l.out, bias(l), ACT[l.activation]);
      input = out;
      width = l.out;
    });
    const { mu: muL, logvar: lvL } = layers.encoder;
    k.gemm_nt(b, J, width, input, width, W(muL), width, at(P.mu), J, 0);
    k.bias_act(b, J, at(P.mu), J, bias(muL), ACT.linear);
    k.gemm_nt(b, J, width, input, width, W(lvL), width, at(P.logvar), J, 0);
    k.bias_act(b, J, at(P.logvar), J, bias(lvL), ACT.linear);

    // ---- z = μ + σ ⊙ ε, σ = exp(½ log σ²) (b·J values: plain JS) ----
    const mu = at(P.mu) / 4,
      lv = at(P.logvar) / 4,
      z = at(P.z) / 4;
    for (let l = 0; l < L; l++) {
      for (let i = 0; i < b; i++) {
        for (let j = 0; j < J; j++) {
          const e = (l * b + i) * J + j,
            q = i * J + j;
          f[z + e] = f[mu + q] + Math.exp(0.5 * f[lv + q]) * f[eps + e];
        }
      }
    }

    // ---- decoder p_θ(x|z): hidden layers on r = b·L rows, then the head ----
    input = at(P.z);
    width = J;
    layers.decoder.hidden.forEach((l, n) => {
      const out = at(P.dec[n]);
      k.gemm_nt(r, l.out, l.in, input, l.in, W(l), l.in, out, l.out, 0);
      k.bias_act(r, l.out, out, l.out, bias(l), ACT[l.activation]);
      input = out;
      width = l.out;
    });
    const heads = headLayers(layers.decoder.head);
    heads.forEach((l, n) => {
      k.gemm_nt(r, D, width, input, width, W(l), width, at(P.head[n]), D, 0);
      k.bias_act(r, D, at(P.head[n]), D, bias(l), ACT.linear);
    });
    // ∂ log p(x|z)/∂(head outputs), ×1/L per sample, in place; Σ log p(x|z_l) if asked. Sample l's rows
    // [l·b, (l+1)·b) all have the targets X.
    let logp = 0;
    const invL = 1 / L,
      value = withValue ? 1 : 0;
    for (let l = 0; l < L; l++) {
      const o = l * b * D * 4;
      logp +=
        cfg.decoder === 'bernoulli'
          ? k.bernoulli_head(b, D, at(P.head[0]) + o, D, at(P.x), D, invL, value)
          : k.gaussian_head(b, D, at(P.head[0]) + o, D, at(P.head[1]) + o, D, at(P.x), D, cfg.sigmoidMean ? 1 : 0, invL, value);
    }

    // ---- decoder backward: heads' weights, then ∂/∂h' = Σ_heads ∂out · W ----
    heads.forEach((l, n) => {
      k.gemm_tn(D, width, r, at(P.head[n]), D, input, width, gW(l), width, acc);
      k.col_sum(r, D, at(P.head[n]), D, gb(l), acc);
    });
    let gA = at(P.gA),
      gB = at(P.gB);
    heads.forEach((l, n) => k.gemm_nn(r, width, D, at(P.head[n]), D, W(l), width, gA, width, n === 0 ? 0 : 1));
    for (let n = layers.decoder.hidden.length - 1; n >= 0; n--) {
      const l = layers.decoder.hidden[n],
        below = n === 0 ? at(P.z) : at(P.dec[n - 1]);
      k.act_grad(r, l.out, gA, l.out, at(P.dec[n]), l.out, ACT[l.activation]); // ∂/∂a = ∂/∂h ⊙ act'(a)
      k.gemm_tn(l.out, l.in, r, gA, l.out, below, l.in, gW(l), l.in, acc); // ∂W += ∂aᵀ · input
      k.col_sum(r, l.out, gA, l.out, gb(l), acc);
      k.gemm_nn(r, l.in, l.out, gA, l.out, W(l), l.in, gB, l.in, 0); // ∂/∂input = ∂a · W
      [gA, gB] = [gB, gA];
    }
    // gA now holds ∂ log p(x|z)/∂z (×1/L) as rows [r, J].

    // ---- back through z = μ + σ ε, plus the estimator's own terms (b·L·J values: plain JS) ----
    const gz = gA / 4,
      gMu = at(P.gMu) / 4,
      gLv = at(P.gLogvar) / 4;
    let klSum = 0;
    for (let i = 0; i < b; i++) {
      for (let j = 0; j < J; j++) {
        const q = i * J + j,
          m = f[mu + q],
          logv = f[lv + q],
          sigma = Math.exp(0.5 * logv);
        let sMu = 0,
          sLv = 0;
        for (let l = 0; l < L; l++) {
          const e = (l * b + i) * J + j;
          // A: + ∂ log p(z)/∂z = −z, per sample ×1/L
          const g = cfg.estimator === 'A' ? f[gz + e] - f[z + e] * invL : f[gz + e];
          sMu += g;
          sLv += g * f[eps + e];
          if (withValue && cfg.estimator === 'A') klSum += 0.5 * (f[z + e] ** 2 - logv - f[eps + e] ** 2) * invL;
        }
        sLv *= 0.5 * sigma; // ∂σ/∂ log σ² = σ/2
        if (cfg.estimator === 'B') {
          // −KL = ½ Σ (1 + log σ² − μ² − σ²): ∂/∂μ = −μ, ∂/∂ log σ² = ½ (1 − σ²)
          sMu -= m;
          sLv += 0.5 * (1 - sigma * sigma);
          if (withValue) klSum += 0.5 * (m * m + sigma * sigma - 1 - logv);
        } else {
          sLv += 0.5; // −log q: ½ per sample × L × 1/L
        }
        f[gMu + q] = sMu;
        f[gLv + q] = sLv;
      }
    }

    // ---- encoder backward: the Gaussian head, then the hidden layers down to the first ----
    const enc = layers.encoder.hidden,
      nEnc = enc.length,
      hn = at(P.enc[nEnc - 1]),
      Hn = enc[nEnc - 1].out;
    k.gemm_tn(J, Hn, b, at(P.gMu), J, hn, Hn, gW(muL), Hn, acc);
    k.col_sum(b, J, at(P.gMu), J, gb(muL), acc);
    k.gemm_tn(J, Hn, b, at(P.gLogvar), J, hn, Hn, gW(lvL), Hn, acc);
    k.col_sum(b, J, at(P.gLogvar), J, gb(lvL), acc);
    gA = at(P.gA);
    gB = at(P.gB);
    k.gemm_nn(b, Hn, J, at(P.gMu), J, W(muL), Hn, gA, Hn, 0);
    k.gemm_nn(b, Hn, J, at(P.gLogvar), J, W(lvL), Hn, gA, Hn, 1);
    for (let n = nEnc - 1; n >= 0; n--) {
      const l = enc[n],
        below = n === 0 ? at(P.x) : at(P.enc[n - 1]);
      k.act_grad(b, l.out, gA, l.out, at(P.enc[n]), l.out, ACT[l.activation]);
      k.gemm_tn(l.out, l.in, b, gA, l.out, below, l.in, gW(l), l.in, acc);
      k.col_sum(b, l.out, gA, l.out, gb(l), acc);
      if (n > 0) {
        k.gemm_nn(b, l.in, l.out, gA, l.out, W(l), l.in, gB, l.in, 0);
        [gA, gB] = [gB, gA];
      }
    }
    return { recon: logp * invL, kl: klSum };
  }
}
