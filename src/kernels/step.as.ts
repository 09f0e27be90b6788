// The SGVB step's kernels as WASM SIMD (AssemblyScript): the three GEMMs of a dense layer's forward and
// backward, the bias + activation epilogue and its derivative, a bias's gradient, and the two decoder heads
// (value and gradient of log p(x|z) at once). src/kernels/step_kernel.ts binds them; the step that drives them
// is written in TypeScript over a list of layers.
//
// Built by `npm run build:kernels` (scripts/build-kernels.mjs) into step.wasm.ts, four ways: relaxed SIMD
// (madd is a fused multiply-add) or plain SIMD128 (mul + add), each for a shared and an ordinary memory. Not
// type-checked by tsc (AssemblyScript types: f32, usize, v128).
//
// Conventions. Pointers are byte offsets into the imported memory; matrices are float32, row-major, with
// leading dimensions (ld*) in elements, which may exceed the width. Nothing here allocates, keeps state or
// has data of its own (the module has no data segment and never grows the memory), so it can run on any region
// of a memory that other code owns, and many threads can call it at once on disjoint outputs of one shared
// memory. Every output is computed from its inputs alone in a fixed order: the same call gives the same bits
// on any thread. Tails (M, N, K not multiples of a tile) are handled inside: loads and stores of a row's last
// vector touch only its valid lanes, so nothing is read or written past a row's end.
import { nn_gemm, tn_gemm, nt_gemm } from './step_tiles.as';
import { loadPart, storePart, laneMask } from './step_lanes.as';
import { exp4, log1p4, tanh4 } from './step_math.as';

const ACT_LINEAR = 0;
const ACT_TANH = 1;
const ACT_RELU = 2;

// C[m,n] = (acc ? C[m,n] : 0) + Σ_k A[m·lda + k] · B[n·ldb + k]      (forward: X[B,in] · Wᵀ with W [out,in] as stored)
export function gemm_nt(M: i32, N: i32, K: i32, A: usize, lda: i32, B: usize, ldb: i32, C: usize, ldc: i32, acc: i32): void {
  if (M <= 0 || N <= 0) return;
  nt_gemm(M, N, max(K, 0), A, <usize>lda << 2, B, <usize>ldb << 2, C, <usize>ldc << 2, acc);
}

// C[m,n] = (acc ? C[m,n] : 0) + Σ_k A[m·lda + k] · B[k·ldb + n]      (backward into a layer's input: G[B,out] · W[out,in])
export function gemm_nn(M: i32, N: i32, K: i32, A: usize, lda: i32, B: usize, ldb: i32, C: usize, ldc: i32, acc: i32): void {
  if (M <= 0 || N <= 0) return;
  nn_gemm(M, N, max(K, 0), A, <usize>lda << 2, 4, B, <usize>ldb << 2, C, <usize>ldc << 2, acc);
}

// C[m,n] = (acc ? C[m,n] : 0) + Σ_k A[k·lda + m] · B[k·ldb + n]      (weight gradient: gW[out,in] += Gᵀ · X, k = batch rows)
export function gemm_tn(M: i32, N: i32, K: i32, A: usize, lda: i32, B: usize, ldb: i32, C: usize, ldc: i32, acc: i32): void {
  if (M <= 0 || N <= 0) return;
  tn_gemm(M, N, max(K, 0), A, 4, <usize>lda << 2, B, <usize>ldb << 2, C, <usize>ldc << 2, acc);
}

// The elementwise kernels below run each row as whole vectors, then one partial vector of r = N mod 4 lanes:
// their per-vector bodies are @inline functions of r, so in the main loop (r = 4) the partial loads and stores
// fold away at compile time.

// @ts-ignore: decorator
@inline function biasAct4(p: usize, pb: usize, act: i32, r: i32): void {
  let y = loadPart(p, r);
  if (pb) y = f32x4.add(y, loadPart(pb, r));
  if (act == ACT_TANH) y = tanh4(y);
  else if (act == ACT_RELU) y = f32x4.max(y, f32x4.splat(0)); // NaN stays NaN
  storePart(p, y, r);
}

// Y[m,n] = act(Y[m,n] + bias[n]), in place; act: 0 linear, 1 tanh, 2 relu; bias = 0: no bias.
export function bias_act(M: i32, N: i32, Y: usize, ldy: i32, bias: usize, act: i32): void {
  if (act == ACT_LINEAR && !bias) return;
  const N4 = N & ~3;
  for (let m = 0; m < M; m++) {
    const row = Y + ((<usize>m * ldy) << 2);
    let n = 0;
    for (; n < N4; n += 4) biasAct4(row + (<usize>n << 2), bias ? bias + (<usize>n << 2) : 0, act, 4);
    if (n < N) biasAct4(row + (<usize>n << 2), bias ? bias + (<usize>n << 2) : 0, act, N - n);
  }
}

// @ts-ignore: decorator
@inline function actGrad4(pg: usize, py: usize, act: i32, r: i32): void {
  const y = loadPart(py, r), d = loadPart(pg, r), one = f32x4.splat(1);
  const out = act == ACT_TANH
    ? f32x4.mul(d, f32x4.mul(f32x4.sub(one, y), f32x4.add(one, y)))
    : v128.and(d, f32x4.gt(y, f32x4.splat(0)));
  storePart(pg, out, r);
}

// G[m,n] *= act'(a), written with Y = act(a):  tanh: 1 − Y² = (1 − Y)(1 + Y) (no cancellation near |Y| = 1);
// relu: Y > 0 ? 1 : 0 (G kept or zeroed);  linear: unchanged.
export function act_grad(M: i32, N: i32, G: usize, ldg: i32, Y: usize, ldy: i32, act: i32): void {
  if (act != ACT_TANH && act != ACT_RELU) return;
  const N4 = N & ~3;
  for (let m = 0; m < M; m++) {
    const g = G + ((<usize>m * ldg) << 2), yr = Y + ((<usize>m * ldy) << 2);
    let n = 0;
    for (; n < N4; n += 4) actGrad4(g + (<usize>n << 2), yr + (<usize>n << 2), act, 4);
    if (n < N) actGrad4(g + (<usize>n << 2), yr + (<usize>n << 2), act, N - n);
  }
}

// out[n] = (acc ? out[n] : 0) + Σ_m G[m·ldg + n]      (a bias's gradient; rows summed in order)
export function col_sum(M: i32, N: i32, G: usize, ldg: i32, out: usize, acc: i32): void {
  const ld = <usize>ldg << 2;
  let n = 0;
  // 16 columns at a time: four independent sums in flight.
  for (; n + 16 <= N; n += 16) {
    const po = out + (<usize>n << 2);
    let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
    if (acc) { s0 = v128.load(po); s1 = v128.load(po, 16); s2 = v128.load(po, 32); s3 = v128.load(po, 48); }
    let p = G + (<usize>n << 2);
    for (let m = 0; m < M; m++) {
      s0 = f32x4.add(s0, v128.load(p)); s1 = f32x4.add(s1, v128.load(p, 16));
      s2 = f32x4.add(s2, v128.load(p, 32)); s3 = f32x4.add(s3, v128.load(p, 48));
      p += ld;
    }
    v128.store(po, s0); v128.store(po, s1, 16); v128.store(po, s2, 32); v128.store(po, s3, 48);
  }
  for (; n < N; n += 4) {
    const r = min(4, N - n), po = out + (<usize>n << 2);
    let s = acc ? loadPart(po, r) : f32x4.splat(0);
    let p = G + (<usize>n << 2);
    for (let m = 0; m < M; m++) { s = f32x4.add(s, loadPart(p, r)); p += ld; }
    storePart(po, s, r);
  }
}

// Σ of the four lanes of t, in float64, added to the two-lane accumulator.
// @ts-ignore: decorator
@inline function addWide(sum: v128, t: v128): v128 {
  return f64x2.add(f64x2.add(sum, f64x2.promote_low_f32x4(t)), f64x2.promote_low_f32x4(v128.shuffle<f32>(t, t, 2, 3, 2, 3)));
}

// @ts-ignore: decorator
@inline function total(sum: v128): f64 {
  return f64x2.extract_lane(sum, 0) + f64x2.extract_lane(sum, 1);
}

// Bernoulli decoder head, in place on the logits ℓ = Lg[M,N] with target X[M,N]:
//   value    = Σ_{m,n} log p(x|ℓ) = Σ x ℓ − softplus(ℓ)       (if withValue, from ℓ before it is overwritten; else 0)
//   Lg[m,n] ← scale · (x − σ(ℓ))                              (∂/∂ℓ of the value, times scale)
// With e = e^−|ℓ|: softplus(ℓ) = max(ℓ, 0) + log1p(e), so x ℓ − softplus(ℓ) = (x − [ℓ > 0]) ℓ − log1p(e): for
// x ∈ [0, 1] both terms are ≤ 0 and nothing cancels. Each term in float32, summed in float64.
// @ts-ignore: decorator
@inline function bernoulli4(pl: usize, px: usize, S: v128, withValue: i32, sum: v128, r: i32): v128 {
  const one = f32x4.splat(1), zero = f32x4.splat(0);
  const l = loadPart(pl, r), x = loadPart(px, r);
  const e = exp4(f32x4.neg(f32x4.abs(l)));
  const q = f32x4.div(one, f32x4.add(one, e));
  const sig = v128.bitselect(q, f32x4.mul(e, q), f32x4.ge(l, zero)); // σ(ℓ) = 1/(1+e) or e/(1+e)
  if (withValue) {
    const t = f32x4.sub(f32x4.mul(f32x4.sub(x, v128.and(f32x4.gt(l, zero), one)), l), log1p4(e));
    sum = addWide(sum, r == 4 ? t : v128.and(t, laneMask(r)));
  }
  storePart(pl, f32x4.mul(S, f32x4.sub(x, sig)), r);
  return sum;
}

export function bernoulli_head(M: i32, N: i32, Lg: usize, ldl: i32, X: usize, ldx: i32, scale: f32, withValue: i32): f64 {
  const S = f32x4.splat(scale), N4 = N & ~3;
  let sum = f64x2.splat(0);
  for (let m = 0; m < M; m++) {
    const pl = Lg + ((<usize>m * ldl) << 2), px = X + ((<usize>m * ldx) << 2);
    let n = 0;
    for (; n < N4; n += 4) sum = bernoulli4(pl + (<usize>n << 2), px + (<usize>n << 2), S, withValue, sum, 4);
    if (n < N) sum = bernoulli4(pl + (<usize>n << 2), px + (<usize>n << 2), S, withValue, sum, N - n);
  }
  return withValue ? total(sum) : 0;
}

// Gaussian decoder head, in place on R = raw mean [M,N] and V = log σₓ² [M,N], target X:
//   μ = sigmoidMean ? σ(raw) : raw,  r = x − μ,  w = e^−v
//   value = Σ −½ log 2π − ½ v − ½ r² w                         (if withValue, float64; else 0)
//   R ← scale · r w · (sigmoidMean ? σ(raw)(1 − σ(raw)) : 1)    (∂/∂raw of the value, times scale)
//   V ← scale · ½ (r² w − 1)                                   (∂/∂v)
// σ(1 − σ) = e / (1 + e)² with e = e^−|raw|: no cancellation when σ is near 1. Σ v and Σ r² w are summed apart
// in float64 (they may cancel each other).
export function gaussian_head(M: i32, N: i32, R: usize, ldr: i32, V: usize, ldv: i32, X: usize, ldx: i32,
  sigmoidMean: i32, scale: f32, withValue: i32): f64 {
  const S = f32x4.splat(scale), half = f32x4.splat(0.5), one = f32x4.splat(1), zero = f32x4.splat(0);
  let sv = f64x2.splat(0), sq = f64x2.splat(0);
  for (let m = 0; m < M; m++) {
    const pr = R + ((<usize>m * ldr) << 2), pv = V + ((<usize>m * ldv) << 2), px = X + ((<usize>m * ldx) << 2);
    for (let n = 0; n < N; n += 4) {
      const cnt = min(4, N - n), o = <usize>n << 2;
      const raw = loadPart(pr + o, cnt), v = loadPart(pv + o, cnt), x = loadPart(px + o, cnt);
      let mu = raw, dmu = one;
      if (sigmoidMean) {
        const e = exp4(f32x4.neg(f32x4.abs(raw)));
        const q = f32x4.div(one, f32x4.add(one, e));
        mu = v128.bitselect(q, f32x4.mul(e, q), f32x4.ge(raw, zero));
        dmu = f32x4.mul(f32x4.mul(e, q), q);
      }
      const r = f32x4.sub(x, mu);
      const rw = f32x4.mul(r, exp4(f32x4.neg(v)));
      const q2 = f32x4.mul(r, rw);
      if (withValue) {
        const mask = laneMask(cnt);
        sv = addWide(sv, v128.and(v, mask));
        sq = addWide(sq, v128.and(q2, mask));
      }
      storePart(pr + o, f32x4.mul(S, f32x4.mul(rw, dmu)), cnt);
      storePart(pv + o, f32x4.mul(f32x4.mul(S, half), f32x4.sub(q2, one)), cnt);
    }
  }
  if (!withValue) return 0;
  const HALF_LOG_2PI: f64 = 0.91893853320467274178;
  return -HALF_LOG_2PI * (<f64>M * <f64>N) - 0.5 * total(sv) - 0.5 * total(sq);
}
