/**
 * The kernels' errors (src/kernels/kernel_error.ts) as aevb's: src/kernels imports nothing of
 * src/shared, so the code that calls a kernel wraps what it throws here, keeping code, problem and fix.
 */
import { KernelError } from '../../kernels/kernel_error.ts';
import { AevbError } from '../errors.ts';

/** `e` as an AevbError when it is a KernelError; anything else unchanged. */
export function fromKernelError(e: unknown): unknown {
  return e instanceof KernelError ? new AevbError(e.code, e.problem, e.fix) : e;
}

/** `make()`, with a KernelError it throws rethrown as an AevbError. */
export function withKernelErrors<T>(make: () => T): T {
  try {
    return make();
  } catch (e) {
    throw fromKernelError(e);
  }
}
