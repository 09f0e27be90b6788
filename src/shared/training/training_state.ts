/**
 * Everything that changes during training; with the config, it is the whole run. Checkpoints,
 * the pool and the reference trainer all read and write this one shape.
 */
import type { OptimizerKind, TrainConfig } from './config.ts';
import { buildLayout, type ParamLayout } from '../model/layout.ts';
import { initParams } from '../model/model.ts';
import { OPTIMIZER_SLOTS } from './optimizers.ts';

export interface TrainingState {
  /** θ ∪ φ in the layout's order. */
  params: Float32Array;
  /** The optimizer's state vectors, in OPTIMIZER_SLOTS order, each as long as params. */
  slots: Float32Array[];
  /** Updates applied or attempted so far (the next step's number). */
  step: number;
  /** Training datapoints processed. */
  samplesSeen: number;
}

/** Fresh (zero) state for a rule over n parameters. */
export function createSlots(kind: OptimizerKind, n: number): Float32Array[] {
  return OPTIMIZER_SLOTS[kind].map(() => new Float32Array(n));
}

/** Step 0: the config's initialisation of θ and φ, zero optimizer state. */
export function initialState(cfg: TrainConfig, layout: ParamLayout = buildLayout(cfg)): TrainingState {
  return { params: initParams(cfg, cfg.seed, layout), slots: createSlots(cfg.optimizer, layout.size), step: 0, samplesSeen: 0 };
}
