/**
 * The step kernels' epilogues and decoder heads (src/kernels/step.as.ts) against float64 references written
 * from the formulas, for both builds on shared and ordinary memories: the activations and their derivatives,
 * a bias's gradient, and the Bernoulli and Gaussian heads' values and gradients, over a wide range of inputs
 * (|a| up to 1e4 and beyond the float32 exp range, subnormal results, exact 0 and ±1) and every row tail.
 * The transcendental functions inside must stay within ~2 float32 ulp (≲ 2.5e-7 relative) of the truth.
 */
import { describe, expect, it } from 'vitest';
import { StepKernel, type KernelActivation, type KernelBuild } from '../../src/kernels/step_kernel.ts';
import { Arena, BUILDS, RELAXED_AVAILABLE, SENTINEL, randomF32, rng } from '../helpers/step_arena.ts';

const f = Math.fround;
const CONFIGS = BUILDS.filter((b) => b === 'simd128' || RELAXED_AVAILABLE).flatMap((build) =>
  [true, false].map((shared) => ({ build, shared })),
);
const SHAPES: Array<[number, number]> = [
  [1, 1],
  [1, 3],
  [3, 5],
  [2, 4],
  [7, 13],
  [7, 500],
  [25, 20],
  [100, 784],
  [2, 401],
];

const kernels = new Map<string, { arena: Arena; kernel: StepKernel }>();
function setup(build: KernelBuild, shared: boolean) {
  const key = `${build}/${shared}`;
  let s = kernels.get(key);
  if (!s) {
    const arena = new Arena(shared, 32);
    s = { arena, kernel: new StepKernel(arena.memory, build) };
    kernels.set(key, s);
  }
  s.arena.reset();
  return s;
}

/** Inputs that probe the functions' edges: 0, tiny, the polynomial/branch boundaries, the float32 exp range's ends. */
const EDGES = [
  0, -0, 1e-30, -1e-30, 1e-8, -1e-8, 1e-3, -1e-3, 0.3, 0.6249, 0.625, -0.625, 0.626, 1, -1, 2, 5, 8.9, 9.1, 15, -15, 17, 20, -20, 30, 44,
  50, -50, 87, -87, 88.7, -88.7, 89, -89, 100, -100, 104, -104, 105, -105, 1e4, -1e4, 3e38, -3e38,
];

/** n float32 values: the edges first, then uniform samples at scales 1e-6 … 100 (so every scale shows up in every shape). */
function wide(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const scales = [1e-6, 1e-2, 0.5, 3, 20, 100];
  return Float32Array.from({ length: n }, (_, i) => (i < EDGES.length && n >= 100 ? EDGES[i] : r(-1, 1) * scales[i % scales.length]));
}

/** A [M, ld] matrix with the values in its first N columns and sentinels in the padding. */
function padded(M: number, N: number, ld: number, values: Float32Array): Float32Array {
  const out = new Float32Array(M * ld).fill(SENTINEL);
  for (let m = 0; m < M; m++) out.set(values.subarray(m * N, m * N + N), m * ld);
  return out;
}

function sigmoid(l: number): number {
  return l >= 0 ? 1 / (1 + Math.exp(-l)) : Math.exp(l) / (1 + Math.exp(l));
}
function softplus(l: number): number {
  return Math.max(l, 0) + Math.log1p(Math.exp(-Math.abs(l)));
}

/** Runs `body` for every build and memory, checking the guards after. */
function forEachConfig(body: (k: StepKernel, a: Arena, label: string) => void): void {
  for (const { build, shared } of CONFIGS) {
    const { arena, kernel } = setup(build, shared);
    body(kernel, arena, `${build} ${shared ? 'shared' : 'unshared'}`);
    expect(arena.guardsIntact(), 'wrote outside its matrices').toBe(true);
  }
}

/** max |got − want| / tol over the first N columns of M rows (≤ 1 passes); the padding must hold sentinels. */
function worstRatio(got: Float32Array, ld: number, M: number, N: number, want: (i: number) => number, tol: (i: number) => number): number {
  let worst = 0;
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      const i = m * N + n,
        w = want(i),
        g = got[m * ld + n];
      const ratio = Number.isNaN(w) ? (Number.isNaN(g) ? 0 : Infinity) : w === g ? 0 : Math.abs(g - w) / tol(i);
      if (!(ratio <= worst)) worst = ratio;
    }
    for (let n = N; n < ld; n++) if (got[m * ld + n] !== SENTINEL) return Infinity;
  }
  return worst;
}

describe('bias_act: Y ← act(Y + bias)', () => {
  const ACTS: Record<KernelActivation, (a: number) => number> = { linear: (a) => a, tanh: Math.tanh, relu: (a) => Math.max(a, 0) };
  for (const act of Object.keys(ACTS) as KernelActivation[]) {
    it(`${act}, with and without a bias, every shape`, () => {
      let worstRel = 0;
      forEachConfig((k, arena, label) => {
        for (const [M, N] of SHAPES) {
          for (const withBias of [true, false]) {
            const ld = N + 3,
              y = wide(M * N, M * 31 + N),
              bias = randomF32(N, N, -0.5, 0.5);
            const pY = arena.alloc(M * ld, padded(M, N, ld, y)),
              pb = withBias ? arena.alloc(N, bias) : 0;
            k.biasAct(M, N, pY, ld, pb, act);
            const a = (i: number) => f(y[i] + (withBias ? bias[i % N] : 0)); // the kernel adds in float32
            const r = worstRatio(
              arena.view(pY, M * ld),
              ld,
              M,
              N,
              (i) => ACTS[act](a(i)),
              (i) => 2.5e-7 * Math.abs(ACTS[act](a(i))) + 1e-45,
            );
            expect(r, `${label} ${M}×${N} bias ${withBias}`).toBeLessThanOrEqual(1);
            worstRel = Math.max(worstRel, r * 2.5e-7);
          }
        }
      });
      console.log(`bias_act ${act}: worst relative error ${worstRel.toExponential(2)}`);
    });
  }

  it('tanh: the exact limits ±1 far out, 0 at 0, NaN for NaN', () => {
    forEachConfig((k, arena) => {
      const p = arena.alloc(8, [Infinity, -Infinity, 1e30, -1e30, 0, -0, NaN, 9.5]);
      k.biasAct(1, 8, p, 8, 0, 'tanh');
      const v = arena.view(p, 8);
      expect(Array.from(v.subarray(0, 4))).toEqual([1, -1, 1, -1]);
      expect([v[4], v[5]]).toEqual([0, 0]); // the sign of a zero is not kept (it never matters here)
      expect(v[6]).toBeNaN();
      expect(v[7]).toBeCloseTo(Math.tanh(9.5), 7);
    });
  });
});

describe("act_grad: G ← G · act'(a), from Y = act(a)", () => {
  it('tanh (1 − Y²), relu ([Y > 0]) and linear (unchanged), every shape, Y up to ±1', () => {
    forEachConfig((k, arena, label) => {
      for (const [M, N] of SHAPES) {
        const ld = N + 2,
          ldy = N + 5,
          r = rng(M * 7 + N);
        const g = randomF32(M * N, N + 1, -3, 3);
        const yT = Float32Array.from({ length: M * N }, (_, i) => [1, -1, f(1 - 2 ** -24), 0, -0][i % 41] ?? Math.tanh(r(-6, 6)));
        const yR = Float32Array.from({ length: M * N }, (_, i) => (i % 3 === 0 ? 0 : r(-2, 2)));
        for (const [act, y, want] of [
          ['tanh', yT, (i: number) => g[i] * (1 - yT[i]) * (1 + yT[i])],
          ['relu', yR, (i: number) => (yR[i] > 0 ? g[i] : 0)],
          ['linear', yR, (i: number) => g[i]],
        ] as Array<[KernelActivation, Float32Array, (i: number) => number]>) {
          const pG = arena.alloc(M * ld, padded(M, N, ld, g)),
            pY = arena.alloc(M * ldy, padded(M, N, ldy, y));
          k.actGrad(M, N, pG, ld, pY, ldy, act);
          const ratio = worstRatio(arena.view(pG, M * ld), ld, M, N, want, (i) => 2.5e-7 * Math.abs(want(i)) + 1e-45);
          expect(ratio, `${label} ${act} ${M}×${N}`).toBeLessThanOrEqual(1);
        }
      }
    });
  });
});

describe('col_sum: out[n] = (acc ? out[n] : 0) + Σ_m G[m, n]', () => {
  it('every shape, acc 0 and 1', () => {
    forEachConfig((k, arena, label) => {
      for (const [M, N] of [...SHAPES, [3, 16], [5, 33], [100, 500]] as Array<[number, number]>) {
        for (const acc of [false, true]) {
          const ld = N + 1,
            g = randomF32(M * N, M + N),
            old = randomF32(N, 3 * N);
          const pG = arena.alloc(M * ld, padded(M, N, ld, g)),
            pOut = arena.alloc(N, acc ? old : new Float32Array(N).fill(NaN));
          k.colSum(M, N, pG, ld, pOut, acc);
          const out = arena.view(pOut, N);
          for (let n = 0; n < N; n++) {
            let s = acc ? old[n] : 0,
              mag = Math.abs(s);
            for (let m = 0; m < M; m++) {
              s += g[m * N + n];
              mag += Math.abs(g[m * N + n]);
            }
            expect(Math.abs(out[n] - s), `${label} ${M}×${N} acc ${acc} column ${n}`).toBeLessThanOrEqual(1e-6 * mag);
          }
        }
      }
    });
  });
});

describe('bernoulli_head: value Σ x ℓ − softplus(ℓ), then Lg ← scale (x − σ(ℓ))', () => {
  it('every shape, grey and binary targets, logits over ±1e4; value only when asked', () => {
    let worstGrad = 0;
    forEachConfig((k, arena, label) => {
      for (const [M, N] of SHAPES) {
        const ldl = N + 1,
          ldx = N + 4,
          r = rng(M + 13 * N);
        const l = wide(M * N, M * 5 + N);
        const x = Float32Array.from({ length: M * N }, (_, i) => (i % 3 === 0 ? 0 : i % 3 === 1 ? 1 : r(0, 1)));
        const scale = f(-1 / 7);
        for (const withValue of [true, false]) {
          const pL = arena.alloc(M * ldl, padded(M, N, ldl, l)),
            pX = arena.alloc(M * ldx, padded(M, N, ldx, x));
          const value = k.bernoulliHead(M, N, pL, ldl, pX, ldx, scale, withValue);
          let want = 0,
            mag = 0;
          for (let i = 0; i < M * N; i++) {
            const t = x[i] * l[i] - softplus(l[i]);
            want += t;
            mag += Math.abs(x[i] * l[i]) + softplus(l[i]);
          }
          if (withValue) expect(Math.abs(value - want), `${label} ${M}×${N} value ${value} vs ${want}`).toBeLessThanOrEqual(1e-6 * mag);
          else expect(value).toBe(0);
          const grad = (i: number) => scale * (x[i] - sigmoid(l[i]));
          const ratio = worstRatio(
            arena.view(pL, M * ldl),
            ldl,
            M,
            N,
            grad,
            (i) => 2.5e-7 * Math.abs(scale) * (Math.abs(x[i]) + sigmoid(l[i])) + 1e-44,
          );
          expect(ratio, `${label} ${M}×${N} gradient`).toBeLessThanOrEqual(1);
          worstGrad = Math.max(worstGrad, ratio * 2.5e-7);
        }
      }
    });
    console.log(`bernoulli_head: worst gradient error ${worstGrad.toExponential(2)} of |scale|(|x| + σ)`);
  });

  it('σ(ℓ) and softplus(ℓ) alone (x = 0, scale −1) to ~2 ulp relative, from ℓ = −104 to 1e4', () => {
    const ls = Float32Array.from([
      ...EDGES.filter((e) => Math.abs(e) <= 1e4),
      ...Array.from({ length: 400 }, (_, i) => -100 + i / 2 + 0.013 * i),
    ]);
    let worstSig = 0,
      worstSp = 0;
    forEachConfig((k, arena, label) => {
      const n = ls.length;
      const pL = arena.alloc(n, ls),
        pX = arena.alloc(n, new Float32Array(n));
      k.bernoulliHead(1, n, pL, n, pX, n, -1, false);
      const sig = arena.view(pL, n);
      for (let i = 0; i < n; i++) {
        const want = sigmoid(ls[i]);
        if (want < 1.2e-38) continue; // subnormal σ: float32 has too few bits for a relative check
        const e = Math.abs(sig[i] - want) / want;
        expect(e, `${label} σ(${ls[i]}) = ${sig[i]} vs ${want}`).toBeLessThan(2.5e-7);
        worstSig = Math.max(worstSig, e);
      }
      for (let i = 0; i < n; i++) {
        const one = arena.alloc(1, [ls[i]]),
          zero = arena.alloc(1, [0]);
        const sp = -k.bernoulliHead(1, 1, one, 1, zero, 1, 1, true),
          want = softplus(ls[i]);
        if (want < 1.2e-38) {
          expect(Math.abs(sp - want)).toBeLessThan(2e-45);
          continue;
        } // subnormal e^ℓ
        const e = Math.abs(sp - want) / want;
        expect(e, `${label} softplus(${ls[i]}) = ${sp} vs ${want}`).toBeLessThan(2.5e-7);
        worstSp = Math.max(worstSp, e);
      }
    });
    console.log(`σ: worst relative error ${worstSig.toExponential(2)}; softplus: ${worstSp.toExponential(2)}`);
  });
});

describe('gaussian_head: value Σ −½ log 2π − ½ v − ½ r² e^−v, then R, V ← scale · gradients', () => {
  for (const sigmoidMean of [false, true]) {
    it(`${sigmoidMean ? 'sigmoid' : 'linear'} mean, every shape, log-variances over ±80`, () => {
      forEachConfig((k, arena, label) => {
        for (const [M, N] of SHAPES) {
          const ldr = N + 2,
            ldv = N + 3,
            ldx = N + 1,
            r = rng(M * 3 + N);
          const raw = Float32Array.from({ length: M * N }, () => r(-8, 8));
          const v = Float32Array.from({ length: M * N }, (_, i) => (i % 17 === 0 ? [80, -80, 0, 30, -30][i % 5] : r(-10, 10)));
          const x = Float32Array.from({ length: M * N }, () => r(0, 1));
          const scale = f(-0.25);
          for (const withValue of [true, false]) {
            const pR = arena.alloc(M * ldr, padded(M, N, ldr, raw)),
              pV = arena.alloc(M * ldv, padded(M, N, ldv, v));
            const pX = arena.alloc(M * ldx, padded(M, N, ldx, x));
            const value = k.gaussianHead(M, N, pR, ldr, pV, ldv, pX, ldx, sigmoidMean, scale, withValue);
            const mu = (i: number) => (sigmoidMean ? sigmoid(raw[i]) : raw[i]);
            const w = (i: number) => Math.exp(-v[i]);
            const big = (i: number) => (Math.abs(x[i]) + Math.abs(mu(i))) ** 2 * w(i);
            let want = 0,
              mag = 0;
            for (let i = 0; i < M * N; i++) {
              const d = x[i] - mu(i);
              want += -0.5 * Math.log(2 * Math.PI) - 0.5 * v[i] - 0.5 * d * d * w(i);
              mag += 0.92 + 0.5 * Math.abs(v[i]) + 0.5 * big(i);
            }
            if (withValue) expect(Math.abs(value - want), `${label} ${M}×${N} value ${value} vs ${want}`).toBeLessThanOrEqual(1e-6 * mag);
            else expect(value).toBe(0);
            const dmu = (i: number) => (sigmoidMean ? sigmoid(raw[i]) * sigmoid(-raw[i]) : 1);
            const gR = (i: number) => scale * (x[i] - mu(i)) * w(i) * dmu(i);
            const gV = (i: number) => scale * 0.5 * ((x[i] - mu(i)) ** 2 * w(i) - 1);
            expect(
              worstRatio(
                arena.view(pR, M * ldr),
                ldr,
                M,
                N,
                gR,
                (i) => 5e-7 * Math.abs(scale) * (Math.abs(x[i]) + Math.abs(mu(i))) * w(i) * dmu(i) + 1e-43,
              ),
              `${label} ${M}×${N} ∂raw`,
            ).toBeLessThanOrEqual(1);
            expect(
              worstRatio(arena.view(pV, M * ldv), ldv, M, N, gV, (i) => 6e-7 * Math.abs(scale) * (big(i) + 1) + 1e-43),
              `${label} ${M}×${N} ∂v`,
            ).toBeLessThanOrEqual(1);
          }
        }
      });
    });
  }

  it('e^a alone (∂raw = scale · r e^−v with r = 1, v = −a, scale = 1): ~2 ulp relative over the float32 range, +Inf beyond', () => {
    const as = Float32Array.from([
      ...Array.from({ length: 384 }, (_, i) => -103 + i * 0.5 + 0.0137 * (i % 7)),
      88.7,
      88.72,
      -1e-7,
      0,
      89,
      1e4,
    ]);
    let worst = 0;
    forEachConfig((k, arena, label) => {
      const n = as.length;
      const pR = arena.alloc(n, new Float32Array(n)),
        pV = arena.alloc(
          n,
          as.map((a) => -a),
        ),
        pX = arena.alloc(n, new Float32Array(n).fill(1));
      k.gaussianHead(1, n, pR, n, pV, n, pX, n, false, 1, false);
      const got = arena.view(pR, n);
      for (let i = 0; i < n; i++) {
        const want = Math.exp(as[i]);
        if (want > 3.4028234e38) {
          expect(got[i], `${label} e^${as[i]}`).toBe(Infinity);
          continue;
        }
        if (want < 1.2e-38) {
          expect(Math.abs(got[i] - want), `${label} e^${as[i]}`).toBeLessThan(2e-45);
          continue;
        } // subnormal
        const e = Math.abs(got[i] - want) / want;
        expect(e, `${label} e^${as[i]} = ${got[i]} vs ${want}`).toBeLessThan(2.5e-7);
        worst = Math.max(worst, e);
      }
    });
    console.log(`exp: worst relative error ${worst.toExponential(2)}`);
  });
});
