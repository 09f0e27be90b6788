/**
 * Run as a plain `node --import tsx` child (test/kernels/step_kernel.test.ts): prints, as JSON, the build
 * this process detects and what asking for the relaxed build does here.
 */
import { StepKernel, detectKernelBuild } from '../../src/kernels/step_kernel.ts';
import { isAevbError } from '../../src/shared/errors.ts';

const memory = new WebAssembly.Memory({ initial: 1 });
let relaxed: { ok: true } | { code: string; message: string };
try {
  new StepKernel(memory, 'relaxed');
  relaxed = { ok: true };
} catch (e) {
  relaxed = isAevbError(e) ? { code: e.code, message: e.message } : { code: 'not an AevbError', message: String(e) };
}
console.log(JSON.stringify({ detected: detectKernelBuild(), auto: new StepKernel(memory).build, relaxed }));
