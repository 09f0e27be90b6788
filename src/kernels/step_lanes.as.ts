// Lane helpers of the step's kernels (AssemblyScript; see step.as.ts).

// a·b + c, four lanes. One source, two builds (scripts/build-kernels.mjs): with relaxed SIMD enabled this is
// f32x4.relaxed_madd, a fused multiply-add on x86 (FMA3) and ARM (one rounding); without it, mul then add
// (two roundings). The branch is on a compile-time constant, so each build holds only its own instruction.
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// The first r lanes (1..4) at p, the others 0. Touches only those r floats, so a row's last, partial
// vector never reads past the row's end (which may be the end of the memory).
// @ts-ignore: decorator
@inline export function loadPart(p: usize, r: i32): v128 {
  if (r >= 4) return v128.load(p);
  if (r == 1) return v128.load32_zero(p);
  if (r == 2) return v128.load64_zero(p);
  return v128.load32_lane(p, v128.load64_zero(p), 2, 8);
}

// Stores the first r lanes (1..4) of v at p, and nothing else.
// @ts-ignore: decorator
@inline export function storePart(p: usize, v: v128, r: i32): void {
  if (r >= 4) { v128.store(p, v); return; }
  if (r == 1) { v128.store32_lane(p, v, 0); return; }
  v128.store64_lane(p, v, 0);
  if (r == 3) v128.store32_lane(p, v, 2, 8);
}

// Lanes j < r all ones, the others zero: masks a partial vector's unused lanes out of a sum.
// @ts-ignore: decorator
@inline export function laneMask(r: i32): v128 {
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(r));
}

// [Σ p, Σ q, Σ s, Σ t]: the across-lane sums of four vectors, as one vector (two rounds of pairwise adds).
// @ts-ignore: decorator
@inline export function hsum4(p: v128, q: v128, s: v128, t: v128): v128 {
  const pq = f32x4.add(v128.shuffle<f32>(p, q, 0, 4, 1, 5), v128.shuffle<f32>(p, q, 2, 6, 3, 7)); // [p02, q02, p13, q13]
  const st = f32x4.add(v128.shuffle<f32>(s, t, 0, 4, 1, 5), v128.shuffle<f32>(s, t, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(pq, st, 0, 1, 4, 5), v128.shuffle<f32>(pq, st, 2, 3, 6, 7));
}
