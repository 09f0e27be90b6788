/**
 * The sums an evaluation returns over a range of datapoints, and the reports made of them: plain
 * arithmetic, free of TF.js, so the coordinator (a page's main thread) adds the workers' parts.
 * Sums over disjoint ranges add up, so any split across workers gives the same numbers.
 */

export type EvalSplit = 'train' | 'test';

export interface ElboReport {
  /** Mean over the dataset of (1/S) Σ_s ℒ̃ᴮ(x, ε_s): nats per datapoint (higher is better). */
  elbo: number;
  /** Mean E_q[log p(x|z)] (S samples per datapoint). */
  recon: number;
  /** Mean KL(q(z|x) ‖ p(z)), analytic. */
  kl: number;
  /** S: draws of ε per datapoint. */
  samples: number;
  /**
   * Monte Carlo standard error of `elbo` (nats): √(Σ_i s_i² / S) / n, with s_i² the unbiased
   * variance of datapoint i's S draws. null when S = 1 (one draw per datapoint cannot tell the
   * noise of ε from the spread between datapoints).
   */
  se: number | null;
}

/** Sums over a range of datapoints that any split of the range adds up exactly (the pool sums them across workers). */
export interface ElboSums {
  count: number;
  /** S. */
  samples: number;
  /** Σ_i of the per-datapoint means. */
  elbo: number;
  recon: number;
  kl: number;
  /** Σ_i s_i², the unbiased variance of datapoint i's S draws (0 when S = 1). */
  variance: number;
}

/** The report of ELBO sums: means per datapoint and the standard error √(Σ s_i² / S) / n (null when S = 1). */
export function elboReport(s: ElboSums): ElboReport {
  const n = s.count;
  return {
    elbo: s.elbo / n,
    recon: s.recon / n,
    kl: s.kl / n,
    samples: s.samples,
    se: s.samples > 1 ? Math.sqrt(s.variance / s.samples) / n : null,
  };
}

/** Adds ELBO sums of disjoint ranges (in the order given). */
export function addElboSums(parts: ElboSums[]): ElboSums {
  return parts.reduce(
    (a, p) => ({
      count: a.count + p.count,
      samples: p.samples,
      elbo: a.elbo + p.elbo,
      recon: a.recon + p.recon,
      kl: a.kl + p.kl,
      variance: a.variance + p.variance,
    }),
    { count: 0, samples: parts[0]?.samples ?? 1, elbo: 0, recon: 0, kl: 0, variance: 0 },
  );
}

/** Sums of the importance-sampled estimate over a range of datapoints (the pool sums them across workers). */
export interface LogLikelihoodSums {
  count: number;
  /** K. */
  samples: number;
  /** Σ_i log p̂_K(x_i). */
  sum: number;
  /** Σ_i of the jackknife variance of log p̂_K(x_i) (evaluate.ts, logMeanExpWithVariance). */
  variance: number;
}

export interface LogLikelihoodReport {
  /** Mean over the dataset of log p̂_K(x): a stochastic lower bound on log p(x) (E[log p̂_K] ≤ log p(x)). */
  logLikelihood: number;
  /** K. */
  samples: number;
  /** Its standard error √(Σ_i var_i)/n (jackknife per datapoint, nats); null for K = 1. */
  se: number | null;
}

export function logLikelihoodReport(s: LogLikelihoodSums): LogLikelihoodReport {
  return { logLikelihood: s.sum / s.count, samples: s.samples, se: s.samples > 1 ? Math.sqrt(s.variance) / s.count : null };
}

export function addLogLikelihoodSums(parts: LogLikelihoodSums[]): LogLikelihoodSums {
  return parts.reduce((a, p) => ({ count: a.count + p.count, samples: p.samples, sum: a.sum + p.sum, variance: a.variance + p.variance }), {
    count: 0,
    samples: parts[0]?.samples ?? 1,
    sum: 0,
    variance: 0,
  });
}
