/**
 * Early stopping (config.earlyStop = N): stop training after N evaluations in a row without a
 * better test ELBO, and keep the state of the best one. The test ELBO is the held-out bound
 * ℒ(θ, φ; x_test) that every evaluation point reports; "better" is strictly greater (a tie is no
 * progress). N = 0 is off. The tracker keeps whatever snapshot the caller takes at each new best
 * (the trainer: θ, φ and the optimizer's slots, for checkpoint bytes of the best state).
 *
 * A resumed run starts a new count: the tracker's state is not in a checkpoint.
 */

/** Where early stopping stands after one evaluation (on the 'epoch' event, when it is on). */
export interface EarlyStopMark {
  /** Evaluations seen (1 for the first). */
  evaluation: number;
  /** This evaluation's test ELBO is the best so far: its state is kept. */
  best: boolean;
  /** Evaluations since the best (0 when this one is the best). */
  sinceBest: number;
  /** The best test ELBO so far, and the step and evaluation it was reached at. */
  bestElbo: number;
  bestStep: number;
  bestEvaluation: number;
  /** N evaluations without a better one: training stops here. */
  stop: boolean;
}

export class EarlyStop<S> {
  private evaluations = 0;
  private bestElbo = Number.NEGATIVE_INFINITY;
  private bestStep = -1;
  private bestEvaluation = 0;
  private snapshot: S | undefined;
  private last: EarlyStopMark | undefined;

  /** `patience` N ≥ 1: evaluations without a better test ELBO before stopping. */
  constructor(readonly patience: number) {}

  /** A tracker for `earlyStop` N, or undefined when it is off (0). */
  static of<S>(patience: number): EarlyStop<S> | undefined {
    return patience > 0 ? new EarlyStop<S>(patience) : undefined;
  }

  /** Record one evaluation's test ELBO at `step`; at a new best, `take()` is the state kept. */
  observe(testElbo: number, step: number, take: () => S): EarlyStopMark {
    this.evaluations++;
    // NaN is never better (a diverging model is no improvement).
    const best = testElbo > this.bestElbo;
    if (best) {
      this.bestElbo = testElbo;
      this.bestStep = step;
      this.bestEvaluation = this.evaluations;
      this.snapshot = take();
    }
    const sinceBest = this.evaluations - this.bestEvaluation;
    this.last = {
      evaluation: this.evaluations,
      best,
      sinceBest,
      bestElbo: this.bestElbo,
      bestStep: this.bestStep,
      bestEvaluation: this.bestEvaluation,
      stop: sinceBest >= this.patience,
    };
    return this.last;
  }

  /** The mark of the evaluation that stopped training, or undefined while it goes on. */
  get stopped(): EarlyStopMark | undefined {
    return this.last?.stop ? this.last : undefined;
  }

  /** The state kept at the best evaluation so far (undefined before the first). */
  get best(): S | undefined {
    return this.snapshot;
  }
}
