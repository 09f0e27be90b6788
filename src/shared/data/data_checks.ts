/**
 * From parsed IDX arrays to a checked Dataset: images and labels are turned into the trainer's
 * shapes, and every value is checked once before training, so that a bad pixel is reported by
 * its index up front instead of surfacing later as a NaN loss in a worker.
 */
import type { DecoderKind } from '../training/config.ts';
import type { Dataset } from './dataset.ts';
import { dataError } from '../errors.ts';
import type { IdxArray } from '../formats/idx.ts';

export interface ImageArray {
  /** N×D values, row-major. */
  readonly x: Float32Array;
  readonly n: number;
  readonly d: number;
  /** [rows, cols] when the file was 3-D. */
  readonly imageShape?: readonly [number, number];
}

/** Grey values stored as bytes are 0..255; the Bernoulli decoder wants [0, 1]. */
function toFloat(idx: IdxArray): Float32Array {
  if (idx.type !== 'ubyte') return Float32Array.from(idx.data);
  const bytes = idx.data as Uint8Array; // a local of one known type keeps this loop fast
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < out.length; i++) out[i] = bytes[i] / 255;
  return out;
}

/**
 * Accepts [N, rows, cols] (images) or [N, D] (flat vectors). ubyte values are scaled by 1/255 to
 * [0, 1]; every other type (floats, and integer types such as 0/1 data) is taken as is.
 */
export function imagesFromIdx(idx: IdxArray, fileName: string): ImageArray {
  const dims = idx.dims;
  if (dims.length !== 2 && dims.length !== 3) {
    throw dataError(
      `${fileName} holds a ${dims.length}-D array [${dims.join(', ')}]; images must be [N, rows, cols] or [N, D].`,
      dims.length === 1
        ? 'This looks like a labels file: pass it as the labels and the images file as the images.'
        : 'Reshape the data to one row per datapoint and save it as a 2-D or 3-D IDX file.',
    );
  }
  const n = dims[0];
  const d = dims.slice(1).reduce((a, b) => a * b, 1);
  if (d === 0) {
    throw dataError(
      `${fileName} has dims [${dims.join(', ')}]: each datapoint has 0 values.`,
      'Pick a file with at least one value per datapoint.',
    );
  }
  const imageShape = dims.length === 3 ? ([dims[1], dims[2]] as const) : undefined;
  return { x: toFloat(idx), n, d, imageShape };
}

/** Labels: a 1-D ubyte array with one class per image. */
export function labelsFromIdx(idx: IdxArray, n: number, fileName: string): Uint8Array {
  if (idx.dims.length !== 1) {
    throw dataError(
      `${fileName} holds a ${idx.dims.length}-D array [${idx.dims.join(', ')}]; a labels file is 1-D [N].`,
      'Check that the images and labels files were not swapped.',
    );
  }
  if (idx.type !== 'ubyte') {
    throw dataError(
      `${fileName} holds ${idx.type} values; labels must be unsigned bytes (type 0x08).`,
      'Save the labels as a ubyte IDX file, or leave the labels out (they only colour the latent plot).',
    );
  }
  if (idx.dims[0] !== n) {
    throw dataError(
      `${fileName} has ${idx.dims[0]} labels but the images file has ${n} images.`,
      'Pass the labels file that belongs to these images (e.g. train-labels with train-images).',
    );
  }
  return idx.data as Uint8Array;
}

export interface ValidateOptions {
  readonly decoder: DecoderKind;
  /** D of an existing model that will train on this data; omitted when a new model is built from it. */
  readonly expectedD?: number;
}

function checkShape(ds: Dataset, expectedD: number | undefined): void {
  if (ds.n === 0) {
    throw dataError(`${ds.name} has no datapoints (N = 0).`, 'Pick a file that holds at least one datapoint.');
  }
  if (ds.d < 1 || ds.x.length !== ds.n * ds.d) {
    throw dataError(
      `${ds.name} has ${ds.x.length} values, which is not N × D = ${ds.n} × ${ds.d}.`,
      'Build the dataset with x of length N·D.',
    );
  }
  if (expectedD !== undefined && ds.d !== expectedD) {
    throw dataError(
      `${ds.name} has ${ds.d} values per datapoint but the model was built for ${expectedD}.`,
      `Use data of the model's size (${expectedD} values per datapoint), or start a new model for this data.`,
    );
  }
  if (ds.labels !== undefined && ds.labels.length !== ds.n) {
    throw dataError(`${ds.name} has ${ds.labels.length} labels for ${ds.n} datapoints.`, 'Pass one label per datapoint, or none.');
  }
}

/** Index of the first value that is not in [0, 1] (NaN included), or -1. */
function firstOutsideUnit(x: Float32Array): number {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (!(v >= 0 && v <= 1)) return i;
  }
  return -1;
}

/** Index of the first NaN or ±Inf, or -1 (v - v is 0 exactly for finite v). */
function firstNonFinite(x: Float32Array): number {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v - v !== 0) return i;
  }
  return -1;
}

function where(ds: Dataset, i: number): string {
  const point = Math.floor(i / ds.d);
  const pixel = i % ds.d;
  const rc = ds.imageShape ? ` (row ${Math.floor(pixel / ds.imageShape[1])}, col ${pixel % ds.imageShape[1]})` : '';
  return `${ds.name}: datapoint ${point}, pixel ${pixel}${rc}`;
}

/**
 * Throws a dataError for the first thing that would make training fail or mean nothing: no data,
 * a width the model does not have, NaN/Inf values, or values outside [0, 1] for a Bernoulli
 * decoder (its log-likelihood is only defined there). One pass over x.
 */
export function validateDataset(ds: Dataset, opts: ValidateOptions): void {
  checkShape(ds, opts.expectedD);
  const bernoulli = opts.decoder === 'bernoulli';
  const i = bernoulli ? firstOutsideUnit(ds.x) : firstNonFinite(ds.x);
  if (i < 0) {
    if (!bernoulli) checkGaussianRange(ds);
    return;
  }
  const v = ds.x[i];
  if (!Number.isFinite(v)) {
    throw dataError(
      `${where(ds, i)} is ${v}.`,
      'Clean the data: replace or drop that datapoint (and any other non-finite values) before training.',
    );
  }
  throw dataError(
    `${where(ds, i)} is ${v}, outside [0, 1], which a Bernoulli decoder needs.`,
    'Rescale the data to [0, 1] (e.g. divide grey values by 255), or use the gaussian decoder.',
    { id: 'gaussian-for-data', fields: ['decoder'] },
  );
}

/**
 * The largest |x| a Gaussian decoder takes. Its log-likelihood has −(x − μ)²/(2σ²) per value,
 * computed in float32 (largest 3.4·10³⁸): a pixel of 3·10³⁸ overflowed it at the first step, and
 * the run ended "successfully" with a non-finite ELBO. At |x| ≤ 10⁶ the square stays below 10¹²,
 * finite for any σ² the decoder reaches before it would diverge anyway.
 */
export const MAX_GAUSSIAN_VALUE = 1e6;

/** Index of the first value beyond ±MAX_GAUSSIAN_VALUE, or −1. */
function firstTooLarge(x: Float32Array): number {
  for (let i = 0; i < x.length; i++) if (Math.abs(x[i]) > MAX_GAUSSIAN_VALUE) return i;
  return -1;
}

/** A Gaussian decoder's data: finite (validateDataset) and within ±MAX_GAUSSIAN_VALUE. */
function checkGaussianRange(ds: Dataset): void {
  const i = firstTooLarge(ds.x);
  if (i < 0) return;
  throw dataError(
    `${where(ds, i)} is ${ds.x[i]}, beyond ±${MAX_GAUSSIAN_VALUE.toExponential(0)}: a Gaussian decoder's (x − μ)²/σ² overflows float32 there.`,
    'Standardise the data (e.g. subtract the mean and divide by the standard deviation of each value) before training.',
  );
}
