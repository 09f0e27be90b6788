/**
 * The update rules of Algorithm 1: their constants and the state vectors each keeps. The rules
 * themselves run as WASM SIMD kernels (src/kernels/update.as.ts, where the maths is written out),
 * called through step_update.ts by every path.
 */
import type { OptimizerKind } from './config.ts';

export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const ADAM_EPS = 1e-8;
export const ADAGRAD_EPS = 1e-8;

/** Names of the state vectors each rule keeps, each as long as θ. */
export const OPTIMIZER_SLOTS: Readonly<Record<OptimizerKind, readonly string[]>> = Object.freeze({
  sgd: [],
  adagrad: ['sumSquares'], // G_t = Σ_τ g_τ², Duchi et al. 2011
  adam: ['m', 'v'], // first and second moment estimates, Kingma & Ba 2015
});

/** Index of the first NaN or ±Inf in a[start, end), or −1. (x − x is 0 only for finite x.) */
export function firstNonFinite(a: Float32Array, start = 0, end = a.length): number {
  for (let i = start; i < end; i++) if (a[i] - a[i] !== 0) return i;
  return -1;
}
