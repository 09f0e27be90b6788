/**
 * aevb for Node: train a VAE on every core with worker_threads.
 *
 *   import { createTrainer, loadEmbeddedMnist } from 'aevb/node';
 *   const trainer = await createTrainer({ data: loadEmbeddedMnist(), config: { epochs: 5 } });
 *   trainer.on('epoch', (e) => console.log(e.epoch, e.testElbo));
 *   await trainer.start();
 *   await trainer.dispose();
 */
import os from 'node:os';
import { Trainer, type TrainerOptions } from '../trainer.ts';
import { nodeSpawner } from '../pool/spawn_node.ts';

/** A trainer whose workers are worker_threads (default: one per core). */
export function createTrainer(options: TrainerOptions): Promise<Trainer> {
  return Trainer.create(options, nodeSpawner(), os.availableParallelism());
}

export { Trainer } from '../trainer.ts';
export type { TrainerOptions, ProgressEvent, EpochEvent, TrainerStatus, TrainerEvents, TrainerFailure, DivergedFailure } from '../trainer.ts';
export type { PoolFailure, PoolCall } from '../pool/pool.ts';
export { loadEmbeddedMnist, loadIdxDataset } from './data_files.ts';
export { splitDataset } from '../../shared/mnist_split.ts';
export { resolveConfig, DEFAULT_CONFIG, type TrainConfig, type ModelConfig, type AlgorithmKind, type Activation } from '../../shared/config.ts';
export type { KernelChoice } from '../../shared/protocol.ts';
export type { Dataset, DataSplit } from '../../shared/dataset.ts';
export { AevbError, isAevbError } from '../../shared/errors.ts';
export { exportDecoder } from '../../shared/decoder_export.ts';
export { exportSafetensors, importSafetensors } from '../../shared/pytorch_state.ts';
