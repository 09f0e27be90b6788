/**
 * The engines the kernel edge tests hold against each other: aevb's kernel gradient on each WASM build
 * (forced with stepKernelFactory, whatever the engine would pick), on the float64 loops of the kernels'
 * contract (js_step_kernels.ts), and the tfjs gradient (the reference). Each runs in a memory of its own.
 */
import { resolveConfig, type TrainConfig } from '../../src/shared/training/config.ts';
import { buildLayout, type ParamLayout } from '../../src/shared/model/layout.ts';
import { buildShard, type ShardInputs } from '../../src/shared/training/minibatch.ts';
import { initParams } from '../../src/shared/model/model.ts';
import { SgvbGradient, type ShardValue } from '../../src/shared/model/gradients.ts';
import { AevbStepGradient, type KernelFactory } from '../../src/shared/model/aevb_step_gradient.ts';
import { stepKernelFactory } from '../../src/shared/model/step_kernels.ts';
import type { KernelBuild } from '../../src/kernels/step_kernel.ts';
import { jsStepKernels } from './js_step_kernels.ts';
import { RELAXED_AVAILABLE } from './step_arena.ts';

/** Which kernels: a WASM build, or the float64 loops. */
export type KernelsUnderTest = KernelBuild | 'float64';

/** The WASM builds this engine runs (the test process has relaxed SIMD; both are forced). */
export const WASM_BUILDS: KernelBuild[] = RELAXED_AVAILABLE ? ['relaxed', 'simd128'] : ['simd128'];

export function factoryOf(k: KernelsUnderTest): KernelFactory {
  return k === 'float64' ? (m) => ({ ops: jsStepKernels(m), build: 'float64' }) : stepKernelFactory(k);
}

/** ∇ Σ_shard ℒ̃ on the kernels `k` (the slot is pre-filled with NaN: it must be written, not added to). */
export function kernelGradient(
  k: KernelsUnderTest,
  cfg: TrainConfig,
  layout: ParamLayout,
  params: Float32Array,
  shard: ShardInputs,
  withValue = true,
): { grad: Float32Array; v: ShardValue } {
  const engine = new AevbStepGradient(cfg, layout, factoryOf(k));
  if (engine.build !== k) throw new Error(`asked for the ${k} kernels, got ${engine.build}`);
  const grad = new Float32Array(layout.size).fill(NaN);
  const v = engine.compute(params, shard, grad, withValue);
  engine.dispose();
  return { grad, v };
}

/** The tfjs reference gradient (the backend must be set up). */
export function tfjsGradient(
  cfg: TrainConfig,
  layout: ParamLayout,
  params: Float32Array,
  shard: ShardInputs,
  withValue = true,
): { grad: Float32Array; v: ShardValue } {
  const engine = new SgvbGradient(cfg, layout);
  const grad = new Float32Array(layout.size);
  const v = engine.compute(params, shard, grad, withValue);
  engine.dispose();
  return { grad, v };
}

/** Whether every entry is finite. */
export const allFinite = (a: ArrayLike<number>) => Array.prototype.every.call(a, Number.isFinite) as boolean;

/** A model, its parameters (pytorch init ×2: pre-activations O(1), every nonlinearity exercised) and a shard of B points. */
export function edgeFixture(over: Partial<TrainConfig>, B: number) {
  const cfg = resolveConfig({ inputSize: 7, hidden: 5, latent: 3, init: 'pytorch', seed: 9, ...over });
  const layout = buildLayout(cfg);
  const params = initParams(cfg, 4, layout).map((v) => 2 * v);
  const N = Math.max(B, 1) + 3,
    D = cfg.inputSize;
  const x = new Float32Array(N * D).map((_, i) => ((i * 7919) % 103) / 102);
  const indices = Array.from({ length: B }, (_, i) => (i * 5 + 1) % N);
  const data = { name: 'edges', n: N, d: D, x };
  const shard = buildShard(cfg, data, { indices, step: 4 });
  /** The shard of datapoints [lo, hi) of this one (ε keyed by global index: the same noise as in the whole). */
  const part = (lo: number, hi: number) => buildShard(cfg, data, { indices: indices.slice(lo, hi), step: 4 });
  return { cfg, layout, params, shard, part };
}
