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

export class AevbError extends Error {
  readonly code: AevbErrorCode;
  /** What is wrong; with `field`, said of that field without naming it ("is 0; it must be …"). */
  readonly problem: string;
  /** What to do about it, in one sentence; also appended to `message`. */
  readonly fix: string;
  /** The setting (config field or CLI flag) the error is about, when it is about one. */
  declare readonly field?: string;

  constructor(code: AevbErrorCode, problem: string, fix: string, field?: string) {
    // With a field the message names it: `Config field "lr" is 0; it must be …. Pass --lr …`.
    super(`${field === undefined ? problem : `Config field "${field}" ${problem}.`} ${fix}`.trim());
    this.name = 'AevbError';
    this.code = code;
    this.problem = problem;
    this.fix = fix;
    if (field !== undefined) this.field = field;
  }
}

/** A setting out of range or of the wrong type: `problem` is said of the field ("is 0; it must be > 0"). */
export const configError = (field: string, problem: string, fix: string) => new AevbError('CONFIG', problem, fix, field);

export const dataError = (problem: string, fix: string) => new AevbError('DATA', problem, fix);
export const idxError = (problem: string, fix: string) => new AevbError('IDX', problem, fix);
export const checkpointError = (problem: string, fix: string) => new AevbError('CHECKPOINT', problem, fix);
export const numericError = (problem: string, fix: string) => new AevbError('NUMERIC', problem, fix);
export const fileError = (problem: string, fix: string) => new AevbError('FILE', problem, fix);
export const stateError = (problem: string, fix: string) => new AevbError('STATE', problem, fix);
export const argumentError = (problem: string, fix: string) => new AevbError('ARGUMENT', problem, fix);
export const workerError = (problem: string, fix: string) => new AevbError('WORKER', problem, fix);

export function isAevbError(e: unknown): e is AevbError {
  return e instanceof AevbError;
}
