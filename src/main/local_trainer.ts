/**
 * AEVB (Algorithm 1) on the calling thread: one worker's worth of training, used by the CLI and
 * the tests, and the reference the pool is compared against.
 *
 *   θ, φ ← init
 *   repeat: X^M ← minibatch(step);  ε ← noise(seed, step, g, l);  g ← ∇ Σ ℒ̃(X^M, ε);  θ, φ ← update(g)
 *
 * A step is all or nothing: a non-finite gradient is never applied (θ, φ and the optimizer
 * state stay as they were), the step is reported as failed, and training goes on.
 */
import type { TrainConfig } from '../shared/config.ts';
import type { DataSplit } from '../shared/dataset.ts';
import { numericError, type AevbError } from '../shared/errors.ts';
import { evaluateElbo, evaluateLogLikelihood } from '../shared/evaluate.ts';
import { SgvbGradient, type ShardValue } from '../shared/gradients.ts';
import { buildLayout, type ParamLayout } from '../shared/layout.ts';
import { buildShard } from '../shared/minibatch.ts';
import { initParams } from '../shared/model.ts';
import { applyUpdate, createSlots, firstNonFinite } from '../shared/optimizers.ts';
import { MinibatchSchedule } from '../shared/schedule.ts';

/** Everything that changes during training; with the config, it is the whole run. */
export interface TrainingState {
  params: Float32Array;
  slots: Float32Array[];
  /** Updates applied or attempted so far (the next step's number). */
  step: number;
  /** Training datapoints processed. */
  samplesSeen: number;
}

export interface StepResult {
  step: number;
  ok: boolean;
  /** The minibatch's ELBO terms per datapoint, when computed. */
  value?: ShardValue;
  error?: AevbError;
}

export interface Evaluation {
  trainElbo: number;
  testElbo: number;
  trainRecon: number;
  trainKl: number;
  testRecon: number;
  testKl: number;
  /** Importance-sampled log p(x) on the test set, when K > 0. */
  logLikelihood?: number;
}

export function initialState(cfg: TrainConfig, layout: ParamLayout = buildLayout(cfg)): TrainingState {
  return { params: initParams(cfg, cfg.seed, layout), slots: createSlots(cfg.optimizer, layout.size), step: 0, samplesSeen: 0 };
}

export class LocalTrainer {
  readonly layout: ParamLayout;
  readonly schedule: MinibatchSchedule;
  private readonly engine: SgvbGradient;
  private readonly grad: Float32Array;

  constructor(readonly cfg: TrainConfig, readonly data: DataSplit, readonly state: TrainingState = initialState(cfg)) {
    this.layout = buildLayout(cfg);
    this.schedule = new MinibatchSchedule(cfg.seed, data.train.n, cfg.batch);
    this.engine = new SgvbGradient(cfg, this.layout);
    this.grad = new Float32Array(this.layout.size);
  }

  get stepsPerEpoch(): number { return this.schedule.stepsPerEpoch; }

  /** One AEVB update. `withValue` also computes the minibatch ELBO (a log per pixel). */
  step(withValue = false): StepResult {
    const { cfg, state } = this;
    const step = state.step;
    const shard = buildShard(cfg, this.data.train, { indices: this.schedule.indices(step), step });
    const value = this.engine.compute(state.params, shard, this.grad, withValue);
    state.step++;
    const bad = firstNonFinite(this.grad);
    if (bad >= 0 || (withValue && !Number.isFinite(value.elbo))) {
      const where = bad >= 0 ? `the gradient of ${this.layout.specs.find((s) => bad < s.offset + s.size)!.name}` : 'the ELBO';
      return {
        step, ok: false,
        error: numericError(`Step ${step}: ${where} is not finite; the update was not applied and the model is unchanged.`,
          'Lower --lr (or use --optimizer adagrad/adam), or check the data for extreme values.'),
      };
    }
    applyUpdate({
      kind: cfg.optimizer, params: state.params, gradSum: this.grad, slots: state.slots,
      gradScale: -1 / cfg.batch, lr: cfg.lr, weightDecay: cfg.weightDecay, t: step + 1, start: 0, end: state.params.length,
    });
    state.samplesSeen += cfg.batch;
    const M = cfg.batch;
    return { step, ok: true, value: withValue ? { elbo: value.elbo / M, recon: value.recon / M, kl: value.kl / M } : undefined };
  }

  /** ELBO on the training and test sets, and log p(x) on the test set if K > 0. */
  evaluate(logLikelihoodSamples = this.cfg.evalSamples): Evaluation {
    const { cfg, state, data } = this;
    const tr = evaluateElbo(cfg, state.params, data.train, cfg.seed);
    const te = evaluateElbo(cfg, state.params, data.test, cfg.seed);
    const out: Evaluation = {
      trainElbo: tr.elbo, testElbo: te.elbo, trainRecon: tr.recon, trainKl: tr.kl, testRecon: te.recon, testKl: te.kl,
    };
    if (logLikelihoodSamples > 0) {
      out.logLikelihood = evaluateLogLikelihood(cfg, state.params, data.test, logLikelihoodSamples, cfg.seed);
    }
    return out;
  }

  dispose(): void {
    this.engine.dispose();
  }
}
