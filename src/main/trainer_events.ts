/**
 * What a Trainer tells its listeners (trainer.on(type, …) and trainer.events()): progress after each
 * request, the worker count 'auto' chose, each evaluation point, failures and the status.
 */
import type { AevbError } from '../shared/errors.ts';
import type { KernelsInUse } from '../shared/training/step_plan.ts';
import type { EpochEvent } from './evaluation.ts';
import type { EventOf } from './event_stream.ts';
import type { PoolFailure } from './pool/pool.ts';
import type { WorkerChoice } from './worker_count_tuner.ts';

/** The 'epoch' event: declared with the evaluation record it carries (evaluation.ts). */
export type { EpochEvent };

/**
 * Training stopped because maxSkippedSteps steps in a row were skipped (their gradient was NaN
 * or Inf): the run diverged. The model is the one of the last applied update.
 */
export interface DivergedFailure {
  kind: 'diverged';
  /** Not one worker's fault: −1. */
  worker: -1;
  /** The last skipped step; training stopped after it. */
  step: number;
  /** The first step of the run of skipped steps. */
  firstSkipped: number;
  /** Steps skipped in a row (= maxSkippedSteps). */
  skipped: number;
  /** The problem, the likely cause and the fix, in words (= error.message). */
  cause: string;
  /** The error start() / runSteps() reject with (code NUMERIC). */
  error: AevbError;
}

/** What the 'failure' event carries: a worker death or skipped step (PoolFailure), or the stop of a diverged run. */
export type TrainerFailure = PoolFailure | DivergedFailure;

export interface ProgressEvent {
  step: number;
  /** Workers that trained the latest request. */
  workers: number;
  epoch: number;
  samplesSeen: number;
  /** Per-datapoint minibatch estimates from the latest step that computed them. */
  elbo?: number;
  recon?: number;
  kl?: number;
  samplesPerSecond: number;
  /** What computed the step's gradients: aevb's kernels and their build ('aevb-relaxed' | 'aevb-simd128'), or 'tfjs'. */
  kernels: KernelsInUse;
}

/** 'failed': training stopped on an error (a diverged run, a worker that could not be restarted); the state is kept and start() may be called again. */
export type TrainerStatus = 'idle' | 'running' | 'paused' | 'done' | 'failed' | 'disposed';

export interface TrainerEvents {
  progress: ProgressEvent;
  /** workers: 'auto' chose (or re-chose) a count, with the samples/s it measured for each. */
  workers: WorkerChoice;
  epoch: EpochEvent;
  failure: TrainerFailure;
  status: TrainerStatus;
}

/** One item of trainer.events(): `{ type: 'epoch', data: EpochEvent }` and so on, discriminated by `type`. */
export type TrainerEvent = EventOf<TrainerEvents>;
