/**
 * The optimizer kernels (update.as.ts, WASM SIMD) bound to one WebAssembly.Memory.
 *
 * Every path runs its update through this: a pool worker on its slice of the pool's shared memory,
 * the message path's coordinator and the single-thread LocalTrainer on a memory of their own. One
 * arithmetic everywhere (float32, lane-wise), so every path gives the same bits.
 */
import type { OptimizerKind } from '../shared/training/config.ts';
import { ADAM_BETA1, ADAM_BETA2 } from '../shared/training/optimizers.ts';
import { UPDATE_WASM_SHARED, UPDATE_WASM_UNSHARED } from './update.wasm.ts';

interface KernelExports {
  sgd(n: number, p: number, q: number, grads: number, stride: number, nGrads: number, scale: number, lr: number, wd: number): number;
  adagrad(
    n: number,
    p: number,
    G: number,
    q: number,
    G2: number,
    grads: number,
    stride: number,
    nGrads: number,
    scale: number,
    lr: number,
    wd: number,
  ): number;
  adam(
    n: number,
    p: number,
    m: number,
    v: number,
    q: number,
    m2: number,
    v2: number,
    grads: number,
    stride: number,
    nGrads: number,
    scale: number,
    lr: number,
    wd: number,
    c1: number,
    c2: number,
  ): number;
  transpose(src: number, rows: number, cols: number, dst: number, i0: number, i1: number): void;
}

/**
 * Byte offsets (into the kernel's memory) of one copy of the training state: θ ∪ φ, the rule's
 * slots, and the mirror (the transposed weights, laid out by ParamLayout.mirror).
 */
export interface StatePointers {
  params: number;
  slots: readonly number[];
  mirror: number;
}

export interface KernelUpdate {
  kind: OptimizerKind;
  /** State read (θ_t, slots_t) and state written (θ_{t+1}, slots_{t+1}); may be the same copy. */
  from: StatePointers;
  to: StatePointers;
  /** Gradient slot 0 (bytes), the distance between slots (bytes), and how many slots to sum. */
  grads: number;
  gradStride: number;
  gradCount: number;
  /** Multiplies Σ grads: −1/M (workers return sums; we maximise the ELBO). */
  scale: number;
  lr: number;
  weightDecay: number;
  /** 1-based number of this update (Adam's bias correction). */
  t: number;
  /** The slice [start, end) of the parameter vector, in elements. */
  start: number;
  end: number;
}

const modules: { shared?: WebAssembly.Module; unshared?: WebAssembly.Module } = {};

function moduleFor(shared: boolean): WebAssembly.Module {
  const key = shared ? 'shared' : 'unshared';
  // Compiled once per thread; 2 KB, so a synchronous compile is fine even on a page's main thread.
  return (modules[key] ??= new WebAssembly.Module(decodeBase64(shared ? UPDATE_WASM_SHARED : UPDATE_WASM_UNSHARED)));
}

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Whether a memory is shared (its buffer is a SharedArrayBuffer). */
export function isSharedMemory(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;
}

export class UpdateKernel {
  private readonly k: KernelExports;

  constructor(readonly memory: WebAssembly.Memory) {
    const instance = new WebAssembly.Instance(moduleFor(isSharedMemory(memory)), { env: { memory } });
    this.k = instance.exports as unknown as KernelExports;
  }

  /**
   * θ_{t+1}, slots_{t+1} ← rule(θ_t, slots_t, scale · Σ_w grads[w] + λ θ_t) on [start, end).
   * Returns whether every gradient and every new parameter of the slice is finite.
   */
  update(u: KernelUpdate): boolean {
    const n = u.end - u.start;
    if (n <= 0) return true;
    const o = u.start * 4,
      { from: a, to: b } = u;
    const g = u.grads + o;
    switch (u.kind) {
      case 'sgd':
        return this.k.sgd(n, a.params + o, b.params + o, g, u.gradStride, u.gradCount, u.scale, u.lr, u.weightDecay) === 1;
      case 'adagrad':
        return (
          this.k.adagrad(
            n,
            a.params + o,
            a.slots[0] + o,
            b.params + o,
            b.slots[0] + o,
            g,
            u.gradStride,
            u.gradCount,
            u.scale,
            u.lr,
            u.weightDecay,
          ) === 1
        );
      case 'adam': {
        // Bias corrections in double, then float32 like everything else in the kernel.
        const c1 = 1 - ADAM_BETA1 ** u.t,
          c2 = 1 - ADAM_BETA2 ** u.t;
        return (
          this.k.adam(
            n,
            a.params + o,
            a.slots[0] + o,
            a.slots[1] + o,
            b.params + o,
            b.slots[0] + o,
            b.slots[1] + o,
            g,
            u.gradStride,
            u.gradCount,
            u.scale,
            u.lr,
            u.weightDecay,
            c1,
            c2,
          ) === 1
        );
      }
    }
  }

  /** dst ← the transpose of the elements [i0, i1) of the row-major [rows, cols] matrix at src (bytes). */
  transpose(src: number, rows: number, cols: number, dst: number, i0: number, i1: number): void {
    if (i1 > i0) this.k.transpose(src, rows, cols, dst, i0, i1);
  }
}
