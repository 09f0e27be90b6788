/**
 * Run as a plain `node --import tsx` child (test/kernels/step_kernel.test.ts): prints, as JSON, the build
 * this process detects and what asking for the relaxed build does here (through src/shared, which turns
 * the kernels' own errors into AevbErrors).
 */
import { StepKernel, detectKernelBuild } from '../../src/kernels/step_kernel.ts';
import { isAevbError } from '../../src/shared/errors.ts';
import { stepKernelFactory } from '../../src/shared/model/step_kernels.ts';

const memory = new WebAssembly.Memory({ initial: 1 });
let relaxed: { ok: true } | { code: string; message: string };
try {
  stepKernelFactory('relaxed')(memory);
  relaxed = { ok: true };
} catch (e) {
  relaxed = isAevbError(e) ? { code: e.code, message: e.message } : { code: 'not an AevbError', message: String(e) };
}
console.log(JSON.stringify({ detected: detectKernelBuild(), auto: new StepKernel(memory).build, relaxed }));
