/**
 * evaluateElbo and evaluateLogLikelihood on a model whose marginal is known exactly (docs/method.md,
 * "Useful closed forms"): a linear-Gaussian decoder x | z ~ N(Az + c, s²I), p(z) = N(0, I), so
 * p(x) = N(x; c, AAᵀ + s²I), computed here in float64 with a Cholesky factorisation.
 *
 * The model with activation 'linear' and sigmoidMean false:
 *   decoder h = W1 z + b1, mean = W4' h + b4'  ⇒  A = W4'·W1, c = W4'·b1 + b4';  dec.W5 = 0, dec.b5 = log s²
 *   encoder h = W3 x + b3 with W3 = I (H = D), b3 = 0  ⇒  μ = W4 x + b4, log σ² = W5 x + b5 with W5 = 0.
 * A has orthogonal columns, so AᵀA is diagonal and so is the exact posterior
 *   N(Σ Aᵀ(x − c)/s², Σ), Σ = (I + AᵀA/s²)⁻¹,
 * which the encoder then represents exactly: W4 = Σ Aᵀ/s², b4 = −Σ Aᵀ c/s², b5 = log diag Σ.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { resolveConfig } from '../../src/shared/training/config.ts';
import { buildLayout, view } from '../../src/shared/model/layout.ts';
import { evaluateElbo, evaluateLogLikelihood, logLikelihoodSum } from '../../src/shared/model/evaluate.ts';
import type { Dataset } from '../../src/shared/data/dataset.ts';
import { useBackend } from '../helpers/backend.ts';

const D = 5,
  J = 2,
  H = D,
  S2 = 0.25;
const LOG_2PI = Math.log(2 * Math.PI);
const cfg = resolveConfig({
  inputSize: D,
  hidden: H,
  latent: J,
  activation: 'linear',
  decoder: 'gaussian',
  sigmoidMean: false,
  init: 'pytorch',
});
const layout = buildLayout(cfg);

type Mat = number[][];
const matmul = (a: Mat, b: Mat): Mat => a.map((r) => b[0].map((_, j) => r.reduce((s, v, k) => s + v * b[k][j], 0)));
const matvec = (a: Mat, v: number[]) => a.map((r) => r.reduce((s, x, k) => s + x * v[k], 0));
const transpose = (a: Mat): Mat => a[0].map((_, j) => a.map((r) => r[j]));

// Decoder: W1 [H, J] with orthogonal columns; W4' = a Householder reflection Q (orthogonal), so
// A = Q W1 keeps orthogonal columns while every entry of A is non-trivial.
const W1: Mat = [
  [0.8, 1.2],
  [0.8, -1.2],
  [0, 1.2],
  [0.8, 0],
  [-0.8, 0],
];
const b1 = [0.1, -0.2, 0.3, 0.0, 0.2];
const hv = [1, 2, -1, 0.5, 1];
const hvn = hv.reduce((s, v) => s + v * v, 0);
const Q: Mat = hv.map((vi, i) => hv.map((vj, j) => (i === j ? 1 : 0) - (2 * vi * vj) / hvn));
const b4dec = [0.5, 0.4, 0.6, 0.3, 0.5];
const A = matmul(Q, W1); // [D, J]
const c = matvec(Q, b1).map((v, d) => v + b4dec[d]); // [D]
const AtA = matmul(transpose(A), A); // [J, J], diagonal

/** Exact log N(x; c, AAᵀ + s²I) by Cholesky, float64. */
function exactLogPx(x: number[]): number {
  const C = matmul(A, transpose(A)).map((r, i) => r.map((v, j) => v + (i === j ? S2 : 0)));
  const Lc: Mat = C.map(() => new Array<number>(D).fill(0));
  for (let i = 0; i < D; i++) {
    for (let j = 0; j <= i; j++) {
      let s = C[i][j];
      for (let k = 0; k < j; k++) s -= Lc[i][k] * Lc[j][k];
      Lc[i][j] = i === j ? Math.sqrt(s) : s / Lc[j][j];
    }
  }
  const r = x.map((v, d) => v - c[d]);
  const y = new Array<number>(D); // solve Lc y = r
  for (let i = 0; i < D; i++) {
    let s = r[i];
    for (let k = 0; k < i; k++) s -= Lc[i][k] * y[k];
    y[i] = s / Lc[i][i];
  }
  const logDet = 2 * Lc.reduce((s, row, i) => s + Math.log(row[i]), 0);
  return -0.5 * (D * LOG_2PI + logDet + y.reduce((s, v) => s + v * v, 0));
}

interface Encoder {
  W4: Mat;
  b4: number[];
  b5: number[];
}

/** The exact posterior's encoder (see the header). */
function exactEncoder(): Encoder {
  const Sig = [0, 1].map((j) => 1 / (1 + AtA[j][j] / S2));
  const W4 = transpose(A).map((row, j) => row.map((v) => (Sig[j] * v) / S2));
  const b4 = matvec(W4, c).map((v) => -v);
  return { W4, b4, b5: Sig.map(Math.log) };
}

/**
 * The ELBO of one x for an encoder, in closed form, and the variance of its one-sample estimator B
 * (evaluateElbo): with r0 = x − c − Aμ, S = diag σ²,
 *   E_q log p(x|z) = −(D/2) log(2π s²) − (|r0|² + tr(AᵀA S)) / (2s²),   ELBO = that − KL(q ‖ p)
 *   Var log p(x|z) = [4 |S^½ Aᵀ r0|² + 2 tr(M²)] / (4 s⁴),   M = S^½ AᵀA S^½   (Gaussian quadratic form)
 */
function analyticElbo(enc: Encoder, x: number[]): { elbo: number; variance: number } {
  const mu = matvec(enc.W4, x).map((v, j) => v + enc.b4[j]);
  const sig2 = enc.b5.map(Math.exp);
  const r0 = x.map((v, d) => v - c[d] - A[d].reduce((s, a, j) => s + a * mu[j], 0));
  const r0sq = r0.reduce((s, v) => s + v * v, 0);
  let trAS = 0;
  for (let j = 0; j < J; j++) trAS += AtA[j][j] * sig2[j];
  const recon = -0.5 * D * Math.log(2 * Math.PI * S2) - (r0sq + trAS) / (2 * S2);
  let kl = 0;
  for (let j = 0; j < J; j++) kl += 0.5 * (mu[j] ** 2 + sig2[j] - 1 - Math.log(sig2[j]));
  const Atr = matvec(transpose(A), r0);
  let lin = 0,
    tr2 = 0;
  for (let j = 0; j < J; j++) lin += sig2[j] * Atr[j] ** 2;
  for (let i = 0; i < J; i++) for (let j = 0; j < J; j++) tr2 += (Math.sqrt(sig2[i] * sig2[j]) * AtA[i][j]) ** 2;
  return { elbo: recon - kl, variance: (4 * lin + 2 * tr2) / (4 * S2 * S2) };
}

function buildParams(enc: Encoder): Float32Array {
  const p = new Float32Array(layout.size);
  const set = (name: string, m: Mat | number[]) => view(p, layout.byName(name)).set((m as Array<number | number[]>).flat());
  set(
    'enc.W3',
    Array.from({ length: H }, (_, i) => Array.from({ length: D }, (_, d) => (i === d ? 1 : 0))),
  );
  set(
    'enc.W4',
    enc.W4.map((row) => [...row, ...new Array(H - D).fill(0)]),
  );
  set('enc.b4', enc.b4);
  set('enc.b5', enc.b5); // enc.W5, enc.b3 stay 0
  set('dec.W1', W1);
  set('dec.b1', b1);
  set('dec.W4', Q);
  set('dec.b4', b4dec);
  set('dec.b5', new Array(D).fill(Math.log(S2))); // dec.W5 stays 0
  return p;
}

// Four distinct datapoints drawn from the model (fixed z and noise), each repeated `copies` times:
// copies have distinct indices, so evaluation draws independent ε for each.
const POINTS: number[][] = [
  [0.7, -0.3],
  [-1.1, 0.4],
  [0.2, 1.5],
  [-0.4, -0.9],
].map(([z0, z1], p) => c.map((cd, d) => cd + A[d][0] * z0 + A[d][1] * z1 + 0.5 * Math.sin(3 * p + 2 * d)));

function dataset(copies: number): Dataset {
  const n = POINTS.length * copies,
    x = new Float32Array(n * D);
  for (let i = 0; i < n; i++) x.set(POINTS[i % POINTS.length], i * D);
  return { name: 'linear-gaussian', n, d: D, x };
}
/** Float32-rounded points, exactly what the evaluators see. */
const POINTS32 = POINTS.map((pt) => Array.from(Float32Array.from(pt)));
const mean = (f: (x: number[]) => number) => POINTS32.reduce((s, x) => s + f(x), 0) / POINTS32.length;
const EXACT = mean(exactLogPx);

describe('importance sampling and the ELBO against the exact marginal of a linear-Gaussian model', () => {
  beforeAll(() => useBackend('wasm'));

  it('self-check: A has orthogonal columns and the closed-form ELBO of the exact posterior is log p(x)', () => {
    expect(Math.abs(AtA[0][1])).toBeLessThan(1e-12);
    const enc = exactEncoder();
    for (const x of POINTS32) expect(Math.abs(analyticElbo(enc, x).elbo - exactLogPx(x))).toBeLessThan(1e-9);
  });

  describe('encoder = exact posterior', () => {
    const params = buildParams(exactEncoder());

    it('evaluateLogLikelihood equals exact log p(x) for any K (every importance weight is p(x))', () => {
      // With q = p(z|x), log p(x, z) − log q(z|x) = log p(x) for every z: no Monte Carlo noise,
      // only float32 rounding (~1e-6 of O(10) nats). 1e-3 nats catches any wrong term.
      const data = dataset(5);
      for (const K of [1, 7, 100]) {
        expect(Math.abs(evaluateLogLikelihood(cfg, params, data, K, 3) - EXACT), `K = ${K}`).toBeLessThan(1e-3);
      }
    });

    it('evaluateElbo equals exact log p(x) within 4 standard errors (its recon term is one sample)', () => {
      // evaluateElbo is estimator B with L = 1: analytic KL, but log p(x|z) from one z, which is
      // not constant in z even for the exact posterior. So it equals log p(x) only in expectation;
      // its standard error follows from the closed-form variance above (n = 4000 draws).
      const copies = 1000,
        data = dataset(copies);
      const se = Math.sqrt(mean((x) => analyticElbo(exactEncoder(), x).variance) / data.n);
      const got = evaluateElbo(cfg, params, data, 3).elbo;
      // Measured: −4.5308 against −4.5167, SE 0.0151 (0.93 SE).
      expect(se).toBeLessThan(0.02);
      expect(Math.abs(got - EXACT), `ELBO ${got}, log p(x) ${EXACT}, SE ${se}`).toBeLessThan(4 * se + 1e-4);
    });
  });

  describe('encoder = a perturbed posterior', () => {
    const ex = exactEncoder();
    const enc: Encoder = {
      W4: ex.W4.map((r) => r.map((v) => 0.9 * v)),
      b4: ex.b4.map((v, j) => v + 0.1 * (j + 1)),
      b5: ex.b5.map((v) => v + 0.5),
    };
    const params = buildParams(enc);
    const analytic = mean((x) => analyticElbo(enc, x).elbo);
    // The gap log p(x) − ELBO = KL(q ‖ p(z|x)) is 0.459 nats here (closed form: ELBO −4.976, log p(x) −4.517).

    it('evaluateElbo matches the closed-form ELBO (4 SE) and lies below log p(x)', () => {
      const data = dataset(1000);
      const se = Math.sqrt(mean((x) => analyticElbo(enc, x).variance) / data.n);
      const got = evaluateElbo(cfg, params, data, 3).elbo;
      // Measured: −4.9925 against −4.9757, SE 0.0297 (0.57 SE); 16 SE below log p(x).
      expect(EXACT - analytic).toBeGreaterThan(0.2);
      expect(Math.abs(got - analytic), `ELBO ${got}, closed form ${analytic}, SE ${se}`).toBeLessThan(4 * se + 1e-4);
      expect(got).toBeLessThan(EXACT);
    });

    it('evaluateLogLikelihood rises with K towards log p(x): K = 1000 within 0.01 nats', () => {
      const data = dataset(25); // 100 datapoints
      const est = [1, 10, 100, 1000].map((K) => evaluateLogLikelihood(cfg, params, data, K, 3));
      // E[log p̂_K] is non-decreasing in K (Burda et al. 2015, Theorem 1); the estimates for
      // larger K reuse the smaller K's ε (the same counters), so MC noise is shared.
      // Measured: −4.9489, −4.5905, −4.5166, −4.5159 for K = 1, 10, 100, 1000 (exact −4.5167).
      // The steps shrink as K grows; 1e-3 allows for MC noise once the estimate has converged.
      for (let i = 1; i < est.length; i++) expect(est[i], `K sequence ${est.join(', ')}`).toBeGreaterThan(est[i - 1] - 1e-3);
      expect(est[0]).toBeLessThan(EXACT - 0.2); // K = 1 is a one-sample ELBO
      // Bias of the K-sample estimate ≈ Var(w/p)/(2K) and its noise ~ √(Var(w/p)/(K·n)): with q
      // wider than the posterior both are ≪ 0.01 nats at K = 1000. Measured: |error| = 8e-4.
      expect(Math.abs(est[3] - EXACT), `K = 1000 gives ${est[3]}, exact ${EXACT}`).toBeLessThan(0.01);
    });

    it('gives the same estimate when K exceeds the column budget (blocks merged by log-sum-exp) as in one block', () => {
      const data = dataset(3); // 12 datapoints
      const whole = logLikelihoodSum(cfg, params, data, 300, 3, 0, data.n, 2000);
      const blocks = logLikelihoodSum(cfg, params, data, 300, 3, 0, data.n, 70); // blocks of 70, 70, 70, 70, 20 samples
      expect(blocks).toBeCloseTo(whole, 3);
      expect(Math.abs(whole / data.n - EXACT)).toBeLessThan(0.05);
    });
  });
});
