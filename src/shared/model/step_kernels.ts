/**
 * aevb's step kernels (src/kernels/step_kernel.ts: the WASM SIMD module in the build this engine runs,
 * relaxed SIMD with fused multiply-add or plain SIMD128) as the operations the kernel gradient calls.
 */
import { StepKernel, type KernelActivation, type KernelBuild } from '../../kernels/step_kernel.ts';
import type { KernelFactory } from './aevb_step_gradient.ts';
import type { StepKernelOps } from './kernel_gradient.ts';

const ACTIVATIONS: readonly KernelActivation[] = ['linear', 'tanh', 'relu'];

/** The kernels of `build` (default: the best this engine has) on a memory. */
export function stepKernelFactory(build?: KernelBuild): KernelFactory {
  return (memory) => {
    const k = new StepKernel(memory, build);
    const ops: StepKernelOps = {
      gemm_nt: (M, N, K, A, lda, B, ldb, C, ldc, acc) => k.gemmNT(M, N, K, A, lda, B, ldb, C, ldc, acc !== 0),
      gemm_nn: (M, N, K, A, lda, B, ldb, C, ldc, acc) => k.gemmNN(M, N, K, A, lda, B, ldb, C, ldc, acc !== 0),
      gemm_tn: (M, N, K, A, lda, B, ldb, C, ldc, acc) => k.gemmTN(M, N, K, A, lda, B, ldb, C, ldc, acc !== 0),
      bias_act: (M, N, Y, ldy, bias, act) => k.biasAct(M, N, Y, ldy, bias, ACTIVATIONS[act]),
      act_grad: (M, N, G, ldg, Y, ldy, act) => k.actGrad(M, N, G, ldg, Y, ldy, ACTIVATIONS[act]),
      col_sum: (M, N, G, ldg, out, acc) => k.colSum(M, N, G, ldg, out, acc !== 0),
      bernoulli_head: (M, N, Lg, ldl, X, ldx, scale, v) => k.bernoulliHead(M, N, Lg, ldl, X, ldx, scale, v !== 0),
      gaussian_head: (M, N, R, ldr, V, ldv, X, ldx, sm, scale, v) => k.gaussianHead(M, N, R, ldr, V, ldv, X, ldx, sm !== 0, scale, v !== 0),
    };
    return { ops, build: k.build };
  };
}
