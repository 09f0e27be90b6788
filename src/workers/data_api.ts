/**
 * The data worker's API (data_worker.ts): fetching, decompressing, parsing, checking and splitting
 * data is seconds of work for a big IDX file, so it runs off the page's main thread. Results come
 * back with their buffers transferred, not copied.
 */
import type { DataSplit } from '../shared/data/dataset.ts';

/** Every 10th datapoint of a user's file is held out for testing, as in the CLI (--test-fraction 0.1). */
export const USER_TEST_FRACTION = 0.1;

export interface LoadedSplit {
  split: DataSplit;
  /** datasetFingerprint of the training set, as checkpoints record it. */
  fingerprint: string;
  /**
   * Why a Bernoulli decoder cannot model this data (values outside [0, 1]), or undefined when it
   * can; the data is always finite (non-finite data is refused).
   */
  bernoulliProblem?: string;
}

export interface DataWorkerApi {
  /** The embedded MNIST digits from the app's own origin, split as in Node (g % 10 == 9 → test). */
  loadEmbedded(url: string, subset?: number): Promise<LoadedSplit>;
  /** A user's IDX files (gzipped or not): one images file and at most one labels file, in any order. */
  loadIdx(files: readonly File[]): Promise<LoadedSplit>;
}
