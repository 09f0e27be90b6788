/**
 * The kernels' own error: what is wrong and how to fix it, and whether the mistake is in a call's
 * argument ('ARGUMENT') or in what this engine can do ('STATE'). src/kernels imports nothing of
 * src/shared, so the caller there turns it into an AevbError with the same code, problem and fix
 * (src/shared/runtime/kernel_errors.ts).
 */
export type KernelErrorCode = 'ARGUMENT' | 'STATE';

export class KernelError extends Error {
  constructor(
    readonly code: KernelErrorCode,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${problem} ${fix}`);
    this.name = 'KernelError';
  }
}
