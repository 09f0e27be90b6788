/**
 * The update half of one AEVB step (Algorithm 1), written once for every path: a pool worker on its
 * slice of the shared memory, the message path's coordinator and LocalTrainer on the whole vector.
 *
 *   g = −(1/M) Σ_w grads[w] + λ θ_t          (workers return sums over their shards; one place divides)
 *   θ_{t+1}, slots_{t+1} = rule(θ_t, slots_t, g)    read from copy `cur`, written to copy 1 − cur
 *
 * The caller commits (flips `cur`) only when every slice was finite, so a failed step changes nothing.
 */
import type { TrainConfig } from './config.ts';
import type { UpdateKernel } from '../kernels/update_kernel.ts';
import type { PoolMemory } from './shared_memory.ts';

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
export function updateSlice(kernel: UpdateKernel, mem: PoolMemory, cfg: TrainConfig, u: SliceUpdate): boolean {
  return kernel.update({
    kind: cfg.optimizer, from: mem.state(u.cur).ptr, to: mem.state(1 - u.cur).ptr,
    grads: mem.gradPtr, gradStride: mem.gradStride, gradCount: u.gradCount,
    scale: -1 / cfg.batch, lr: cfg.lr, weightDecay: cfg.weightDecay, t: u.step + 1, start: u.start, end: u.end,
  });
}

/** Whether step `step` also computes the minibatch ELBO (a log per pixel), not only the gradient. */
export function computesValue(step: number, valueEvery: number): boolean {
  return step % valueEvery === 0;
}

/** A step memory's committed state, copied out. */
export function copyState(mem: PoolMemory, cur: number) {
  const v = mem.state(cur);
  return { params: v.params.slice(), slots: v.slots.map((s) => s.slice()) };
}
