/**
 * The update half of one AEVB step (Algorithm 1), written once for every path: a pool worker on its
 * slice of the shared memory, the message path's coordinator and LocalTrainer on the whole vector.
 *
 *   g = −(1/M) Σ_w grads[w] + λ θ_t          (workers return sums over their shards; one place divides)
 *   θ_{t+1}, slots_{t+1} = rule(θ_t, slots_t, g)    read from copy `cur`, written to copy 1 − cur
 *
 * and, for the weights the backward pass propagates through, the mirror  Wᵀ_{t+1}  of the rows just
 * updated (each worker transposes its own slice, so no worker transposes a whole weight per step).
 *
 * The caller commits (flips `cur`) only when every slice was finite, so a failed step changes nothing.
 */
import type { TrainConfig } from './config.ts';
import type { UpdateKernel } from '../../kernels/update_kernel.ts';
import type { ParamLayout } from '../model/layout.ts';
import type { PoolMemory } from '../runtime/shared_memory.ts';
import { firstNonFinite, optimizerSpec } from './optimizers.ts';
import { withKernelErrors } from '../runtime/kernel_errors.ts';

export interface SliceUpdate {
  /** The committed state copy (read); the other copy is written. */
  cur: number;
  /** The step's number t (0-based); the update is the (t+1)-th. */
  step: number;
  /** Gradient slots to sum: slots 0 .. gradCount − 1 of the memory. */
  gradCount: number;
  /** The slice [start, end) of the parameter vector. */
  start: number;
  end: number;
}

/** Apply the step's update to one slice. Returns whether every gradient and new parameter is finite. */
export function updateSlice(kernel: UpdateKernel, mem: PoolMemory, cfg: TrainConfig, layout: ParamLayout, u: SliceUpdate): boolean {
  const to = mem.state(1 - u.cur).ptr;
  const finite = withKernelErrors(() =>
    kernel.update({
      rule: cfg.optimizer, // the kernel's function is named after the rule (optimizers.ts)
      from: mem.state(u.cur).ptr,
      to,
      grads: mem.gradPtr,
      gradStride: mem.gradStride,
      gradCount: u.gradCount,
      scale: -1 / cfg.batch,
      lr: cfg.lr,
      weightDecay: cfg.weightDecay,
      args: optimizerSpec(cfg.optimizer).kernelArgs(u.step + 1),
      start: u.start,
      end: u.end,
    }),
  );
  if (finite) writeMirror(kernel, layout, to.params, to.mirror, u.start, u.end);
  return finite;
}

/**
 * The update of one slice and the step's verdict on it, as every path decides it: the worker that
 * made the step fail, or −1. A gradient slot with a non-finite value in the slice blames the first
 * such slot's worker (if every slot is finite, the sum or the update overflowed: worker 0); with
 * finite numbers everywhere, a non-finite shard ELBO (when the step computes it) blames its worker.
 * `elbo(w)` is worker w's shard ELBO. The caller commits only when no slice found a culprit.
 */
export function updateAndCheck(
  kernel: UpdateKernel,
  mem: PoolMemory,
  cfg: TrainConfig,
  layout: ParamLayout,
  u: SliceUpdate,
  elbo: (worker: number) => number,
  withValue: boolean,
): number {
  const finite = updateSlice(kernel, mem, cfg, layout, u);
  if (!finite) return firstBadSlot(mem, u.gradCount, u.start, u.end);
  if (withValue) for (let w = 0; w < u.gradCount; w++) if (!Number.isFinite(elbo(w))) return w;
  return -1;
}

/** The first worker whose gradient slot holds a non-finite value in [lo, hi), else 0 (the sum or the update overflowed). */
function firstBadSlot(mem: PoolMemory, N: number, lo: number, hi: number): number {
  for (let w = 0; w < N; w++) if (firstNonFinite(mem.grads[w], lo, hi) >= 0) return w;
  return 0;
}

/** Mirror ← Wᵀ for the elements [start, end) of θ (the whole mirror when [0, P)). */
export function writeMirror(kernel: UpdateKernel, layout: ParamLayout, params: number, mirror: number, start: number, end: number): void {
  for (const m of layout.mirror) {
    const lo = Math.max(start, m.offset),
      hi = Math.min(end, m.offset + m.size);
    if (lo < hi) kernel.transpose(params + m.offset * 4, m.rows, m.cols, mirror + m.mirrorOffset * 4, lo - m.offset, hi - m.offset);
  }
}

/** Whether step `step` also computes the minibatch ELBO (a log per pixel), not only the gradient. */
export function computesValue(step: number, valueEvery: number): boolean {
  return step % valueEvery === 0;
}
