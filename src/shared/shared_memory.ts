/**
 * The pool's shared memory, laid out once as named regions (piscina's symbols.ts, by analogy):
 *
 *   control  Int32   [Ctrl.LENGTH]           barrier words, abort flag, commit
 *   state    Float32 [2][(1 + S)·P]          two copies of (θ ∪ φ, optimizer slots): step t reads
 *                                             copy `cur`, writes copy 1 − cur; a step commits by
 *                                             flipping `cur` — so a failed step changes nothing
 *   grads    Float32 [N][P]                  one gradient slot per worker (Σ over its shard)
 *   values   Float64 [N][4]                  per worker: Σ ELBO, Σ reconstruction, Σ KL of its shard, and
 *                                             the worker it found failing this step (−1: none)
 *   results  Float64 [maxSteps][5]           per step of a request: ok, Σ ELBO, Σ recon, Σ KL, failing worker
 *   train    Float32 [N_train·D]             the training set, once for the whole pool
 *   test     Float32 [N_test·D]              the test set
 *
 * In a page without cross-origin isolation there is no SharedArrayBuffer: the pool then uses
 * messages instead (transfer path) and none of this is allocated.
 */

/** Word offsets in the control block. */
export const Ctrl = Object.freeze({
  BARRIER_COUNT: 0,     // arrivals at the current barrier
  BARRIER_GEN: 1,       // barrier generation; waiters sleep on it
  ABORT: 2,             // 1: give up the current step (the coordinator saw a worker die)
  CUR: 3,               // which state copy (0 or 1) is committed
  COMMITTED_STEPS: 4,   // steps committed so far (= the next step's number)
  LENGTH: 8,
});

/** Fields of one results row: ok (1/0), Σ ELBO, Σ recon, Σ KL (NaN when not computed), failing worker (−1). */
export const RESULT_FIELDS = 5;
/** Fields of one worker's values: Σ ELBO, Σ recon, Σ KL of its shard, the failing worker it found (−1). */
export const VALUE_FIELDS = 4;
export const BAD_FIELD = 3;

export interface PoolMemorySpec {
  workers: number;
  /** P: parameters. */
  paramCount: number;
  /** S: optimizer state vectors. */
  slotCount: number;
  /** Largest number of steps in one request. */
  maxSteps: number;
  trainLength: number;
  testLength: number;
}

export interface PoolBuffers {
  control: SharedArrayBuffer;
  state: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  values: SharedArrayBuffer;
  results: SharedArrayBuffer;
  train: SharedArrayBuffer;
  test: SharedArrayBuffer;
}

/** θ ∪ φ and the optimizer slots of one state copy. */
export interface StateView {
  params: Float32Array;
  slots: Float32Array[];
}

/** Typed views over the buffers: what both the coordinator and the workers use. */
export class PoolMemory {
  readonly ctrl: Int32Array;
  readonly grads: Float32Array[];
  readonly values: Float64Array;
  readonly results: Float64Array;
  readonly train: Float32Array;
  readonly test: Float32Array;
  private readonly states: [StateView, StateView];

  constructor(readonly buffers: PoolBuffers, readonly spec: PoolMemorySpec) {
    const { workers: N, paramCount: P, slotCount: S } = spec;
    this.ctrl = new Int32Array(buffers.control);
    const stateView = (b: number): StateView => {
      const base = b * (1 + S) * P;
      return {
        params: new Float32Array(buffers.state, base * 4, P),
        slots: Array.from({ length: S }, (_, s) => new Float32Array(buffers.state, (base + (1 + s) * P) * 4, P)),
      };
    };
    this.states = [stateView(0), stateView(1)];
    this.grads = Array.from({ length: N }, (_, w) => new Float32Array(buffers.grads, w * P * 4, P));
    this.values = new Float64Array(buffers.values);
    this.results = new Float64Array(buffers.results);
    this.train = new Float32Array(buffers.train);
    this.test = new Float32Array(buffers.test);
  }

  state(b: number): StateView {
    return this.states[b & 1];
  }
}

export function hasSharedMemory(): boolean {
  // In a page, SharedArrayBuffer exists only when the page is cross-origin isolated.
  return typeof SharedArrayBuffer === 'function' &&
    (typeof globalThis.crossOriginIsolated !== 'boolean' || globalThis.crossOriginIsolated);
}

/** Allocate every region (zeroed). */
export function allocatePoolMemory(spec: PoolMemorySpec): PoolMemory {
  const { workers: N, paramCount: P, slotCount: S } = spec;
  const sab = (bytes: number) => new SharedArrayBuffer(Math.max(bytes, 8));
  return new PoolMemory({
    control: sab(Ctrl.LENGTH * 4),
    state: sab(2 * (1 + S) * P * 4),
    grads: sab(N * P * 4),
    values: sab(N * VALUE_FIELDS * 8),
    results: sab(spec.maxSteps * RESULT_FIELDS * 8),
    train: sab(spec.trainLength * 4),
    test: sab(spec.testLength * 4),
  }, spec);
}
