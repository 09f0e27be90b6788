/**
 * Every error aevb raises on purpose. Each names what is wrong and how to fix it, carries a
 * stable `code`, and survives a structured clone (so it crosses a worker boundary intact).
 */
export type AevbErrorCode =
  | 'CONFIG'       // a config field out of range or of the wrong type
  | 'DATA'         // a dataset that is malformed, of the wrong size, or holds bad values
  | 'IDX'          // an IDX file that cannot be parsed
  | 'CHECKPOINT'   // a checkpoint that is corrupt or does not match the run
  | 'NUMERIC'      // NaN or Inf appeared during training
  | 'STATE'        // a call that is not valid in the object's current state
  | 'FILE';        // a file or directory that cannot be read or written (disk full, permissions, a path in the way)

export class AevbError extends Error {
  readonly code: AevbErrorCode;
  /** What to do about it, in one sentence; also appended to `message`. */
  readonly fix: string;

  constructor(code: AevbErrorCode, problem: string, fix: string) {
    super(`${problem} ${fix}`.trim());
    this.name = 'AevbError';
    this.code = code;
    this.fix = fix;
  }
}

export const configError = (field: string, problem: string, fix: string) =>
  new AevbError('CONFIG', `Config field "${field}" ${problem}.`, fix);

export const dataError = (problem: string, fix: string) => new AevbError('DATA', problem, fix);
export const idxError = (problem: string, fix: string) => new AevbError('IDX', problem, fix);
export const checkpointError = (problem: string, fix: string) => new AevbError('CHECKPOINT', problem, fix);
export const numericError = (problem: string, fix: string) => new AevbError('NUMERIC', problem, fix);
export const fileError = (problem: string, fix: string) => new AevbError('FILE', problem, fix);
export const stateError = (problem: string, fix: string) => new AevbError('STATE', problem, fix);

export function isAevbError(e: unknown): e is AevbError {
  return e instanceof AevbError;
}
