/**
 * The update rules of Algorithm 1, on flat Float32Arrays in the layout's order. Each works on any
 * slice [start, end) of the vector, so the pool can give every worker its own slice of θ, of the
 * gradient and of the optimizer state and update them in parallel.
 *
 * The gradient passed in is the SUM over the minibatch of ∇ℒ̃(x) (workers return sums); one place
 * (here) turns it into the descent direction of the per-datapoint loss:
 *     g = gradScale · Σ_i ∇ℒ̃(x_i) + λ θ,     gradScale = −1/M
 * (the minus: we maximise the ELBO; λθ: the gradient of a N(0, 1/λ) prior on θ, see config.ts).
 */
import type { OptimizerKind } from './config.ts';

export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const ADAM_EPS = 1e-8;
export const ADAGRAD_EPS = 1e-8;

/** Names of the state vectors each rule keeps, each as long as θ. */
export const OPTIMIZER_SLOTS: Readonly<Record<OptimizerKind, readonly string[]>> = Object.freeze({
  sgd: [],
  adagrad: ['sumSquares'],   // G_t = Σ_τ g_τ², Duchi et al. 2011
  adam: ['m', 'v'],          // first and second moment estimates, Kingma & Ba 2015
});

export interface UpdateArgs {
  kind: OptimizerKind;
  /** θ, updated in place. */
  params: Float32Array;
  /** Σ_i ∇ℒ̃(x_i) over the minibatch. */
  gradSum: Float32Array;
  /** The rule's state vectors, in OPTIMIZER_SLOTS order, updated in place. */
  slots: readonly Float32Array[];
  /** Multiplies gradSum; −1/M for the per-datapoint loss. */
  gradScale: number;
  /** Step size. */
  lr: number;
  /** λ, the weight decay. */
  weightDecay: number;
  /** 1-based number of this update (Adam's bias correction). */
  t: number;
  /** Slice to update: [start, end). */
  start: number;
  end: number;
  /**
   * Where the new θ and state go; in place when left out. The pool reads step t's state from one
   * buffer and writes step t+1's into the other, so a step that fails half-way changes nothing.
   */
  out?: { params: Float32Array; slots: readonly Float32Array[] };
}

/** Apply one update to θ[start, end). Pure arithmetic on the arrays given; no allocation. */
export function applyUpdate(a: UpdateArgs): void {
  const { params: p, gradSum, gradScale: s, lr, weightDecay: wd, start, end } = a;
  const q = a.out?.params ?? p;           // new θ
  const outSlots = a.out?.slots ?? a.slots;
  switch (a.kind) {
    case 'sgd':
      // θ ← θ − η g
      for (let i = start; i < end; i++) q[i] = p[i] - lr * (s * gradSum[i] + wd * p[i]);
      return;
    case 'adagrad': {
      // G ← G + g²;  θ ← θ − η g / (√G + ε)
      const G = a.slots[0], G2 = outSlots[0];
      for (let i = start; i < end; i++) {
        const g = s * gradSum[i] + wd * p[i];
        const Gi = G[i] + g * g;
        G2[i] = Gi;
        q[i] = p[i] - (lr * g) / (Math.sqrt(Gi) + ADAGRAD_EPS);
      }
      return;
    }
    case 'adam': {
      // m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;  θ ← θ − η m̂ / (√v̂ + ε), hats: bias-corrected
      const m = a.slots[0], v = a.slots[1], m2 = outSlots[0], v2 = outSlots[1];
      const c1 = 1 - Math.pow(ADAM_BETA1, a.t), c2 = 1 - Math.pow(ADAM_BETA2, a.t);
      for (let i = start; i < end; i++) {
        const g = s * gradSum[i] + wd * p[i];
        const mi = ADAM_BETA1 * m[i] + (1 - ADAM_BETA1) * g;
        const vi = ADAM_BETA2 * v[i] + (1 - ADAM_BETA2) * g * g;
        m2[i] = mi; v2[i] = vi;
        q[i] = p[i] - (lr * (mi / c1)) / (Math.sqrt(vi / c2) + ADAM_EPS);
      }
      return;
    }
  }
}

/**
 * gradSum[start, end) = Σ_w slots[w][start, end), summed in worker order w = 0, 1, … in double
 * precision: the one reduction of the pool, the same on every path (shared memory or messages).
 * Returns whether every sum is finite (x − x is 0 only for finite x), so no second pass is needed.
 * Loops for 2, 3 and 4 slots are written out: this runs on every step over the whole slice, and a
 * tight loop over fixed arrays is several times faster in V8 than an inner loop over an array of arrays.
 */
export function sumGradientSlots(slots: readonly Float32Array[], out: Float32Array, start: number, end: number): boolean {
  let check = 0;
  const [a, b, c, d] = slots;
  switch (slots.length) {
    case 1:
      if (a !== out) out.set(a.subarray(start, end), start);
      for (let i = start; i < end; i++) check += out[i] - out[i];
      break;
    case 2:
      for (let i = start; i < end; i++) { const v = a[i] + b[i]; out[i] = v; check += v - v; }
      break;
    case 3:
      for (let i = start; i < end; i++) { const v = a[i] + b[i] + c[i]; out[i] = v; check += v - v; }
      break;
    case 4:
      for (let i = start; i < end; i++) { const v = a[i] + b[i] + c[i] + d[i]; out[i] = v; check += v - v; }
      break;
    default:
      for (let i = start; i < end; i++) {
        let v = 0;
        for (let w = 0; w < slots.length; w++) v += slots[w][i];
        out[i] = v;
        check += v - v;
      }
  }
  return check === 0;
}

/** Fresh (zero) state for a rule over n parameters. */
export function createSlots(kind: OptimizerKind, n: number): Float32Array[] {
  return OPTIMIZER_SLOTS[kind].map(() => new Float32Array(n));
}

/** Index of the first NaN or ±Inf in a[start, end), or −1. (x − x is 0 only for finite x.) */
export function firstNonFinite(a: Float32Array, start = 0, end = a.length): number {
  for (let i = start; i < end; i++) if (a[i] - a[i] !== 0) return i;
  return -1;
}
