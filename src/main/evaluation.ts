/**
 * The evaluation record, declared once: what an evaluation of the model on the whole sets found
 * (docs/method.md, "Evaluation"), and the same record at a point of training. The library's
 * evaluate() returns an Evaluation; the trainer's 'epoch' event is an EpochEvent; a line of the
 * CLI's metrics.jsonl (and a row of the page's metrics download) is an EpochRecord; the page's run
 * keeps its latest Evaluation with the step it was made at.
 */
import type { EarlyStopMark } from '../shared/training/early_stop.ts';

/** An evaluation of the model: the ELBO per datapoint on the test set (and the training set), and log p(x) when asked for. */
export interface Evaluation {
  /** ELBO per datapoint on the test set (nats), and its two terms: E[log p(x|z)] and KL(q(z|x) ‖ p(z)). */
  testElbo: number;
  testRecon: number;
  testKl: number;
  /** The same on the training set, when it was evaluated (evaluate({ train }), evaluateTrain). */
  trainElbo?: number;
  trainRecon?: number;
  trainKl?: number;
  /** S: draws of ε per datapoint of the evaluated ELBOs. */
  elboSamples?: number;
  /** Monte Carlo standard errors of trainElbo and testElbo (nats); null when S = 1 (none can be computed). */
  trainElboSe?: number | null;
  testElboSe?: number | null;
  /**
   * The K-sample importance-sampled estimate of log p(x) on the test set (Burda et al. 2015), when
   * K > 0: a stochastic lower bound on log p(x), E[log p̂_K] ≤ log p(x).
   */
  logLikelihood?: number;
  /** K of that estimate. */
  logLikelihoodK?: number;
  /** Its standard error (jackknife over the K weights, per datapoint; nats); null when K = 1. */
  logLikelihoodSe?: number | null;
}

/** An evaluation point of training (the trainer's 'epoch' event): the evaluation, where training was, and how long it took. */
export interface EpochEvent extends Evaluation {
  /** Epochs completed (with evaluateAt log, a point may lie inside the next epoch). */
  epoch: number;
  step: number;
  /** 'epoch': at an epoch's end; 'grid': a point of the log grid inside an epoch. */
  point: 'epoch' | 'grid';
  /** Training samples seen: the x-axis of the paper's Figure 2. */
  samplesSeen: number;
  /** Training samples per second over the steps since the previous point (evaluation excluded). */
  samplesPerSecond: number;
  trainSeconds: number;
  evalSeconds: number;
  /** Steps since the previous point skipped because a gradient was not finite. */
  failedSteps: number;
  /** With config.earlyStop N > 0: where early stopping stands after this evaluation (early_stop.ts). */
  earlyStop?: EarlyStopMark;
}

/** One line of metrics.jsonl (the CLI's, and the page's metrics download): an EpochEvent and the workers that trained. */
export type EpochRecord = EpochEvent & { workers: number };
