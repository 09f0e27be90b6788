// The transcendental functions of the step's epilogues, four lanes at a time (AssemblyScript; see step.as.ts).
//
// Cephes-style (S. L. Moshier, Cephes Math Library, expf.c / logf.c / tanhf.c): range reduction, then a
// minimax polynomial on a small interval; a few float32 ulp from the true value over the whole range
// (test/kernels/step_epilogues.test.ts measures it against float64). No input gives NaN or ±Inf where the true
// value is finite; NaN in gives NaN out.
import { madd } from './step_lanes.as';

// @ts-ignore: decorator
@inline function k(x: f32): v128 { return f32x4.splat(x); }

// e^x.  x = n ln2 + r, n = round(x / ln2), |r| ≤ ln2 / 2;  e^r by a degree-7 polynomial;  e^x = e^r · 2^n.
// ln2 = C1 + C2 with C1 = 0.693359375 (9 bits, so n·C1 is exact for |n| < 2^15): r = (x − n·C1) − n·C2 keeps
// the reduction exact to float32. x is clamped to [−104, 88.8], beyond which e^x is 0 (below 2^−150) or
// +Inf (above 3.4e38) in float32 anyway; 2^n is applied as 2^⌊n/2⌋ · 2^(n − ⌊n/2⌋), each a normal float, so
// results in the subnormal range and the overflow to +Inf come out right.
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  x = f32x4.max(f32x4.min(x, k(88.8)), k(-104));
  const n = f32x4.nearest(f32x4.mul(x, k(1.44269504088896341)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, k(0.693359375))), f32x4.mul(n, k(-2.12194440e-4)));
  let p = madd(k(1.9875691500e-4), r, k(1.3981999507e-3));
  p = madd(p, r, k(8.3334519073e-3));
  p = madd(p, r, k(4.1665795894e-2));
  p = madd(p, r, k(1.6666665459e-1));
  p = madd(p, r, k(5.0000001201e-1));
  const y = f32x4.add(madd(p, f32x4.mul(r, r), r), k(1)); // 1 + r + r²·p(r)
  const ni = i32x4.trunc_sat_f32x4_s(n);
  const n1 = i32x4.shr_s(ni, 1), n2 = i32x4.sub(ni, n1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23), s2 = i32x4.shl(i32x4.add(n2, i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(y, s1), s2);
}

// log(1 + e) for e ∈ [0, 1] (the softplus's tail).  u = 1 + e ∈ [1, 2] is written u = 2^E (1 + f) with
// 1 + f ∈ [√½, √2) (E = 1 above √2), log u = E ln2 + f − f²/2 + f³ P(f) (Cephes logf's polynomial). The
// rounding of 1 + e loses e's low bits (all of them when e < 2^−24); log1p(e) = log(u) · e / (u − 1), exact
// when u − 1 = 0 as e itself, puts them back (Goldberg 1991, "What every computer scientist should know…").
// @ts-ignore: decorator
@inline export function log1p4(e: v128): v128 {
  const u = f32x4.add(k(1), e);
  const c = f32x4.sub(u, k(1)); // exact: u ∈ [1, 2]
  const big = f32x4.gt(u, k(1.41421356237));
  const f = v128.bitselect(f32x4.sub(f32x4.mul(u, k(0.5)), k(1)), c, big); // exact too (Sterbenz)
  const E = v128.and(big, k(1));
  const z = f32x4.mul(f, f);
  let p = madd(k(7.0376836292e-2), f, k(-1.1514610310e-1));
  p = madd(p, f, k(1.1676998740e-1));
  p = madd(p, f, k(-1.2420140846e-1));
  p = madd(p, f, k(1.4249322787e-1));
  p = madd(p, f, k(-1.6668057665e-1));
  p = madd(p, f, k(2.0000714765e-1));
  p = madd(p, f, k(-2.4999993993e-1));
  p = madd(p, f, k(3.3333331174e-1));
  let y = f32x4.mul(f32x4.mul(p, f), z);
  y = madd(E, k(-2.12194440e-4), y);
  y = madd(z, k(-0.5), y);
  const lu = madd(E, k(0.693359375), f32x4.add(f, y));
  const ratio = f32x4.div(e, c);
  return v128.bitselect(e, f32x4.mul(lu, ratio), f32x4.eq(c, k(0)));
}

// tanh x.  |x| < 0.625: x + x·z·P(z), z = x² (Cephes tanhf's polynomial; no cancellation near 0, where
// 2σ(2x) − 1 would lose the relative accuracy). Else, with e = e^−2|x| ∈ (0, 0.29]: tanh |x| = (1 − e) / (1 + e),
// sign of x copied on; e underflows to 0 for large |x| and the result is exactly ±1.
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = madd(k(-5.70498872745e-3), z, k(2.06390887954e-2));
  p = madd(p, z, k(-5.37397155531e-2));
  p = madd(p, z, k(1.33314422036e-1));
  p = madd(p, z, k(-3.33332819422e-1));
  const small = madd(f32x4.mul(p, z), x, x);
  const e = exp4(f32x4.mul(ax, k(-2)));
  const big = f32x4.div(f32x4.sub(k(1), e), f32x4.add(k(1), e));
  const signed = v128.or(big, v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(small, signed, f32x4.lt(ax, k(0.625)));
}
