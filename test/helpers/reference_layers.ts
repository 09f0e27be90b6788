/**
 * The hidden layers of the model's two MLPs, written out for the tests' references (tfjs autodiff and the
 * float64 finite-difference objectives) from docs/method.md's rule, not from src/shared/model/layers.ts,
 * so that a wrong name, width or activation there shows up as a gradient mismatch here.
 *
 *   hidden widths H_1 … H_n with activations a_1 … a_n (one value: the same for every layer)
 *   encoder layer k (from x):  enc.W3 / enc.b3 for k = 1, enc.W3_k / enc.b3_k for k ≥ 2, width H_k, act a_k
 *   decoder layer k (from z):  dec.W1 / dec.b1 for k = 1, dec.W1_k / dec.b1_k for k ≥ 2, width H_{n−k+1}, act a_{n−k+1}
 */
import type { Activation, ModelConfig } from '../../src/shared/training/config.ts';

export interface RefLayer {
  W: string;
  b: string;
  out: number;
  act: Activation;
}

export function referenceHidden(cfg: Pick<ModelConfig, 'hidden' | 'activation'>, mlp: 'enc' | 'dec'): RefLayer[] {
  const H = typeof cfg.hidden === 'number' ? [cfg.hidden] : [...cfg.hidden];
  const n = H.length;
  const A =
    typeof cfg.activation === 'string'
      ? H.map(() => cfg.activation as Activation)
      : cfg.activation.length === 1
        ? H.map(() => cfg.activation[0] as Activation)
        : [...cfg.activation];
  const w = mlp === 'enc' ? 'W3' : 'W1',
    b = mlp === 'enc' ? 'b3' : 'b1';
  return H.map((_, i) => {
    const k = i + 1,
      e = mlp === 'enc' ? i : n - 1 - i,
      suffix = k === 1 ? '' : `_${k}`;
    return { W: `${mlp}.${w}${suffix}`, b: `${mlp}.${b}${suffix}`, out: H[e], act: A[e] };
  });
}
