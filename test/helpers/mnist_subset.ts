/** The first rows of the embedded MNIST split (real digits), with their labels cut to match: small, quick fixtures. */
import { loadEmbeddedMnist } from '../../src/main/node/data_files.ts';
import type { Dataset, DataSplit } from '../../src/shared/data/dataset.ts';

/** The first n rows of a dataset, labels included (the data checks refuse labels that do not match n). */
export function headRows(ds: Dataset, n: number): Dataset {
  return { ...ds, n, x: ds.x.slice(0, n * ds.d), labels: ds.labels?.slice(0, n) };
}

export function mnistSubset(nTrain: number, nTest: number): DataSplit {
  const full = loadEmbeddedMnist();
  return { train: headRows(full.train, nTrain), test: headRows(full.test, nTest) };
}
