/**
 * aevb's step kernels (src/kernels/step_kernel.ts: the WASM SIMD module in the build this engine runs,
 * relaxed SIMD with fused multiply-add or plain SIMD128) as the operations the kernel gradient calls.
 */
import { StepKernel, type KernelBuild } from '../../kernels/step_kernel.ts';
import type { KernelFactory } from './aevb_step_gradient.ts';
import { withKernelErrors } from '../runtime/kernel_errors.ts';

/**
 * The kernels of `build` (default: the best this engine has) on a memory. A build this engine cannot
 * run is an AevbError: ARGUMENT for a build it does not have, STATE for an engine without SIMD.
 */
export function stepKernelFactory(build?: KernelBuild): KernelFactory {
  return (memory) => {
    const k = withKernelErrors(() => new StepKernel(memory, build));
    return { ops: k.k, build: k.build };
  };
}
