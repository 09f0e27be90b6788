/**
 * Every type the public API uses, exported once for both entries (index.ts for pages, node/index.ts
 * for Node) so that an app can name whatever a call takes or returns.
 */
export type {
  TrainerOptions,
  ProgressEvent,
  EpochEvent,
  TrainerStatus,
  TrainerEvents,
  TrainerEvent,
  TrainerFailure,
  DivergedFailure,
  WorkerMemory,
} from './trainer.ts';
export type { PoolFailure, PoolCall } from './pool/pool.ts';
export type { Evaluation } from './evaluation.ts';
export type { EvaluationProgress, SliceOptions } from './sliced_evaluation.ts';
export type { WorkerChoice } from './worker_count_tuner.ts';
export type { WorkerInfo, Transport, KernelChoice } from '../shared/runtime/protocol.ts';
export type { KernelsInUse } from '../shared/training/step_plan.ts';
export type { TrainingState } from '../shared/training/training_state.ts';
export type { Checkpoint } from '../shared/formats/checkpoint.ts';
export type { AevbErrorCode, Remedy, RemedyId } from '../shared/errors.ts';
export type { EvalSchedule } from '../shared/training/eval_schedule.ts';
export type { EarlyStopMark } from '../shared/training/early_stop.ts';
export type {
  TrainConfig,
  ModelConfig,
  AlgorithmKind,
  Activation,
  DecoderKind,
  InitKind,
  EstimatorKind,
  OptimizerKind,
} from '../shared/training/config.ts';
export type { Dataset, DataSplit } from '../shared/data/dataset.ts';
export type { DecoderExport, DecoderMetadata, DecoderModelJson } from './decoder_export_api.ts';
