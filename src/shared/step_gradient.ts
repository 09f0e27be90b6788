/**
 * The gradient a training step computes, chosen once by config.algorithm, and the inputs of one
 * shard of a step. Every path that trains (a pool worker on the shared path, a worker answering the
 * message path, LocalTrainer) gets both from here, so the algorithms cannot drift apart by path.
 *
 *   'aevb'        SgvbGradient        ∇ Σ_i ℒ̃(x_i) (estimator A or B), gradients.ts
 *   'wake-sleep'  WakeSleepGradient   wake ∇θ, sleep ∇φ in one vector, wake_sleep_gradient.ts
 *
 * Both return sums over the shard in the ascent direction; the update (step_update.ts) is the same.
 */
import type { TrainConfig } from './config.ts';
import type { Dataset } from './dataset.ts';
import { SgvbGradient, type ShardGradient } from './gradients.ts';
import type { ParamLayout } from './layout.ts';
import { buildShard, type ShardInputs } from './minibatch.ts';
import type { MinibatchSchedule } from './schedule.ts';
import { drawDreams, WakeSleepGradient } from './wake_sleep_gradient.ts';

export function createStepGradient(cfg: TrainConfig, layout: ParamLayout): ShardGradient {
  return cfg.algorithm === 'wake-sleep' ? new WakeSleepGradient(cfg, layout) : new SgvbGradient(cfg, layout);
}

/**
 * The shard [lo, hi) of step `step`'s minibatch: its datapoints and ε (keyed by global index), and
 * for wake-sleep its dreams (keyed by the positions lo … hi − 1, so any split draws the same ones).
 */
export function stepShard(cfg: TrainConfig, data: Dataset, schedule: MinibatchSchedule, step: number, lo: number, hi: number): ShardInputs {
  const shard = buildShard(cfg, data, { indices: schedule.indices(step).subarray(lo, hi), step });
  return cfg.algorithm === 'wake-sleep' ? { ...shard, dreams: drawDreams(cfg, step, lo, hi - lo) } : shard;
}
