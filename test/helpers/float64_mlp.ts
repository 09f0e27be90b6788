/**
 * The model's pieces in plain float64 JavaScript, for the finite-difference references of the SGVB and the
 * wake-sleep gradients (independent of tfjs: loops over the flat parameter vector θ).
 */
import type { TrainConfig } from '../../src/shared/training/config.ts';
import type { RefLayer } from './reference_layers.ts';

export const LOG_2PI = Math.log(2 * Math.PI);

export function act(kind: Exclude<TrainConfig['activation'], unknown[]>, a: number): number {
  return kind === 'tanh' ? Math.tanh(a) : kind === 'relu' ? Math.max(0, a) : a;
}
/** softplus(a) = log(1 + e^a), stable for large |a|. */
export const softplus = (a: number) => (a > 0 ? a + Math.log1p(Math.exp(-a)) : Math.log1p(Math.exp(a)));
export const sigmoid = (a: number) => 1 / (1 + Math.exp(-a));

/** y = W v + b for W [out, in] stored row-major at `w`, b at `b` (offsets into θ); pre-activations into `pre`. */
export function affine(theta: Float64Array, w: number, b: number, out: number, v: number[], pre: number[]): number[] {
  const n = v.length,
    y = new Array<number>(out);
  for (let o = 0; o < out; o++) {
    let s = theta[b + o];
    for (let k = 0; k < n; k++) s += theta[w + o * n + k] * v[k];
    y[o] = s;
    pre.push(s);
  }
  return y;
}

/** v through the hidden layers `chain` (reference_layers.ts): v ← act_k(W_k v + b_k); every pre-activation into `pre`. */
export function hiddenLayers(
  theta: Float64Array,
  offset: (name: string) => number,
  chain: readonly RefLayer[],
  v: number[],
  pre: number[],
): number[] {
  for (const l of chain) v = affine(theta, offset(l.W), offset(l.b), l.out, v, pre).map((a) => act(l.act, a));
  return v;
}
