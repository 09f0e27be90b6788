/**
 * The step's three GEMMs (src/kernels/step.as.ts through StepKernel) against a float64 reference, for both
 * builds (relaxed SIMD and SIMD128) on shared and ordinary memories: every tail of the register tiles (M, N,
 * K from 1 up, not multiples of anything), the step's real shapes (M = a shard of 7 and the paper's 100;
 * N, K ∈ {20, 500, 784} and odd sizes), leading dimensions wider than the rows, unaligned rows, acc 0 and 1,
 * and nothing written outside C's rows.
 */
import { describe, expect, it } from 'vitest';
import { StepKernel, type KernelBuild } from '../../src/kernels/step_kernel.ts';
import { Arena, BUILDS, RELAXED_AVAILABLE, SENTINEL, randomF32, sameBits } from '../helpers/step_arena.ts';

type Variant = 'nt' | 'nn' | 'tn';

interface Case {
  v: Variant;
  M: number;
  N: number;
  K: number;
  pad: number;
  acc: boolean;
}

/** Where A(m, k) and B's element for (k, n) live, and each operand's [rows, ld] as stored. */
function layout(c: Case) {
  const { v, M, N, K, pad } = c;
  const lda = (v === 'tn' ? M : K) + pad,
    ldb = (v === 'nt' ? K : N) + 2 * pad,
    ldc = N + pad;
  const aRows = v === 'tn' ? K : M,
    bRows = v === 'nt' ? N : K;
  const a = (m: number, k: number) => (v === 'tn' ? k * lda + m : m * lda + k);
  const b = (k: number, n: number) => (v === 'nt' ? n * ldb + k : k * ldb + n);
  return { lda, ldb, ldc, aRows, bRows, a, b };
}

interface Inputs {
  A: Float32Array;
  B: Float32Array;
  C0: Float32Array;
}

function inputs(c: Case, seed: number): Inputs {
  const l = layout(c);
  const A = randomF32(l.aRows * l.lda, seed),
    B = randomF32(l.bRows * l.ldb, seed + 1);
  // C: the old values where acc reads them, NaN where it must not (acc 0), sentinels in the row padding.
  const C0 = new Float32Array(c.M * l.ldc).fill(SENTINEL);
  const old = randomF32(c.M * c.N, seed + 2);
  for (let m = 0; m < c.M; m++) for (let n = 0; n < c.N; n++) C0[m * l.ldc + n] = c.acc ? old[m * c.N + n] : NaN;
  return { A, B, C0 };
}

/** Float64 C and the error scale Σ_k |A(m,k) B(k,n)| + |C0| of every element. */
function reference(c: Case, x: Inputs): { C: Float64Array; scale: Float64Array } {
  const l = layout(c);
  const C = new Float64Array(c.M * c.N),
    scale = new Float64Array(c.M * c.N);
  for (let m = 0; m < c.M; m++) {
    for (let n = 0; n < c.N; n++) {
      let s = c.acc ? x.C0[m * l.ldc + n] : 0,
        mag = Math.abs(s);
      for (let k = 0; k < c.K; k++) {
        const p = x.A[l.a(m, k)] * x.B[l.b(k, n)];
        s += p;
        mag += Math.abs(p);
      }
      C[m * c.N + n] = s;
      scale[m * c.N + n] = mag;
    }
  }
  return { C, scale };
}

const arenas = new Map<string, { arena: Arena; kernel: StepKernel }>();
function setup(build: KernelBuild, shared: boolean) {
  const key = `${build}/${shared}`;
  let s = arenas.get(key);
  if (!s) {
    const arena = new Arena(shared, 64);
    s = { arena, kernel: new StepKernel(arena.memory, build) };
    arenas.set(key, s);
  }
  s.arena.reset();
  return s;
}

const CONFIGS = BUILDS.filter((b) => b === 'simd128' || RELAXED_AVAILABLE).flatMap((build) =>
  [true, false].map((shared) => ({ build, shared })),
);

/** Runs the case on one build and memory; returns C (rows × ldc, padding included). */
function runCase(c: Case, x: Inputs, build: KernelBuild, shared: boolean): Float32Array {
  const { arena, kernel } = setup(build, shared);
  const l = layout(c);
  const pa = arena.alloc(x.A.length, x.A),
    pb = arena.alloc(x.B.length, x.B),
    pc = arena.alloc(x.C0.length, x.C0);
  const call = c.v === 'nt' ? kernel.gemmNT : c.v === 'nn' ? kernel.gemmNN : kernel.gemmTN;
  call.call(kernel, c.M, c.N, c.K, pa, l.lda, pb, l.ldb, pc, l.ldc, c.acc);
  expect(arena.guardsIntact(), 'wrote outside its matrices').toBe(true);
  expect(sameBits(arena.view(pa, x.A.length), x.A), 'A changed').toBe(true); // inputs untouched
  expect(sameBits(arena.view(pb, x.B.length), x.B), 'B changed').toBe(true);
  return arena.view(pc, x.C0.length).slice();
}

function check(c: Case, seed: number): void {
  const x = inputs(c, seed);
  const ref = reference(c, x);
  const l = layout(c);
  const outs = new Map<string, Float32Array>();
  for (const { build, shared } of CONFIGS) {
    const got = runCase(c, x, build, shared);
    outs.set(`${build}/${shared}`, got);
    let worst = 0;
    for (let m = 0; m < c.M; m++) {
      for (let n = 0; n < c.N; n++) {
        const e = Math.abs(got[m * l.ldc + n] - ref.C[m * c.N + n]) / (ref.scale[m * c.N + n] + 1e-30);
        if (!(e <= worst)) worst = e; // NaN counts as worst
      }
      for (let n = c.N; n < l.ldc; n++) expect(got[m * l.ldc + n], 'row padding written').toBe(SENTINEL);
    }
    // Float32 rounding of a sum is ≲ 1e-7 of Σ|terms| here (random signs); a wrong index or a lost tail is O(1).
    expect(worst, `${build} ${shared ? 'shared' : 'unshared'} ${JSON.stringify(c)}`).toBeLessThan(1e-6);
  }
  // The same code on a shared and an ordinary memory gives the same bits.
  for (const build of new Set(CONFIGS.map((k) => k.build))) {
    expect(sameBits(outs.get(`${build}/true`)!, outs.get(`${build}/false`)!), `${build}: shared ≠ unshared`).toBe(true);
  }
}

const VARIANTS: Variant[] = ['nt', 'nn', 'tn'];

describe('step GEMMs against float64: every tail of the tiles', () => {
  it('the engine runs both builds here (the vitest config passes Node 20 the relaxed-SIMD flag)', () => {
    expect(RELAXED_AVAILABLE).toBe(true);
  });
  for (const v of VARIANTS) {
    it(`gemm_${v}: M 1..13, N 1..13, K 0..20, with and without acc and row padding`, () => {
      let seed = 1;
      for (const M of [1, 2, 3, 4, 5, 6, 7, 9, 13]) {
        for (const N of [1, 2, 3, 4, 5, 7, 8, 9, 12, 13]) {
          for (const K of [0, 1, 2, 3, 4, 5, 7, 13, 20]) {
            // K = 0: C = acc ? C : 0
            check({ v, M, N, K, pad: seed % 3 === 0 ? 0 : 3, acc: seed % 2 === 0 }, seed++);
          }
        }
      }
    });
  }
});

describe("step GEMMs against float64: the step's shapes", () => {
  const SHAPES: Array<[number, number]> = [
    [500, 784],
    [784, 500],
    [20, 500],
    [500, 20],
    [401, 13],
    [13, 401],
    [2, 784],
    [784, 1],
    [5, 20],
  ];
  for (const v of VARIANTS) {
    for (const M of [1, 3, 6, 7, 25, 100]) {
      it(`gemm_${v}, M = ${M}: N × K ∈ ${SHAPES.map(([n, k]) => `${n}×${k}`).join(', ')}`, () => {
        let seed = 1000 * M;
        for (const [N, K] of SHAPES) {
          check({ v, M, N, K, pad: 5, acc: seed % 2 === 1 }, seed++);
        }
      });
    }
  }
});

describe('the two builds agree', () => {
  it.skipIf(!RELAXED_AVAILABLE)('relaxed (FMA) and SIMD128 within 1e-6 of Σ|a·b| on the big products, and not bit-identical', () => {
    let differ = 0;
    for (const v of VARIANTS) {
      const c: Case = { v, M: 100, N: 500, K: 784, pad: 0, acc: false };
      const x = inputs(c, 7);
      const a = runCase(c, x, 'relaxed', true),
        b = runCase(c, x, 'simd128', true);
      const ref = reference(c, x);
      let worst = 0;
      for (let i = 0; i < a.length; i++) {
        worst = Math.max(worst, Math.abs(a[i] - b[i]) / ref.scale[i]);
        if (a[i] !== b[i]) differ++;
      }
      expect(worst, `gemm_${v}`).toBeLessThan(1e-6);
    }
    expect(differ).toBeGreaterThan(0); // the FMA really runs in the relaxed build
  });
});
