/**
 * The public API's boundary: every value a caller hands createTrainer() or a Trainer method is
 * checked here, once, and a bad one is refused with an AevbError that names it and the fix
 * (instead of a TypeError, a RangeError, a silent rounding, or a model that trains to NaN).
 * Datasets go through the same validateDataset as the CLI's and the page's data paths.
 */
import type { DecoderKind } from '../shared/training/config.ts';
import { validateDataset } from '../shared/data/data_checks.ts';
import type { Dataset, DataSplit } from '../shared/data/dataset.ts';
import { argumentError, configError, dataError } from '../shared/errors.ts';
import { hiddenWidths } from '../shared/model/layers.ts';
import { MAX_PER_DECADE } from '../shared/training/eval_schedule.ts';

/** Every option createTrainer() knows (TrainerOptions' keys). */
const OPTION_KEYS = [
  'config',
  'data',
  'workers',
  'transport',
  'kernels',
  'checkpoint',
  'valueEvery',
  'evaluateTrain',
  'maxSkippedSteps',
  'evaluateAt',
] as const;

/** Largest K of an importance-sampled log p(x) estimate (as config.evalSamples). */
const MAX_LOG_LIKELIHOOD_SAMPLES = 100_000;

/**
 * Rows one encode/decode/sample call may ask for. The worker holds the rows, their transpose and
 * each layer's activations, [n × width] floats each: 2^24 floats (64 MB) per array keeps a call
 * well inside a worker's memory (a WASM heap is at most 4 GB, and shared with the model).
 */
export function maxRowsPerCall(widths: { inputSize: number; hidden: number | readonly number[]; latent: number }): number {
  return Math.floor(2 ** 24 / Math.max(widths.inputSize, ...hiddenWidths(widths), widths.latent));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** The type tag works across realms (an array made in another frame is not `instanceof` ours). */
const tagged = (v: unknown, tag: string) => Object.prototype.toString.call(v) === `[object ${tag}]`;
/** A value as a message shows it: numbers and strings as they are, anything else by its kind. */
function show(v: unknown): string {
  if (v === undefined) return 'missing';
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'an array';
  if (ArrayBuffer.isView(v)) return `a ${Object.prototype.toString.call(v).slice(8, -1)}`;
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** n must be a whole number in [min, max]. */
function wholeNumber(v: unknown, min: number, max: number, what: string, fix: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw argumentError(
      `${what} is ${show(v)}; it must be a whole number from ${min.toLocaleString('en')} to ${max.toLocaleString('en')}.`,
      fix,
    );
  }
}

/** The shape of one dataset before its values are read: an object with x, n, d (and name, labels). */
function datasetShape(ds: unknown, where: string): void {
  const fix = 'Pass { name, n, d, x } with x a Float32Array of n·d values (e.g. from loadIdxDataset or imagesFromIdx).';
  if (!isObject(ds)) throw dataError(`${where} is ${show(ds)}; it must be a dataset object.`, fix);
  if (!tagged(ds.x, 'Float32Array')) {
    throw dataError(`${where}.x is ${show(ds.x)}; it must be a Float32Array.`, 'Convert the values with Float32Array.from(values).');
  }
  for (const k of ['n', 'd'] as const) {
    if (typeof ds[k] !== 'number' || !Number.isSafeInteger(ds[k]) || (ds[k] as number) < 0) {
      throw dataError(`${where}.${k} is ${show(ds[k])}; it must be a whole number.`, fix);
    }
  }
  if (ds.name !== undefined && typeof ds.name !== 'string') throw dataError(`${where}.name is ${show(ds.name)}; it must be a string.`, fix);
  if (ds.labels !== undefined && !tagged(ds.labels, 'Uint8Array')) {
    throw dataError(`${where}.labels is ${show(ds.labels)}; it must be a Uint8Array (one class per datapoint) or left out.`, fix);
  }
}

/**
 * createTrainer()'s options, before anything is built: an object, only known options, each of the
 * right type, and a data split whose two datasets have the right shape. Returns the split with a
 * name on each dataset (the name appears in messages and checkpoints).
 */
export function checkTrainerOptions(options: unknown): DataSplit {
  if (!isObject(options)) {
    throw argumentError(
      `createTrainer() was given ${options === undefined ? 'no options' : show(options)}; it needs an options object.`,
      'Call createTrainer({ data: { train, test } }) with at least the data.',
    );
  }
  for (const key of Object.keys(options)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) {
      throw argumentError(
        `createTrainer() has no option "${key}".`,
        `Remove it; the options are: ${OPTION_KEYS.join(', ')} (settings go in config).`,
      );
    }
  }
  const o = options;
  if (!isObject(o.data)) {
    throw dataError(
      `The option "data" is ${show(o.data)}; it must be { train, test }.`,
      'Pass data: { train, test }, e.g. loadEmbeddedMnist() in Node or splitDataset(images, 0.1) for your own data.',
    );
  }
  datasetShape(o.data.train, 'data.train');
  datasetShape(o.data.test, 'data.test');
  if (o.config !== undefined && !isObject(o.config)) {
    throw argumentError(
      `The option "config" is ${show(o.config)}; it must be an object of settings.`,
      'Pass config: { latent: 2, … } or leave it out.',
    );
  }
  if (
    o.workers !== undefined &&
    o.workers !== 'auto' &&
    !(typeof o.workers === 'number' && Number.isInteger(o.workers) && o.workers >= 1)
  ) {
    throw configError(
      'workers',
      `is ${JSON.stringify(o.workers)}; it must be a whole number ≥ 1`,
      'Use 1 worker or more (by default, one per core).',
      { id: 'workers' },
    );
  }
  if (o.kernels !== undefined && o.kernels !== 'aevb' && o.kernels !== 'tfjs') {
    throw argumentError(
      `The option "kernels" is ${show(o.kernels)}; it must be "aevb" or "tfjs".`,
      'Leave it out for "aevb" (aevb\'s own kernels); "tfjs" is the reference path.',
    );
  }
  if (o.transport !== undefined && o.transport !== 'auto' && o.transport !== 'shared' && o.transport !== 'message') {
    throw argumentError(
      `The option "transport" is ${show(o.transport)}; it must be "auto", "shared" or "message".`,
      'Leave it out for "auto".',
    );
  }
  if (o.checkpoint !== undefined && !tagged(o.checkpoint, 'Uint8Array')) {
    throw argumentError(
      `The option "checkpoint" is ${show(o.checkpoint)}; it must be the bytes of a checkpoint.aevb (a Uint8Array).`,
      'Pass new Uint8Array(await file.arrayBuffer()) in a page, or fs.readFileSync(path) in Node.',
    );
  }
  if (o.valueEvery !== undefined) wholeNumber(o.valueEvery, 1, 1_000_000, 'The option "valueEvery"', 'Leave it out for 10.');
  if (o.evaluateTrain !== undefined && typeof o.evaluateTrain !== 'boolean') {
    throw argumentError(`The option "evaluateTrain" is ${show(o.evaluateTrain)}; it must be true or false.`, 'Leave it out for true.');
  }
  if (o.maxSkippedSteps !== undefined && o.maxSkippedSteps !== Infinity) {
    wholeNumber(
      o.maxSkippedSteps,
      1,
      Number.MAX_SAFE_INTEGER,
      'The option "maxSkippedSteps"',
      'Leave it out for 50, or pass Infinity to never stop on skipped steps.',
    );
  }
  if (o.evaluateAt !== undefined) {
    const e = o.evaluateAt as { kind?: unknown; perDecade?: unknown };
    const ok =
      isObject(e) &&
      (e.kind === 'epochs' ||
        (e.kind === 'log' && Number.isInteger(e.perDecade) && (e.perDecade as number) >= 1 && (e.perDecade as number) <= MAX_PER_DECADE));
    if (!ok) {
      throw argumentError(
        `The option "evaluateAt" is ${show(o.evaluateAt)}; it must be { kind: 'epochs' } or { kind: 'log', perDecade: P } with P from 1 to ${MAX_PER_DECADE}.`,
        "Leave it out to evaluate after every epoch, or pass e.g. { kind: 'log', perDecade: 5 }.",
      );
    }
  }
  // A fresh model takes inputSize from the data (with a checkpoint, the checkpoint is checked against the data instead).
  const inputSize = (o.config as { inputSize?: unknown } | undefined)?.inputSize;
  const d = (o.data.train as Dataset).d;
  if (o.checkpoint === undefined && inputSize !== undefined && inputSize !== d) {
    throw configError(
      'inputSize',
      `is ${inputSize} but the training data has ${d} values per datapoint`,
      'Leave inputSize out (it is taken from the data), or give data of that width.',
    );
  }
  const named = (ds: Dataset, fallback: string): Dataset => (ds.name === undefined ? { ...ds, name: fallback } : ds);
  const data = o.data as unknown as DataSplit;
  return { train: named(data.train, 'the training set'), test: named(data.test, 'the test set') };
}

/** The data's values against the model that will train on it (the same checks as the CLI's data path). */
export function checkTrainerData(data: DataSplit, model: { decoder: DecoderKind; inputSize: number }): void {
  validateDataset(data.train, { decoder: model.decoder, expectedD: model.inputSize });
  validateDataset(data.test, { decoder: model.decoder, expectedD: model.inputSize });
}

/**
 * The most workers the CLI and the page offer (the library itself takes any count ≥ 1): past it a
 * typo (--workers 2000) would start thousands of threads before anything could be said.
 */
export const MAX_WORKERS = 256;

/**
 * The pool fits the minibatch and the data: each of the N workers gets at least one datapoint of
 * a minibatch, and a minibatch fits in the training set (the data's width is checkTrainerData's).
 */
export function checkPoolFits(workers: number, batch: number, trainN: number): void {
  if (batch < workers) {
    throw configError(
      'batch',
      `is ${batch}, smaller than the ${workers} workers (each needs at least one datapoint)`,
      `Use a batch of ${workers} or more, or fewer workers.`,
      { id: 'batch-at-least', value: workers },
    );
  }
  if (trainN < batch) {
    throw configError('batch', `is ${batch}, larger than the ${trainN} training datapoints`, `Use a batch of ${trainN} or fewer.`, {
      id: 'batch-at-most',
      value: trainN,
    });
  }
}

/** runSteps(n): a whole number of steps. */
export function checkStepCount(n: unknown): asserts n is number {
  wholeNumber(n, 0, Number.MAX_SAFE_INTEGER, 'runSteps(n): n', 'Pass a whole number of steps, e.g. runSteps(100).');
}

/**
 * Rows [n, width] for encode/decode: a Float32Array of n·width finite values, 1 ≤ n ≤ maxRows.
 * `call` and `what` name the call and the argument in the message.
 */
export function checkRows(a: unknown, n: unknown, width: number, maxRows: number, call: string, what: string): void {
  wholeNumber(
    n,
    1,
    maxRows,
    `${call}: n`,
    `Pass the number of rows; split more than ${maxRows.toLocaleString('en')} rows into several calls.`,
  );
  if (!tagged(a, 'Float32Array')) {
    throw argumentError(
      `${call}: "${what}" is ${show(a)}; it must be a Float32Array of n × ${width} values.`,
      'Convert the values with Float32Array.from(values).',
    );
  }
  const rows = a as Float32Array;
  if (rows.length !== n * width) {
    throw argumentError(
      `${call}: "${what}" has ${rows.length} values for n = ${n} rows; it must have n × ${width} = ${n * width}.`,
      `Pass ${width} values per row.`,
    );
  }
  for (let i = 0; i < rows.length; i++) {
    const v = rows[i];
    if (v - v !== 0) {
      throw argumentError(
        `${call}: "${what}" is ${v} at row ${Math.floor(i / width)}, value ${i % width}; it must be finite.`,
        'Replace NaN and ±Infinity before calling.',
      );
    }
  }
}

/** sample(n, seed): 1 ≤ n ≤ maxRows draws, a 32-bit seed. */
export function checkSample(n: unknown, seed: unknown, maxRows: number): void {
  wholeNumber(
    n,
    1,
    maxRows,
    'sample(n): n',
    `Draw at most ${maxRows.toLocaleString('en')} per call (a result of n × inputSize floats must fit in a worker's memory); for more, call sample(n, seed) again with other seeds.`,
  );
  wholeNumber(
    seed,
    0,
    0xffffffff,
    'sample(n, seed): seed',
    "Pass a whole number from 0 to 2^32 − 1, or leave it out for the config's seed.",
  );
}

/** evaluate(opts): { train?: boolean, logLikelihoodSamples?: 0..100000 } and nothing else. */
export function checkEvaluateOptions(opts: unknown): void {
  if (!isObject(opts)) {
    throw argumentError(
      `evaluate(opts): opts is ${show(opts)}; it must be an object such as { train: false, logLikelihoodSamples: 100 }.`,
      'Pass an object or nothing.',
    );
  }
  const known = ['train', 'logLikelihoodSamples', 'elboSamples', 'draw', 'signal', 'onProgress', 'sliceColumns'];
  for (const key of Object.keys(opts)) {
    if (!known.includes(key)) {
      throw argumentError(`evaluate(opts) has no option "${key}".`, `The options are: ${known.join(', ')}.`);
    }
  }
  // The sliced estimate's options (sliced_evaluation.ts): cancel, progress, and the slice size.
  if (
    opts.signal !== undefined &&
    !(typeof opts.signal === 'object' && opts.signal !== null && typeof (opts.signal as AbortSignal).aborted === 'boolean')
  ) {
    throw argumentError(
      `evaluate(opts): signal is ${show(opts.signal)}; it must be an AbortSignal.`,
      'Pass controller.signal of an AbortController, or leave it out.',
    );
  }
  if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function') {
    throw argumentError(
      `evaluate(opts): onProgress is ${show(opts.onProgress)}; it must be a function.`,
      'Pass a function of the progress ({ done, total, … }), or leave it out.',
    );
  }
  if (opts.sliceColumns !== undefined) {
    wholeNumber(
      opts.sliceColumns,
      1,
      Number.MAX_SAFE_INTEGER,
      'evaluate(opts): sliceColumns',
      'Pass a whole number of columns per slice, or leave it out.',
    );
  }
  if (opts.train !== undefined && typeof opts.train !== 'boolean') {
    throw argumentError(`evaluate(opts): train is ${show(opts.train)}; it must be true or false.`, 'Leave it out for true.');
  }
  if (opts.logLikelihoodSamples !== undefined) {
    wholeNumber(
      opts.logLikelihoodSamples,
      0,
      MAX_LOG_LIKELIHOOD_SAMPLES,
      'evaluate(opts): logLikelihoodSamples',
      'Pass 0 to skip log p(x), or K importance samples (the paper uses 5,000 for its plots).',
    );
  }
  if (opts.elboSamples !== undefined) {
    wholeNumber(
      opts.elboSamples,
      1,
      1000,
      'evaluate(opts): elboSamples',
      'Pass S draws of ε per datapoint (2 or more give a standard error), or leave it out for config.evalElboSamples.',
    );
  }
  if (opts.draw !== undefined) {
    wholeNumber(
      opts.draw,
      0,
      Number.MAX_SAFE_INTEGER,
      'evaluate(opts): draw',
      'Pass a whole number ≥ 0 naming the evaluation noise, or leave it out for the current step.',
    );
  }
}

/** loadCheckpoint(bytes): the bytes of a checkpoint.aevb. */
export function checkCheckpointBytes(bytes: unknown): void {
  if (!tagged(bytes, 'Uint8Array')) {
    throw argumentError(
      `loadCheckpoint(bytes): bytes is ${show(bytes)}; it must be the bytes of a checkpoint.aevb (a Uint8Array).`,
      'Pass new Uint8Array(await file.arrayBuffer()) in a page, or fs.readFileSync(path) in Node.',
    );
  }
}
