/**
 * The data worker: everything between bytes and a checked DataSplit, off the main thread (the
 * parsing, checks and split rule are the library's own, from src/shared). Errors are AevbErrors
 * whose messages name the problem and the fix; comlink carries the message to the page.
 */
import { expose, transfer } from 'comlink';
import { imagesFromIdx, labelsFromIdx, validateDataset } from '../shared/data/data_checks.ts';
import type { DataSplit, Dataset } from '../shared/data/dataset.ts';
import { datasetFingerprint } from '../shared/formats/checkpoint.ts';
import { dataError } from '../shared/errors.ts';
import { idxDeclaredBytes, isGzip, parseIdx } from '../shared/formats/idx.ts';
import { gunzipBounded, type DeclaredSize } from '../shared/formats/bounded_gunzip.ts';
import { splitDataset, splitEmbeddedMnist } from '../shared/data/mnist_split.ts';
import { USER_TEST_FRACTION, type DataWorkerApi, type LoadedSplit } from './data_api.ts';
import { decodeMnistBin, mnistBinDeclaredBytes, MNIST_BIN_FILE } from '../shared/formats/mnist_bin.ts';

/** .gz content decompressed, at most to the size its header declares (a gzip bomb stops there). */
async function gunzipIfNeeded(bytes: Uint8Array, name: string, declaredSize: DeclaredSize): Promise<Uint8Array> {
  return isGzip(bytes) ? gunzipBounded(bytes, name, declaredSize) : bytes;
}

const idxSize =
  (name: string): DeclaredSize =>
  (prefix) =>
    idxDeclaredBytes(prefix, name);

/** The split, its fingerprint, and its buffers listed for transfer. */
function handBack(split: DataSplit, bernoulliProblem?: string): LoadedSplit {
  const { train, test } = split;
  const result: LoadedSplit = { split, fingerprint: datasetFingerprint(train.x, train.n, train.d), bernoulliProblem };
  const buffers = [train.x.buffer, test.x.buffer, train.labels?.buffer, test.labels?.buffer].filter(
    (b): b is ArrayBuffer => b instanceof ArrayBuffer,
  );
  return transfer(result, [...new Set(buffers)]);
}

function bernoulliProblem(ds: Dataset): string | undefined {
  try {
    validateDataset(ds, { decoder: 'bernoulli' });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const api: DataWorkerApi = {
  async loadEmbedded(url, subset) {
    let bytes: Uint8Array;
    try {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      throw dataError(
        `Could not load the embedded digits from ${url} (${(e as Error).message}).`,
        `Serve the app's build folder as a whole (it holds ${MNIST_BIN_FILE}), or load your own IDX files.`,
      );
    }
    const split = splitEmbeddedMnist(decodeMnistBin(await gunzipIfNeeded(bytes, MNIST_BIN_FILE, mnistBinDeclaredBytes), subset));
    const named: DataSplit = subset
      ? {
          train: { ...split.train, name: `${split.train.name} (subset ${subset})` },
          test: { ...split.test, name: `${split.test.name} (subset ${subset})` },
        }
      : split;
    return handBack(named);
  },

  async loadIdx(files) {
    if (files.length === 0) throw dataError('No file was given.', 'Pick an IDX images file (and optionally its labels file).');
    const parsed = await Promise.all(
      files.map(async (f) => ({
        name: f.name,
        idx: parseIdx(await gunzipIfNeeded(new Uint8Array(await f.arrayBuffer()), f.name, idxSize(f.name)), f.name),
      })),
    );
    const labelFiles = parsed.filter((p) => p.idx.dims.length === 1);
    const imageFiles = parsed.filter((p) => p.idx.dims.length !== 1);
    // A lone 1-D file is most likely labels picked alone: imagesFromIdx says so in its message.
    const images = imageFiles.length === 0 ? parsed[0] : imageFiles[0];
    if (imageFiles.length > 1 || labelFiles.length > 1) {
      throw dataError(
        `Got ${imageFiles.length} images files and ${labelFiles.length} labels files (${files.map((f) => f.name).join(', ')}).`,
        'Pick one images file and at most one labels file.',
      );
    }
    const img = imagesFromIdx(images.idx, images.name);
    const labels = labelFiles.length && images !== labelFiles[0] ? labelsFromIdx(labelFiles[0].idx, img.n, labelFiles[0].name) : undefined;
    const ds: Dataset = { name: images.name, n: img.n, d: img.d, x: img.x, labels, imageShape: img.imageShape };
    validateDataset(ds, { decoder: 'gaussian' }); // finite values, a sane shape
    return handBack(splitDataset(ds, USER_TEST_FRACTION), bernoulliProblem(ds));
  },
};

expose(api);
