/**
 * The optimizer kernels (update.as.ts, WASM SIMD) bound to one WebAssembly.Memory.
 *
 * Every path runs its update through this: a pool worker on its slice of the pool's shared memory,
 * the message path's coordinator and the single-thread LocalTrainer on a memory of their own. One
 * arithmetic everywhere (float32, lane-wise), so every path gives the same bits.
 */
import { KernelError } from './kernel_error.ts';
import { UPDATE_WASM_SHARED, UPDATE_WASM_UNSHARED } from './update.wasm.ts';

/** A rule's kernel: (n, θ, slots…, θ', slots'…, grads, stride, nGrads, scale, lr, wd, …args) → 1 if finite. */
type RuleKernel = (...args: number[]) => number;

interface KernelExports {
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
  /** The rule: the name of its function in update.as.ts (an optimizer's name, src/shared/training/optimizers.ts). */
  rule: string;
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
  /** The rule's constants and per-step values, in its function's order (the registry's kernelArgs). */
  args: readonly number[];
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
  private readonly exports: Record<string, unknown>;

  constructor(readonly memory: WebAssembly.Memory) {
    const instance = new WebAssembly.Instance(moduleFor(isSharedMemory(memory)), { env: { memory } });
    this.exports = instance.exports as Record<string, unknown>;
    this.k = instance.exports as unknown as KernelExports;
  }

  /**
   * θ_{t+1}, slots_{t+1} ← rule(θ_t, slots_t, scale · Σ_w grads[w] + λ θ_t) on [start, end).
   * Returns whether every gradient and every new parameter of the slice is finite.
   */
  update(u: KernelUpdate): boolean {
    const n = u.end - u.start;
    if (n <= 0) return true;
    const kernel = this.rule(u);
    const o = u.start * 4,
      { from: a, to: b } = u;
    const at = (ptr: number) => ptr + o;
    return (
      kernel(
        n,
        at(a.params),
        ...a.slots.map(at),
        at(b.params),
        ...b.slots.map(at),
        at(u.grads),
        u.gradStride,
        u.gradCount,
        u.scale,
        u.lr,
        u.weightDecay,
        ...u.args,
      ) === 1
    );
  }

  /** The rule's function, checked against the call: a WASM function's length is its number of parameters. */
  private rule(u: KernelUpdate): RuleKernel {
    const f = Object.hasOwn(this.exports, u.rule) && u.rule !== 'transpose' ? this.exports[u.rule] : undefined;
    if (typeof f !== 'function') {
      throw new KernelError(
        'ARGUMENT',
        `The update kernel has no rule ${JSON.stringify(u.rule)}.`,
        'Add its function to src/kernels/update.as.ts and run npm run build:kernels.',
      );
    }
    const arity = 1 + 2 * (1 + u.from.slots.length) + 6 + u.args.length;
    if (f.length !== arity || u.to.slots.length !== u.from.slots.length) {
      throw new KernelError(
        'ARGUMENT',
        `The update kernel's ${u.rule} takes ${f.length} arguments; this call has ${u.from.slots.length} state slots and ${u.args.length} constants (${arity}).`,
        "Make the rule's slots and kernelArgs in src/shared/training/optimizers.ts match its function in src/kernels/update.as.ts.",
      );
    }
    return f as RuleKernel;
  }

  /** dst ← the transpose of the elements [i0, i1) of the row-major [rows, cols] matrix at src (bytes). */
  transpose(src: number, rows: number, cols: number, dst: number, i0: number, i1: number): void {
    if (i1 > i0) this.k.transpose(src, rows, cols, dst, i0, i1);
  }
}
