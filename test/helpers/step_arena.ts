/**
 * A WebAssembly.Memory for the step kernels' tests, handed out in pieces: each allocation is placed at an
 * odd element offset after a guard of sentinels, so tests can check that a kernel wrote nothing outside
 * its output and that unaligned rows work.
 */
import type { KernelBuild } from '../../src/kernels/step_kernel.ts';

export const SENTINEL = -12345.5;
const GUARD = 7; // floats of sentinel before and after every allocation

export class Arena {
  readonly memory: WebAssembly.Memory;
  private top = 64 + 4; // bytes; +4: the first allocation is not 16-byte aligned
  private readonly guards: Array<[number, number]> = [];

  constructor(
    readonly shared: boolean,
    pages = 256,
  ) {
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, ...(shared ? { shared: true } : {}) });
  }

  get f32(): Float32Array {
    return new Float32Array(this.memory.buffer);
  }

  /** Forget every allocation (the memory is reused by the next case). */
  reset(): void {
    this.top = 64 + 4;
    this.guards.length = 0;
  }

  /** n floats (bytes offset returned), filled from `values` or with sentinels. */
  alloc(n: number, values?: ArrayLike<number>): number {
    const f = this.f32;
    const g0 = this.top / 4;
    f.fill(SENTINEL, g0, g0 + GUARD);
    const ptr = this.top + 4 * GUARD;
    const p = ptr / 4;
    if (values) f.set(values, p);
    else f.fill(SENTINEL, p, p + n);
    f.fill(SENTINEL, p + n, p + n + GUARD);
    this.guards.push([g0, g0 + GUARD], [p + n, p + n + GUARD]);
    this.top = ptr + 4 * (n + GUARD) + 4 * (1 + (n % 3)); // varying alignment
    if (this.top > this.memory.buffer.byteLength - 64) throw new Error('arena full');
    return ptr;
  }

  view(ptr: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, n);
  }

  /** Whether every guard still holds its sentinels. */
  guardsIntact(): boolean {
    const f = this.f32;
    return this.guards.every(([a, b]) => {
      for (let i = a; i < b; i++) if (f[i] !== SENTINEL) return false;
      return true;
    });
  }
}

/** A seeded uniform generator on [lo, hi) (LCG; deterministic tests). */
export function rng(seed: number): (lo?: number, hi?: number) => number {
  let s = seed >>> 0;
  return (lo = -1, hi = 1) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (hi - lo) * (s / 2 ** 32);
  };
}

/** n float32 values uniform on [lo, hi). */
export function randomF32(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r(lo, hi));
}

/** Whether the engine running the test has relaxed SIMD (the vitest config gives Node 20 the flag). */
export const RELAXED_AVAILABLE = WebAssembly.validate(
  new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11,
  ]),
);

export const BUILDS: KernelBuild[] = ['relaxed', 'simd128'];

/** Whether two float32 arrays hold the same bits (NaN included). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length),
    y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
