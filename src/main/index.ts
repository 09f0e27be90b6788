/**
 * aevb for pages: train a VAE on every core with Web Workers.
 *
 *   import { createTrainer, parseIdx } from 'aevb';
 *   const trainer = await createTrainer({ data: { train, test }, config: { latent: 2 } });
 *   trainer.on('progress', (p) => show(p.elbo));
 *   trainer.start();
 *
 * Serve the page cross-origin isolated (COOP same-origin + COEP require-corp) for the shared-memory
 * path; without it the trainer says so (transport === 'message') and trains more slowly.
 */
import { Trainer, type TrainerOptions } from './trainer.ts';
import { browserSpawner } from './pool/spawn_browser.ts';

/** A trainer whose workers are Web Workers (default: one per logical core). */
export function createTrainer(options: TrainerOptions): Promise<Trainer> {
  return Trainer.create(options, browserSpawner(), Math.max(1, navigator.hardwareConcurrency || 1));
}

export { Trainer } from './trainer.ts';
export type { TrainerOptions, ProgressEvent, EpochEvent, TrainerStatus, TrainerEvents, TrainerFailure, DivergedFailure } from './trainer.ts';
export type { PoolFailure, PoolCall } from './pool/pool.ts';
export { hasSharedMemory } from '../shared/shared_memory.ts';
export { parseIdx, isGzip } from '../shared/idx.ts';
export { imagesFromIdx, labelsFromIdx, validateDataset } from '../shared/data_checks.ts';
export { splitDataset } from '../shared/mnist_split.ts';
export { resolveConfig, DEFAULT_CONFIG, type TrainConfig, type ModelConfig, type AlgorithmKind, type Activation } from '../shared/config.ts';
export type { KernelChoice } from '../shared/protocol.ts';
export type { Dataset, DataSplit } from '../shared/dataset.ts';
export { AevbError, isAevbError } from '../shared/errors.ts';
export { exportDecoder } from '../shared/decoder_export.ts';
export { exportSafetensors, importSafetensors } from '../shared/pytorch_state.ts';
