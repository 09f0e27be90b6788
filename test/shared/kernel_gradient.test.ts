import { describe, it, expect, beforeAll } from 'vitest';
import { resolveConfig, type TrainConfig } from '../../src/shared/config.ts';
import { buildLayout } from '../../src/shared/layout.ts';
import { initParams } from '../../src/shared/model.ts';
import { SgvbGradient } from '../../src/shared/gradients.ts';
import { KernelGradient, scratchPlan, type StepKernelOps } from '../../src/shared/model/kernel_gradient.ts';
import { buildShard } from '../../src/shared/minibatch.ts';
import { useBackend, relErr } from '../helpers/backend.ts';
import { jsStepKernels } from '../helpers/js_step_kernels.ts';
import { stepKernelFactory } from '../../src/shared/model/step_kernels.ts';
import { detectKernelBuild, type KernelBuild } from '../../src/kernels/step_kernel.ts';

function setup(over: Partial<TrainConfig>, n = 5) {
  const cfg = resolveConfig({ inputSize: 30, hidden: 16, latent: 4, init: 'pytorch', ...over });
  const layout = buildLayout(cfg);
  const params = initParams(cfg, 3, layout);
  const N = 300, D = cfg.inputSize;
  const x = new Float32Array(N * D).map((_, i) => ((i * 7919) % 101) / 100);
  const data = { name: 'fixture', n: N, d: D, x };
  const indices = Array.from({ length: n }, (_, i) => (i * 37) % N);
  const shard = buildShard(cfg, data, { indices, step: 2 });
  return { cfg, layout, params, shard };
}

/** A memory holding θ, one gradient slot and the scratch, and the kernel gradient on it. */
function onMemory(cfg: TrainConfig, layout: ReturnType<typeof buildLayout>, kernels: (m: WebAssembly.Memory) => StepKernelOps) {
  const P = layout.size * 4, plan = scratchPlan(cfg);
  const bytes = 2 * Math.ceil(P / 16) * 16 + plan.bytes;
  const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) + 1 });
  const paramsPtr = 0, gradPtr = Math.ceil(P / 16) * 16, scratch = 2 * gradPtr;
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

const CASES: Array<Partial<TrainConfig>> = [
  { estimator: 'B', decoder: 'bernoulli', activation: 'tanh', samples: 1 },
  { estimator: 'A', decoder: 'bernoulli', activation: 'relu', samples: 3 },
  { estimator: 'A', decoder: 'gaussian', activation: 'tanh', samples: 2 },
  { estimator: 'B', decoder: 'gaussian', activation: 'tanh', samples: 1, sigmoidMean: false },
  { estimator: 'B', decoder: 'bernoulli', activation: 'linear', samples: 2 },
];

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
    for (const n of [5, 150]) { // 150 datapoints: more than one chunk
      it(`matches for ${JSON.stringify(c)}, ${n} datapoints`, () => {
        const { cfg, layout, params, shard } = setup(c, n);
        const ref = new Float32Array(layout.size);
        const tfjs = new SgvbGradient(cfg, layout);
        const vRef = tfjs.compute(params, shard, ref, true);
        tfjs.dispose();
        const { v, grad } = onMemory(cfg, layout, kernels).run(params, shard);
        for (const s of layout.specs) {
          expect(relErr(grad.subarray(s.offset, s.offset + s.size), ref.subarray(s.offset, s.offset + s.size)), s.name).toBeLessThanOrEqual(1e-5);
        }
        expect(v.recon).toBeCloseTo(vRef.recon, 2);
        expect(v.kl).toBeCloseTo(vRef.kl, 3);
        expect(Math.abs(v.elbo - vRef.elbo) / Math.abs(vRef.elbo)).toBeLessThan(1e-5);
      });
    }
  }
});
