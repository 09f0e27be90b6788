/**
 * Where the training data comes from, and loading it through a short-lived data worker. A source
 * is a plain value (the embedded digits, or the user's File objects) so that a saved run can
 * reload its own data after a page reload (IndexedDB stores File objects as they are).
 */
import { wrap, releaseProxy } from 'comlink';
import type { DataSplit } from '../../shared/data/dataset.ts';
import type { DataWorkerApi } from '../../workers/data_api.ts';
import { MNIST_BIN_FILE } from '../../shared/formats/mnist_bin.ts';

export type DataSource = { kind: 'embedded'; subset?: number } | { kind: 'files'; files: File[] };

export interface LoadedData {
  source: DataSource;
  split: DataSplit;
  /** One line for the page: what the data is and how it was split. */
  description: string;
  /** The training set's datasetFingerprint (what a checkpoint records of its data). */
  fingerprint: string;
  bernoulliProblem?: string;
}

/** ?subset=N: train on a class-balanced subset of N embedded digits (quick runs and tests). */
export function subsetFromUrl(search: string): number | undefined {
  const v = Number(new URLSearchParams(search).get('subset'));
  return Number.isInteger(v) && v >= 20 && v < 10_000 ? v : undefined;
}

function describe(source: DataSource, split: DataSplit): string {
  const { train, test } = split;
  const shape = train.imageShape ? `${train.imageShape[0]}×${train.imageShape[1]} images` : `vectors of ${train.d} values`;
  const what =
    source.kind === 'embedded'
      ? `Embedded MNIST digits${source.subset ? ` (subset of ${source.subset})` : ''}`
      : source.files.map((f) => f.name).join(' + ');
  return `${what}: ${train.n.toLocaleString('en')} training and ${test.n.toLocaleString('en')} test ${shape}${train.labels ? ', labelled' : ''}.`;
}

/** Loads and checks a source; rejects with the AevbError's message when the data is bad. */
export async function loadData(source: DataSource): Promise<LoadedData> {
  const worker = new Worker(new URL('../../workers/data_worker.ts', import.meta.url), { type: 'module', name: 'aevb-data' });
  const api = wrap<DataWorkerApi>(worker);
  try {
    const r =
      source.kind === 'embedded'
        ? await api.loadEmbedded(new URL(MNIST_BIN_FILE, document.baseURI).href, source.subset)
        : await api.loadIdx(source.files);
    return {
      source,
      split: r.split,
      fingerprint: r.fingerprint,
      description: describe(source, r.split),
      bernoulliProblem: r.bernoulliProblem,
    };
  } finally {
    api[releaseProxy]();
    worker.terminate();
  }
}
