/**
 * aevb for pages: train a VAE on every core with Web Workers.
 *
 *   import { createTrainer, splitDataset } from 'aevb';
 *   await using trainer = await createTrainer({ data: { train, test }, config: { latent: 2 } });
 *   trainer.on('progress', (p) => show(p.elbo));
 *   await trainer.start();
 *
 * Serve the page cross-origin isolated (COOP same-origin + COEP require-corp) for the shared-memory
 * path; without it the trainer says so (transport === 'message') and trains more slowly. The worker
 * (worker.js) and the WASM binaries ship beside this module and are found with
 * `new URL('./…', import.meta.url)`, which bundlers follow; docs/embedding.md says how to serve them.
 */
import { Trainer, type TrainerOptions } from './trainer.ts';
import { browserSpawner } from './pool/spawn_browser.ts';
import { argumentError } from '../shared/errors.ts';

export interface BrowserTrainerOptions extends TrainerOptions {
  /**
   * The URL of aevb's worker script, for an app that serves node_modules/aevb/dist/browser/worker.js
   * itself (default: the worker.js beside this module, which the app's bundler emits).
   */
  workerUrl?: string | URL;
  /**
   * Where the workers find tfjs-backend-wasm's binaries, as tfjs's setWasmPaths takes it: a URL
   * prefix ending in '/', or a map from file name to URL (default: the copies beside worker.js).
   */
  wasmPaths?: string | Record<string, string>;
}

/** A trainer whose workers are Web Workers (default: one per logical core). */
export function createTrainer(options: BrowserTrainerOptions): Promise<Trainer> {
  // A missing or non-object options gets createTrainer's own AevbError from Trainer.create.
  if (typeof options !== 'object' || options === null) return Trainer.create(options, browserSpawner(), 1);
  const { workerUrl, wasmPaths, ...rest } = options;
  if (workerUrl !== undefined && typeof workerUrl !== 'string' && !(workerUrl instanceof URL)) {
    throw argumentError(
      `The option "workerUrl" is ${typeof workerUrl}; it must be a URL or a string.`,
      "Pass the URL your app serves aevb's worker.js from, or leave it out.",
    );
  }
  if (wasmPaths !== undefined && typeof wasmPaths !== 'string' && (typeof wasmPaths !== 'object' || wasmPaths === null)) {
    throw argumentError(
      `The option "wasmPaths" is ${typeof wasmPaths}; it must be a URL prefix or a map of file names to URLs.`,
      'Pass e.g. "/wasm/" (ending in "/"), or leave it out.',
    );
  }
  return Trainer.create(rest, browserSpawner(workerUrl), Math.max(1, navigator.hardwareConcurrency || 1), wasmPaths);
}

export { Trainer } from './trainer.ts';
export type * from './public_types.ts';
export { hasSharedMemory } from '../shared/runtime/shared_memory.ts';
export { parseIdx, isGzip } from '../shared/formats/idx.ts';
export { imagesFromIdx, labelsFromIdx, validateDataset } from '../shared/data/data_checks.ts';
export { splitDataset } from '../shared/data/mnist_split.ts';
export { resolveConfig, DEFAULT_CONFIG } from '../shared/training/config.ts';
export { AevbError, isAevbError } from '../shared/errors.ts';
export { exportDecoder } from './decoder_export_api.ts';
export { exportSafetensors, importSafetensors } from '../shared/formats/pytorch_state.ts';
