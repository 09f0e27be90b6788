/**
 * aevb for Node: train a VAE on every core with worker_threads (also what `import 'aevb'` gives
 * in Node: the package's "node" condition).
 *
 *   import { createTrainer } from 'aevb/node';
 *   import { loadEmbeddedMnist } from 'aevb/mnist';   // needs the optional package `mnist`
 *   const trainer = await createTrainer({ data: loadEmbeddedMnist(), config: { epochs: 5 } });
 *   trainer.on('epoch', (e) => console.log(e.epoch, e.testElbo));
 *   await trainer.start();
 *
 * The workers keep the process alive only while a call awaits them, so a script ends when its
 * work is done, dispose() or not; dispose() (or `await using`) ends them at once.
 */
import os from 'node:os';
import { Trainer, type TrainerOptions } from '../trainer.ts';
import { nodeSpawner } from '../pool/spawn_node.ts';

/** A trainer whose workers are worker_threads (default: one per core). */
export function createTrainer(options: TrainerOptions): Promise<Trainer> {
  return Trainer.create(options, nodeSpawner(), os.availableParallelism());
}

export { Trainer } from '../trainer.ts';
export type * from '../public_types.ts';
export { loadIdxDataset } from './data_files.ts';
/** Also at 'aevb/mnist'; needs the optional package `mnist`. */
export { loadEmbeddedMnist } from './mnist.ts';
export { hasSharedMemory } from '../../shared/runtime/shared_memory.ts';
export { parseIdx, isGzip } from '../../shared/formats/idx.ts';
export { imagesFromIdx, labelsFromIdx, validateDataset } from '../../shared/data/data_checks.ts';
export { splitDataset } from '../../shared/data/mnist_split.ts';
export { resolveConfig, DEFAULT_CONFIG } from '../../shared/training/config.ts';
export { AevbError, isAevbError } from '../../shared/errors.ts';
export { exportDecoder } from '../decoder_export_api.ts';
export { exportSafetensors, importSafetensors } from '../../shared/formats/pytorch_state.ts';
