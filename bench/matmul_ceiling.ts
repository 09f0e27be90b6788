/**
 * The matMul ceiling of one training step: every matMul of the production step (gradients.ts,
 * Bernoulli decoder, L = 1) as [m, k] × [k, n], timed alone on the current backend.
 *
 * FLOPs per datapoint, 2 per multiply-add, D inputs, H hidden, J latent:
 *   forward            2 (DH + 2JH + JH + HD)     W3·x, W4·h and W5·h, W1·z, W2·hd
 *   weight gradients   2 (DH + 2JH + JH + HD)     one per forward matMul
 *   input gradients    2 (HD + JH + 2JH)          W2ᵀ·g, W1ᵀ·g, W4ᵀ·g and W5ᵀ·g (none for x)
 *   total              2 (5DH + 9JH)
 */
import * as tf from '@tensorflow/tfjs-core';

export interface MatMulShape {
  /** Which products of the step have this shape. */
  readonly label: string;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** How many matMuls of this shape one step does. */
  readonly count: number;
}

export const matMulFlops = (s: MatMulShape) => 2 * s.m * s.k * s.n;

/** 2 (5DH + 9JH): FLOPs per datapoint of a forward and backward pass (see the header). */
export function flopsPerSample(D: number, H: number, J: number): number {
  return 2 * (D * H + 2 * J * H + J * H + H * D) + 2 * (D * H + 2 * J * H + J * H + H * D) + 2 * (H * D + J * H + 2 * J * H);
}

/** The matMuls of one production step on a shard of B datapoints, activations as columns [features, B]. */
export function stepMatMuls(D: number, H: number, J: number, B: number): MatMulShape[] {
  const shapes: MatMulShape[] = [
    { label: 'W3·x, W2ᵀ·gℓ', m: H, k: D, n: B, count: 2 },
    { label: 'W4·h, W5·h, W1ᵀ·gA1', m: J, k: H, n: B, count: 3 },
    { label: 'W1·z, W4ᵀ·gμ, W5ᵀ·gσ', m: H, k: J, n: B, count: 3 },
    { label: 'W2·hd', m: D, k: H, n: B, count: 1 },
    { label: 'gW2 = gℓ·hdᵀ', m: D, k: B, n: H, count: 1 },
    { label: 'gW1 = gA1·zᵀ', m: H, k: B, n: J, count: 1 },
    { label: 'gW4, gW5 = g·hᵀ', m: J, k: B, n: H, count: 2 },
    { label: 'gW3 = gA3·xᵀ', m: H, k: B, n: D, count: 1 },
  ];
  const total = shapes.reduce((a, s) => a + s.count * matMulFlops(s), 0);
  if (total !== B * flopsPerSample(D, H, J)) {
    throw new Error(`stepMatMuls and flopsPerSample disagree: ${total} vs ${B * flopsPerSample(D, H, J)} FLOPs per step`);
  }
  return shapes;
}

/** Milliseconds per call of one shape, alone. */
export interface IsolatedTiming {
  /** Both operands persistent tensors: XNNPACK packs the right operand once (the pure ceiling). */
  cachedMs: number;
  /** The right operand a new tensor every call, as in a step (upload + packing included). */
  freshRightMs: number;
}

function randomValues(n: number, seed: number): Float32Array {
  const v = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    v[i] = s / 2 ** 32 - 0.5;
  }
  return v;
}

function msPerCall(fn: () => void, minMs: number, minCalls: number): number {
  const t0 = performance.now();
  let n = 0,
    ms = 0;
  do {
    fn();
    n++;
    ms = performance.now() - t0;
  } while (n < minCalls || ms < minMs);
  return ms / n;
}

/**
 * Each of a step's matMul shapes alone on the current backend, with persistent operands, so that
 * a measurement can be repeated between other measurements (one "round" of the benchmark).
 * Holds tensors until dispose().
 */
export class MatMulBench {
  private readonly ops: Array<{ a: tf.Tensor2D; b: tf.Tensor2D; cached: () => void; fresh: () => void }>;

  constructor(readonly shapes: readonly MatMulShape[]) {
    this.ops = shapes.map((s, i) => {
      const aVals = randomValues(s.m * s.k, 2 * i + 1),
        bVals = randomValues(s.k * s.n, 2 * i + 2);
      const a = tf.tensor2d(aVals, [s.m, s.k]),
        b = tf.tensor2d(bVals, [s.k, s.n]);
      const cached = () => tf.matMul(a, b).dispose();
      const fresh = () => {
        const bt = tf.tensor2d(bVals, [s.k, s.n]);
        tf.matMul(a, bt).dispose();
        bt.dispose();
      };
      return { a, b, cached, fresh };
    });
  }

  /** Every shape, cached and with a fresh right operand, each for at least minMs. */
  measure(minMs: number): IsolatedTiming[] {
    return this.ops.map((o) => ({ cachedMs: msPerCall(o.cached, minMs, 3), freshRightMs: msPerCall(o.fresh, minMs, 3) }));
  }

  dispose(): void {
    for (const o of this.ops) {
      o.a.dispose();
      o.b.dispose();
    }
  }
}

/** FLOP-weighted aggregate GFLOP/s of a step's matMuls: Σ count·FLOPs / Σ count·time. */
export function aggregateGflops(shapes: readonly MatMulShape[], msPerCallOf: (i: number) => number): number {
  let flops = 0,
    ms = 0;
  shapes.forEach((s, i) => {
    flops += s.count * matMulFlops(s);
    ms += s.count * msPerCallOf(i);
  });
  return flops / (ms * 1e6);
}
