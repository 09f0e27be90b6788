/**
 * The step's memory, laid out once as named regions (piscina's symbols.ts, by analogy). It is one
 * WebAssembly.Memory, so that the update kernels (src/kernels) work on it in place; for the pool it
 * is a shared memory (its buffer a SharedArrayBuffer) that every worker maps, for the message path
 * and LocalTrainer an ordinary one of the same layout.
 *
 *   control  Int32   [Ctrl.LENGTH]           barrier words, abort flag, commit
 *   values   Float64 [N][Value.LENGTH]       per worker: its shard's Σ ELBO terms and the worker it found failing
 *   results  Float64 [maxSteps][Result.LENGTH]  per step of a request: ok, Σ ELBO terms, failing worker
 *   state    Float32 [2][(1 + S)·P + T]      two copies of (θ ∪ φ, optimizer slots, mirror): step t
 *                                             reads copy `cur`, writes copy 1 − cur; a step commits
 *                                             by flipping `cur`, so a failed step changes nothing.
 *                                             The mirror holds Wᵀ of the weights the backward pass
 *                                             propagates through (T elements, ParamLayout.mirror)
 *   grads    Float32 [N][P]                  one gradient slot per worker (Σ over its shard)
 *   scratch  bytes   [N][scratchBytes]        per worker: the activations of aevb's step kernels
 *                                             (model/kernel_gradient.ts); none for the tfjs kernels
 *
 * The datasets are separate SharedArrayBuffers (train [N_train·D], test [N_test·D]) read by every
 * worker. In a page without cross-origin isolation there is no shared memory: the pool then sends
 * messages (transfer path) and only the coordinator has a step memory, an ordinary one.
 */
import type { StatePointers } from '../../kernels/update_kernel.ts';

/** Word offsets in the control block. */
export const Ctrl = Object.freeze({
  BARRIER_COUNT: 0, // arrivals at the current barrier
  BARRIER_GEN: 1, // barrier generation; waiters sleep on it
  ABORT: 2, // 1: give up the current request (raised by the coordinator; see barrier.ts)
  CUR: 3, // which state copy (0 or 1) is committed
  COMMITTED_STEPS: 4, // steps committed so far (= the next step's number)
  LENGTH: 8,
});

/** Fields of one worker's row of `values`, written by that worker during a step. */
export const Value = Object.freeze({
  ELBO: 0, // Σ over its shard of the ELBO estimate (NaN when not computed this step)
  RECON: 1, // Σ reconstruction term
  KL: 2, // Σ KL term
  BAD: 3, // the worker whose gradient or ELBO it found not finite, or −1
  LENGTH: 4,
});

/** Fields of one row of `results` (one step of a request), written by the step's last arrival. */
export const Result = Object.freeze({
  OK: 0, // 1: committed with an update; 0: skipped (not finite)
  ELBO: 1, // Σ over the minibatch (NaN when not computed)
  RECON: 2,
  KL: 3,
  BAD: 4, // the failing worker, or −1
  LENGTH: 5,
});

export interface PoolMemorySpec {
  /** N: gradient slots (one per worker). */
  workers: number;
  /** P: parameters. */
  paramCount: number;
  /** S: optimizer state vectors. */
  slotCount: number;
  /** T: elements of the transposed-weights mirror (ParamLayout.mirrorSize). */
  mirrorSize: number;
  /** Bytes of kernel scratch per worker (0 or absent: none). */
  scratchBytes?: number;
  /** Largest number of steps in one request. */
  maxSteps: number;
  trainLength: number;
  testLength: number;
}

export interface PoolBuffers {
  /** Control, values, results, both state copies and the gradient slots. */
  memory: WebAssembly.Memory;
  train: ArrayBufferLike;
  test: ArrayBufferLike;
}

/** θ ∪ φ, the optimizer slots and the mirror of one state copy, as views and as kernel pointers. */
export interface StateView {
  params: Float32Array;
  slots: Float32Array[];
  mirror: Float32Array;
  ptr: StatePointers;
}

const WASM_PAGE = 65536;
const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

/** Byte offsets of every region; the same on every thread, computed from the spec alone. */
export function memoryRegions(spec: PoolMemorySpec) {
  const { workers: N, paramCount: P, slotCount: S, mirrorSize: T, maxSteps } = spec;
  const control = 0;
  const values = align16(control + Ctrl.LENGTH * 4);
  const results = align16(values + N * Value.LENGTH * 8);
  const state = align16(results + Math.max(maxSteps, 1) * Result.LENGTH * 8);
  const stateBytes = align16(((1 + S) * P + T) * 4);
  const grads = state + 2 * stateBytes;
  const gradStride = align16(P * 4);
  const scratch = grads + N * gradStride;
  const scratchStride = align16(spec.scratchBytes ?? 0);
  const end = scratch + N * scratchStride;
  return { control, values, results, state, stateBytes, grads, gradStride, scratch, scratchStride, end };
}

/** Typed views over the memory: what both the coordinator and the workers use. */
export class PoolMemory {
  readonly ctrl: Int32Array;
  readonly grads: Float32Array[];
  readonly values: Float64Array;
  readonly results: Float64Array;
  readonly train: Float32Array;
  readonly test: Float32Array;
  /** Gradient slot 0 and the distance between slots, in bytes (for the kernels). */
  readonly gradPtr: number;
  readonly gradStride: number;
  /** Byte offset of each worker's kernel scratch (empty regions when the spec has none). */
  readonly scratch: number[];
  private readonly states: [StateView, StateView];

  constructor(
    readonly buffers: PoolBuffers,
    readonly spec: PoolMemorySpec,
  ) {
    const { workers: N, paramCount: P, slotCount: S, mirrorSize: T, maxSteps } = spec;
    const r = memoryRegions(spec);
    const buf = buffers.memory.buffer;
    this.ctrl = new Int32Array(buf, r.control, Ctrl.LENGTH);
    this.values = new Float64Array(buf, r.values, N * Value.LENGTH);
    this.results = new Float64Array(buf, r.results, Math.max(maxSteps, 1) * Result.LENGTH);
    const stateView = (b: number): StateView => {
      const base = r.state + b * r.stateBytes;
      const slotPtrs = Array.from({ length: S }, (_, s) => base + (1 + s) * P * 4);
      const mirrorPtr = base + (1 + S) * P * 4;
      return {
        params: new Float32Array(buf, base, P),
        slots: slotPtrs.map((p) => new Float32Array(buf, p, P)),
        mirror: new Float32Array(buf, mirrorPtr, T),
        ptr: { params: base, slots: slotPtrs, mirror: mirrorPtr },
      };
    };
    this.states = [stateView(0), stateView(1)];
    this.gradPtr = r.grads;
    this.gradStride = r.gradStride;
    this.grads = Array.from({ length: N }, (_, w) => new Float32Array(buf, r.grads + w * r.gradStride, P));
    this.scratch = Array.from({ length: N }, (_, w) => r.scratch + w * r.scratchStride);
    this.train = new Float32Array(buffers.train);
    this.test = new Float32Array(buffers.test);
  }

  state(b: number): StateView {
    return this.states[b & 1];
  }

  /** θ and the optimizer slots of state copy b, copied out (for checkpoints and the caller's bookkeeping). */
  copyState(b: number): { params: Float32Array; slots: Float32Array[] } {
    const v = this.state(b);
    return { params: v.params.slice(), slots: v.slots.map((s) => s.slice()) };
  }
}

export function hasSharedMemory(): boolean {
  // In a page, SharedArrayBuffer exists only when the page is cross-origin isolated.
  return typeof SharedArrayBuffer === 'function' && (typeof globalThis.crossOriginIsolated !== 'boolean' || globalThis.crossOriginIsolated);
}

/**
 * Allocate every region (zeroed): a shared memory and shared datasets for the pool, or (shared:
 * false) an ordinary memory for a single thread (the message path's coordinator, LocalTrainer).
 */
export function allocatePoolMemory(spec: PoolMemorySpec, shared = true): PoolMemory {
  const pages = Math.ceil(memoryRegions(spec).end / WASM_PAGE) || 1;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared });
  const data = (n: number) => (shared ? new SharedArrayBuffer(Math.max(n * 4, 8)) : new ArrayBuffer(Math.max(n * 4, 8)));
  return new PoolMemory({ memory, train: data(spec.trainLength), test: data(spec.testLength) }, spec);
}
