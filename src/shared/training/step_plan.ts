/**
 * What the step's memory must hold for the chosen kernels, decided before any worker starts (the
 * coordinator lays the memory out; it never computes a gradient, so this file imports no tfjs).
 *
 *   aevb's kernels (algorithm 'aevb', kernels 'aevb'): every product reads W as stored, so the state
 *     keeps no mirror of transposed weights; each worker has a scratch region for its activations.
 *   the tfjs gradients (kernels 'tfjs', or wake-sleep): the mirror, no scratch.
 */
import type { TrainConfig } from './config.ts';
import { withoutMirror, type ParamLayout } from '../model/layout.ts';
import { scratchPlan } from '../model/kernel_gradient.ts';
import type { KernelChoice } from '../runtime/protocol.ts';
import { hasWasmSimd } from '../../kernels/step_kernel.ts';

/** What computes a step's gradient, as reported to users: 'tfjs', or aevb's kernels and their build. */
export type KernelsInUse = 'tfjs' | 'aevb-relaxed' | 'aevb-simd128';

/**
 * Whether the step runs on aevb's kernels: asked for, an algorithm they implement, and an engine with
 * WebAssembly SIMD (which they are written in; an engine without it trains on tfjs, as before, and every
 * worker reports 'tfjs'). The page's workers run on the page's engine, so the coordinator's answer is theirs.
 */
export function runsOnAevbKernels(cfg: Pick<TrainConfig, 'algorithm'>, kernels: KernelChoice, simd = hasWasmSimd()): boolean {
  return kernels === 'aevb' && cfg.algorithm === 'aevb' && simd;
}

/** The layout of the step's memory: without the mirror where the kernels need none. */
export function stepLayout(cfg: Pick<TrainConfig, 'algorithm'>, kernels: KernelChoice, layout: ParamLayout): ParamLayout {
  return runsOnAevbKernels(cfg, kernels) ? withoutMirror(layout) : layout;
}

/** Bytes of kernel scratch each worker needs in the step's memory (0 for the tfjs gradients). */
export function stepScratchBytes(cfg: TrainConfig, kernels: KernelChoice): number {
  return runsOnAevbKernels(cfg, kernels) ? scratchPlan(cfg).bytes : 0;
}
