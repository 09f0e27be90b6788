import { describe, it, expect, beforeAll } from 'vitest';
import type { TrainConfig } from '../../src/shared/training/config.ts';
import type { buildLayout } from '../../src/shared/model/layout.ts';
import { SgvbGradient } from '../../src/shared/model/gradients.ts';
import { KernelGradient, scratchPlan, type StepKernelOps } from '../../src/shared/model/kernel_gradient.ts';
import { useBackend, relErr } from '../helpers/backend.ts';
import { jsStepKernels } from '../helpers/js_step_kernels.ts';
import { kernelFixture, KERNEL_CASES } from '../helpers/kernel_fixture.ts';
import { stepKernelFactory } from '../../src/shared/model/step_kernels.ts';
import { detectKernelBuild, type KernelBuild } from '../../src/kernels/step_kernel.ts';

const setup = kernelFixture;

/** A memory holding θ, one gradient slot and the scratch, and the kernel gradient on it. */
function onMemory(cfg: TrainConfig, layout: ReturnType<typeof buildLayout>, kernels: (m: WebAssembly.Memory) => StepKernelOps) {
  const P = layout.size * 4,
    plan = scratchPlan(cfg);
  const bytes = 2 * Math.ceil(P / 16) * 16 + plan.bytes;
  const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) + 1 });
  const paramsPtr = 0,
    gradPtr = Math.ceil(P / 16) * 16,
    scratch = 2 * gradPtr;
  const engine = new KernelGradient(cfg, layout, kernels(memory), memory, scratch);
  return {
    run(params: Float32Array, shard: Parameters<KernelGradient['compute']>[1], withValue = true) {
      new Float32Array(memory.buffer, paramsPtr, layout.size).set(params);
      new Float32Array(memory.buffer, gradPtr, layout.size).fill(NaN); // the slot is written, not added to
      const v = engine.compute(paramsPtr, shard, gradPtr, withValue);
      return { v, grad: new Float32Array(memory.buffer, gradPtr, layout.size).slice() };
    },
  };
}

const CASES = KERNEL_CASES;

/** The kernels to hold against tfjs: the float64 loops, and each WASM build this engine can run. */
const KERNELS: Array<[string, (m: WebAssembly.Memory) => StepKernelOps]> = [
  ['float64 reference kernels', jsStepKernels],
  ...(['simd128', 'relaxed'] as KernelBuild[])
    .filter((b) => b === 'simd128' || detectKernelBuild() === 'relaxed')
    .map((b): [string, (m: WebAssembly.Memory) => StepKernelOps] => [`the ${b} WASM build`, (m) => stepKernelFactory(b)(m).ops]),
];

describe.each(KERNELS)('the kernel gradient on %s against the tfjs gradient', (_, kernels) => {
  beforeAll(() => useBackend('wasm'));
  for (const c of CASES) {
    for (const n of [5, 150]) {
      // 150 datapoints: more than one chunk
      it(`matches for ${JSON.stringify(c)}, ${n} datapoints`, () => {
        const { cfg, layout, params, shard } = setup(c, n);
        const ref = new Float32Array(layout.size);
        const tfjs = new SgvbGradient(cfg, layout);
        const vRef = tfjs.compute(params, shard, ref, true);
        tfjs.dispose();
        const { v, grad } = onMemory(cfg, layout, kernels).run(params, shard);
        for (const s of layout.specs) {
          expect(relErr(grad.subarray(s.offset, s.offset + s.size), ref.subarray(s.offset, s.offset + s.size)), s.name).toBeLessThanOrEqual(
            1e-5,
          );
        }
        expect(v.recon).toBeCloseTo(vRef.recon, 2);
        expect(v.kl).toBeCloseTo(vRef.kl, 3);
        expect(Math.abs(v.elbo - vRef.elbo) / Math.abs(vRef.elbo)).toBeLessThan(1e-5);
      });
    }
  }
});
