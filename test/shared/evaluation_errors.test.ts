/**
 * The evaluation's standard errors against what they claim to describe (docs/method.md, "Evaluation"):
 * the spread of independent repeated evaluations of one fixed model (different evaluation draws).
 *
 * Tolerances come from the sampling distribution of a standard deviation: the sample SD of R
 * independent, roughly normal estimates has relative standard error ≈ 1/√(2(R − 1)), so a reported
 * SE that is right gives |SD/SE − 1| within 3/√(2(R − 1)) but for a 0.3 % chance (and the draws are
 * fixed, so the test is deterministic). The reported SE itself varies a little between repeats; its
 * mean over the R repeats is used.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { resolveConfig } from '../../src/shared/training/config.ts';
import {
  elboReport,
  elboSums,
  estimateLogLikelihood,
  evaluateElbo,
  logLikelihoodSums,
  logMeanExpWithVariance,
} from '../../src/shared/model/evaluate.ts';
import type { Dataset } from '../../src/shared/data/dataset.ts';
import { LocalTrainer } from '../../src/main/local_trainer.ts';
import { mnistSubset } from '../helpers/mnist_subset.ts';
import { useBackend } from '../helpers/backend.ts';

const cfg = resolveConfig({ inputSize: 784, hidden: 50, latent: 5, batch: 50, optimizer: 'adam', lr: 1e-3, init: 'pytorch', seed: 4 });
let params: Float32Array;
let test: Dataset;

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
const sd = (a: number[]) => {
  const m = mean(a);
  return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / (a.length - 1));
};
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

beforeAll(async () => {
  await useBackend('wasm');
  const data = mnistSubset(600, 100);
  // A small model trained a little (60 steps), so q(z|x) is no longer the prior and ε matters.
  const t = new LocalTrainer(cfg, data);
  for (let i = 0; i < 60; i++) t.step();
  params = t.state.params.slice();
  t.dispose();
  test = data.test;
});

describe('ELBO standard error', () => {
  it('agrees with the spread of independent repeated evaluations (S = 2, R = 100 draws)', () => {
    const R = 100;
    const reps = range(R).map((draw) => evaluateElbo(cfg, params, test, cfg.seed, { samples: 2, draw }));
    const spread = sd(reps.map((r) => r.elbo)),
      se = mean(reps.map((r) => r.se!));
    const tol = 3 / Math.sqrt(2 * (R - 1));
    console.log(
      `ELBO S=2: spread ${spread.toFixed(4)} reported SE ${se.toFixed(4)} ratio ${(spread / se).toFixed(3)} tol ${tol.toFixed(3)}`,
    );
    expect(Math.abs(spread / se - 1), `spread ${spread}, SE ${se}`).toBeLessThan(tol);
  });

  it('falls as 1/√S: the spread at S = 1 is twice that at S = 4, and the SE at S = 2 twice that at S = 8', () => {
    const R = 100;
    const at = (S: number) => range(R).map((draw) => evaluateElbo(cfg, params, test, cfg.seed, { samples: S, draw: 1000 + draw }));
    const s1 = at(1),
      s4 = at(4);
    expect(s1[0].se).toBeNull(); // S = 1: no standard error
    // The ratio of two independent sample SDs: relative SE ≈ √(1/(2(R−1)) + 1/(2(R−1))).
    const ratio = sd(s1.map((r) => r.elbo)) / sd(s4.map((r) => r.elbo));
    const tolRatio = 3 * Math.sqrt(2 / (2 * (R - 1)));
    console.log(`spread S=1 / S=4 = ${ratio.toFixed(3)} tol ${tolRatio.toFixed(3)}`);
    expect(Math.abs(ratio / 2 - 1), `spread ratio ${ratio}`).toBeLessThan(tolRatio);
    // The reported SEs: SE² is a sum of per-datapoint variances, averaged here over R' draws; the
    // tolerance is the delta method for a ratio of means, from the SE²'s own spread across draws.
    const R2 = 20;
    const v2 = range(R2).map((d) => evaluateElbo(cfg, params, test, cfg.seed, { samples: 2, draw: 5000 + d }).se! ** 2);
    const v8 = range(R2).map((d) => evaluateElbo(cfg, params, test, cfg.seed, { samples: 8, draw: 5000 + d }).se! ** 2);
    const seRatio = Math.sqrt(mean(v2) / mean(v8));
    const relVar = (a: number[]) => (sd(a) / mean(a)) ** 2 / a.length;
    const tolSe = 3 * 0.5 * Math.sqrt(relVar(v2) + relVar(v8)); // √ halves the relative error
    console.log(`SE S=2 / S=8 = ${seRatio.toFixed(3)} tol ${tolSe.toFixed(3)}`);
    expect(Math.abs(seRatio / 2 - 1), `SE ratio ${seRatio}`).toBeLessThan(tolSe);
  });
});

describe('evaluation noise', () => {
  it('differs between the training and the test set (the same images in both get different draws)', () => {
    const noise = { seed: cfg.seed, draw: 7 };
    const asTrain = elboReport(elboSums(cfg, params, test, { ...noise, split: 'train' }, 2));
    const asTest = elboReport(elboSums(cfg, params, test, { ...noise, split: 'test' }, 2));
    const again = elboReport(elboSums(cfg, params, test, { ...noise, split: 'test' }, 2));
    expect(again).toEqual(asTest); // a draw is a pure function of (seed, set, draw, image, s)
    expect(asTrain.elbo).not.toBe(asTest.elbo); // distinct noise …
    expect(asTrain.kl).toBe(asTest.kl); // … on the same images (the KL term has none)
    // … and only noise: the two differ by what their standard errors allow (5 SE of the difference).
    expect(Math.abs(asTrain.elbo - asTest.elbo)).toBeLessThan(5 * Math.hypot(asTrain.se!, asTest.se!));
    const isTrain = logLikelihoodSums(cfg, params, test, 10, { ...noise, split: 'train' });
    const isTest = logLikelihoodSums(cfg, params, test, 10, { ...noise, split: 'test' });
    expect(isTrain.sum).not.toBe(isTest.sum);
  });

  it('differs between evaluations (draws), and splitting the range changes nothing but float order', () => {
    const n = { seed: cfg.seed, split: 'test' as const };
    const a = elboSums(cfg, params, test, { ...n, draw: 1 }, 3),
      b = elboSums(cfg, params, test, { ...n, draw: 2 }, 3);
    expect(a.elbo).not.toBe(b.elbo);
    const parts = [elboSums(cfg, params, test, { ...n, draw: 1 }, 3, 0, 37), elboSums(cfg, params, test, { ...n, draw: 1 }, 3, 37, 100)];
    expect(parts[0].elbo + parts[1].elbo).toBeCloseTo(a.elbo, 2);
    expect(parts[0].variance + parts[1].variance).toBeCloseTo(a.variance, 2);
  });
});

describe('importance-sampled log p(x) standard error', () => {
  it('agrees with the spread of independent repeated estimates (K = 20, R = 100 draws)', () => {
    const R = 100,
      K = 20;
    const reps = range(R).map((draw) => estimateLogLikelihood(cfg, params, test, K, cfg.seed, { draw }));
    const spread = sd(reps.map((r) => r.logLikelihood)),
      se = mean(reps.map((r) => r.se!));
    const tol = 3 / Math.sqrt(2 * (R - 1));
    console.log(
      `IS K=20: spread ${spread.toFixed(4)} reported SE ${se.toFixed(4)} ratio ${(spread / se).toFixed(3)} tol ${tol.toFixed(3)}`,
    );
    expect(Math.abs(spread / se - 1), `spread ${spread}, SE ${se}`).toBeLessThan(tol);
  });
});

describe('logMeanExpWithVariance', () => {
  it('is the log of the mean weight and the jackknife variance, computed directly for moderate log-weights', () => {
    const lw = [-1.2, 0.3, -0.5, 2.0, 0.1];
    const K = lw.length,
      w = lw.map(Math.exp);
    const loo = w.map((_, k) => Math.log((w.reduce((a, b) => a + b, 0) - w[k]) / (K - 1)));
    const lbar = mean(loo);
    const r = logMeanExpWithVariance(lw);
    expect(r.logMean).toBeCloseTo(Math.log(mean(w)), 12);
    expect(r.variance).toBeCloseTo(((K - 1) / K) * loo.reduce((s, v) => s + (v - lbar) ** 2, 0), 12);
  });

  it("is shift-invariant and finite for log-weights far outside exp()'s range; 0 variance for K = 1 or equal weights", () => {
    const lw = [-1.2, 0.3, -0.5, 2.0, 0.1];
    const a = logMeanExpWithVariance(lw),
      b = logMeanExpWithVariance(lw.map((v) => v - 5000));
    expect(b.logMean).toBeCloseTo(a.logMean - 5000, 8);
    expect(b.variance).toBeCloseTo(a.variance, 10);
    // One weight dominating by e^800: the leave-it-out mean is taken from the others directly.
    const d = logMeanExpWithVariance([800, 0, 0, 0]);
    expect(Number.isFinite(d.variance) && d.variance > 0).toBe(true);
    expect(logMeanExpWithVariance([3]).variance).toBe(0);
    expect(logMeanExpWithVariance([3, 3, 3]).variance).toBeCloseTo(0, 12);
  });
});
