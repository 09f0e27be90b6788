/**
 * Every error aevb raises on purpose. Each names what is wrong and how to fix it, carries a
 * stable `code`, and, when it is about one setting, that setting's name in `field`. A structured
 * clone keeps only an Error's name and message, so errors thrown in a worker cross to the caller
 * through a comlink transfer handler (wire_errors.ts) that rebuilds the AevbError with all of these.
 */
export type AevbErrorCode =
  | 'CONFIG' // a config field out of range or of the wrong type
  | 'DATA' // a dataset that is malformed, of the wrong size, or holds bad values
  | 'IDX' // an IDX file that cannot be parsed
  | 'CHECKPOINT' // a checkpoint that is corrupt or does not match the run
  | 'NUMERIC' // NaN or Inf appeared during training (and training stopped: it diverged)
  | 'STATE' // a call that is not valid in the object's current state
  | 'ARGUMENT' // an argument of a call (not a config field) out of range or of the wrong type
  | 'WORKER' // a pool worker died and no replacement could be started
  | 'FILE'; // a file or directory that cannot be read or written (disk full, permissions, a path in the way)

/**
 * Fixes that a front end says in its own words: the CLI with its flags (src/main/node/cli_words.ts),
 * the page with its controls (src/main/app/error_words.ts). The library's `fix` is the neutral
 * wording of the same remedy (config field names, no flag, no control); `fields` and `value` are
 * what a front end needs to phrase it (the fields involved, a value to name).
 */
export type RemedyId =
  | 'range' // a value of `field` in the range the problem names
  | 'whole-range' // a whole number of `field` in that range
  | 'choice' // one of the values the problem lists
  | 'switch' // `field` on or off
  | 'layer-widths' // hidden: one width or one per layer
  | 'layer-activations' // activation: one, or one per layer
  | 'binarize-decoder' // binarize needs the bernoulli decoder
  | 'wake-sleep-estimator' // wake-sleep has no estimator A
  | 'smaller-model' // fewer hidden units or latent dimensions
  | 'diverged-save' // a non-finite state was not saved
  | 'diverged-step' // a step was not finite: a smaller step size
  | 'diverged-run' // the run diverged: a new run with a smaller step size (value), or an adaptive optimizer (when fields has optimizer)
  | 'same-model' // resume with the checkpoint's model shape (fields)
  | 'same-optimizer' // resume with the checkpoint's optimizer (value)
  | 'same-data' // resume on the checkpoint's data
  | 'same-value' // resume with the checkpoint's value of `fields` (only the resumable fields may change)
  | 'file-model' // import: the file's model shape
  | 'file-optimizer' // import: the optimizer that wrote the file
  | 'gaussian-for-data' // data outside [0, 1]: rescale, or the gaussian decoder
  | 'batch-at-least' // batch ≥ value (the workers), or fewer workers
  | 'batch-at-most' // batch ≤ value (the training datapoints)
  | 'workers' // one worker or more
  | 'eval-schedule'; // an evaluation schedule: epochs or log:P (value: the default P)

export interface Remedy {
  id: RemedyId;
  /** The config fields the remedy is about, when not (only) the error's `field`. */
  fields?: readonly string[];
  /** A value the remedy names (a count, an optimizer). */
  value?: string | number;
}

export class AevbError extends Error {
  readonly code: AevbErrorCode;
  /** What is wrong; with `field`, said of that field without naming it ("is 0; it must be …"). */
  readonly problem: string;
  /** What to do about it, in one sentence; also appended to `message`. */
  readonly fix: string;
  /** The setting (config field or CLI flag) the error is about, when it is about one. */
  declare readonly field?: string;
  /** The fix as structure, for a front end to say in its own words; `fix` is its neutral wording. */
  declare readonly remedy?: Remedy;

  constructor(code: AevbErrorCode, problem: string, fix: string, field?: string, remedy?: Remedy) {
    // With a field the message names it: `Config field "lr" is 0; it must be …. Use a value in that range.`.
    super(`${field === undefined ? problem : `Config field "${field}" ${problem}.`} ${fix}`.trim());
    this.name = 'AevbError';
    this.code = code;
    this.problem = problem;
    this.fix = fix;
    if (field !== undefined) this.field = field;
    if (remedy !== undefined) this.remedy = remedy;
  }
}

/** A setting out of range or of the wrong type: `problem` is said of the field ("is 0; it must be > 0"). */
export const configError = (field: string, problem: string, fix: string, remedy?: Remedy) =>
  new AevbError('CONFIG', problem, fix, field, remedy);

export const dataError = (problem: string, fix: string, remedy?: Remedy) => new AevbError('DATA', problem, fix, undefined, remedy);
export const idxError = (problem: string, fix: string) => new AevbError('IDX', problem, fix);
export const checkpointError = (problem: string, fix: string, remedy?: Remedy) =>
  new AevbError('CHECKPOINT', problem, fix, undefined, remedy);
export const numericError = (problem: string, fix: string, remedy?: Remedy) => new AevbError('NUMERIC', problem, fix, undefined, remedy);
export const fileError = (problem: string, fix: string) => new AevbError('FILE', problem, fix);
export const stateError = (problem: string, fix: string) => new AevbError('STATE', problem, fix);
export const argumentError = (problem: string, fix: string) => new AevbError('ARGUMENT', problem, fix);
export const workerError = (problem: string, fix: string) => new AevbError('WORKER', problem, fix);

export function isAevbError(e: unknown): e is AevbError {
  return e instanceof AevbError;
}
