/**
 * The gradient a training step computes, chosen once by config.algorithm and the kernels, and the
 * inputs of one shard of a step. Every path that trains (a pool worker on the shared path, a worker
 * answering the message path, LocalTrainer) gets both from here, so the paths cannot drift apart.
 *
 *   'aevb' on aevb's kernels   AevbStepGradient    ∇ Σ_i ℒ̃(x_i) (estimator A or B), model/kernel_gradient.ts
 *   'aevb' on tfjs             SgvbGradient        the same, in TF.js ops (the reference), gradients.ts
 *   'wake-sleep'               WakeSleepGradient   wake ∇θ, sleep ∇φ in one vector, wake_sleep_gradient.ts
 *                                                  (TF.js: aevb's kernels implement the SGVB gradient only)
 *
 * All return sums over the shard in the ascent direction; the update (step_update.ts) is the same.
 */
import type { TrainConfig } from './config.ts';
import type { Dataset } from '../data/dataset.ts';
import { SgvbGradient, type CopyTimes, type ShardValue } from '../model/gradients.ts';
import type { ParamLayout } from '../model/layout.ts';
import { buildShard, type ShardInputs } from './minibatch.ts';
import { AevbStepGradient, type KernelFactory, type KernelPlace } from '../model/aevb_step_gradient.ts';
import type { KernelChoice } from '../runtime/protocol.ts';
import { runsOnAevbKernels, type KernelsInUse } from './step_plan.ts';
import type { MinibatchSchedule } from './schedule.ts';
import { drawDreams, WakeSleepGradient } from '../model/wake_sleep_gradient.ts';
import { stepKernelFactory } from '../model/step_kernels.ts';

/** What a step calls: the gradient of a shard into a slot, and what it cost to copy. */
export interface StepGradient {
  /**
   * ∇ Σ_shard ℒ̃ into gradOut (layout order) and, if withValue, the shard's ELBO terms. `mirror`: the
   * state's transposed weights, for the tfjs gradient (aevb's kernels need none).
   */
  compute(params: Float32Array, shard: ShardInputs, gradOut: Float32Array, withValue?: boolean, mirror?: Float32Array): ShardValue;
  readonly copyTimes: CopyTimes;
  dispose(): void;
}

/**
 * The step's gradient. `place`: where aevb's kernels work (a memory that holds θ and the gradient
 * slot, and this worker's scratch in it); without one they work in a memory of their own and copy.
 */
export function createStepGradient(
  cfg: TrainConfig,
  layout: ParamLayout,
  kernels: KernelChoice = 'aevb',
  place?: KernelPlace,
  factory: KernelFactory = stepKernelFactory(),
): StepGradient & { readonly kernels: KernelsInUse } {
  if (cfg.algorithm === 'wake-sleep') return Object.assign(new WakeSleepGradient(cfg, layout), { kernels: 'tfjs' as const });
  if (!runsOnAevbKernels(cfg, kernels)) return Object.assign(new SgvbGradient(cfg, layout), { kernels: 'tfjs' as const });
  const g = new AevbStepGradient(cfg, layout, factory, place);
  return Object.assign(g, { kernels: `aevb-${g.build}` as KernelsInUse });
}

/**
 * The shard [lo, hi) of step `step`'s minibatch: its datapoints and ε (keyed by global index), and
 * for wake-sleep its dreams (keyed by the positions lo … hi − 1, so any split draws the same ones).
 */
export function stepShard(cfg: TrainConfig, data: Dataset, schedule: MinibatchSchedule, step: number, lo: number, hi: number): ShardInputs {
  const shard = buildShard(cfg, data, { indices: schedule.indices(step).subarray(lo, hi), step });
  return cfg.algorithm === 'wake-sleep' ? { ...shard, dreams: drawDreams(cfg, step, lo, hi - lo) } : shard;
}
