/**
 * The step kernels' contract (src/shared/model/kernel_gradient.ts, StepKernelOps) written as plain
 * float64 loops over a memory: an independent recomputation to hold the WASM kernels and the kernel
 * gradient's orchestration against. Slow; for tests only.
 */
import type { StepKernelOps } from '../../src/shared/model/kernel_gradient.ts';

const sigmoid = (a: number) => 1 / (1 + Math.exp(-a));
/** σ'(a) = σ(a)(1 − σ(a)) = e/(1 + e)² with e = e^−|a|: σ(1 − σ) itself cancels to 0 once σ(a) rounds to 1 (a ≳ 37). */
const sigmoidGrad = (a: number) => {
  const e = Math.exp(-Math.abs(a));
  return e / ((1 + e) * (1 + e));
};
const softplus = (a: number) => Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a)));
const act = (kind: number, a: number) => (kind === 1 ? Math.tanh(a) : kind === 2 ? Math.max(a, 0) : a);
const actGrad = (kind: number, y: number) => (kind === 1 ? 1 - y * y : kind === 2 ? (y > 0 ? 1 : 0) : 1);

export function jsStepKernels(memory: WebAssembly.Memory): StepKernelOps {
  const f = () => new Float32Array(memory.buffer);
  const gemm = (
    M: number,
    N: number,
    K: number,
    a: (m: number, k: number) => number,
    bq: (k: number, n: number) => number,
    C: number,
    ldc: number,
    acc: number,
  ) => {
    const m32 = f(),
      c = C / 4;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = acc ? m32[c + m * ldc + n] : 0;
        for (let k = 0; k < K; k++) s += a(m, k) * bq(k, n);
        m32[c + m * ldc + n] = s;
      }
    }
  };
  return {
    gemm_nt(M, N, K, A, lda, B, ldb, C, ldc, acc) {
      const m = f();
      gemm(
        M,
        N,
        K,
        (i, k) => m[A / 4 + i * lda + k],
        (k, n) => m[B / 4 + n * ldb + k],
        C,
        ldc,
        acc,
      );
    },
    gemm_nn(M, N, K, A, lda, B, ldb, C, ldc, acc) {
      const m = f();
      gemm(
        M,
        N,
        K,
        (i, k) => m[A / 4 + i * lda + k],
        (k, n) => m[B / 4 + k * ldb + n],
        C,
        ldc,
        acc,
      );
    },
    gemm_tn(M, N, K, A, lda, B, ldb, C, ldc, acc) {
      const m = f();
      gemm(
        M,
        N,
        K,
        (i, k) => m[A / 4 + k * lda + i],
        (k, n) => m[B / 4 + k * ldb + n],
        C,
        ldc,
        acc,
      );
    },
    bias_act(M, N, Y, ldy, bias, kind) {
      const m = f();
      for (let i = 0; i < M; i++)
        for (let n = 0; n < N; n++) {
          const o = Y / 4 + i * ldy + n;
          m[o] = act(kind, m[o] + (bias ? m[bias / 4 + n] : 0));
        }
    },
    act_grad(M, N, G, ldg, Y, ldy, kind) {
      const m = f();
      for (let i = 0; i < M; i++) for (let n = 0; n < N; n++) m[G / 4 + i * ldg + n] *= actGrad(kind, m[Y / 4 + i * ldy + n]);
    },
    col_sum(M, N, G, ldg, out, acc) {
      const m = f();
      for (let n = 0; n < N; n++) {
        let s = acc ? m[out / 4 + n] : 0;
        for (let i = 0; i < M; i++) s += m[G / 4 + i * ldg + n];
        m[out / 4 + n] = s;
      }
    },
    bernoulli_head(M, N, Lg, ldl, X, ldx, scale, withValue) {
      const m = f();
      let v = 0;
      for (let i = 0; i < M; i++)
        for (let n = 0; n < N; n++) {
          const o = Lg / 4 + i * ldl + n,
            l = m[o],
            x = m[X / 4 + i * ldx + n];
          if (withValue) v += x * l - softplus(l);
          m[o] = scale * (x - sigmoid(l));
        }
      return v;
    },
    gaussian_head(M, N, R, ldr, V, ldv, X, ldx, sigmoidMean, scale, withValue) {
      const m = f();
      let val = 0;
      for (let i = 0; i < M; i++)
        for (let n = 0; n < N; n++) {
          const or = R / 4 + i * ldr + n,
            ov = V / 4 + i * ldv + n;
          const raw = m[or],
            v = m[ov],
            x = m[X / 4 + i * ldx + n];
          const mean = sigmoidMean ? sigmoid(raw) : raw,
            res = x - mean,
            iv = Math.exp(-v);
          if (withValue) val += -0.5 * Math.log(2 * Math.PI) - 0.5 * v - 0.5 * res * res * iv;
          m[or] = scale * res * iv * (sigmoidMean ? sigmoidGrad(raw) : 1);
          m[ov] = scale * 0.5 * (res * res * iv - 1);
        }
      return val;
    },
  };
}
