/**
 * The update kernels (src/kernels/update.as.ts, WASM SIMD) against a float64 reference written from
 * the papers: over slices of odd lengths at odd offsets (so both the 4-lane body and the scalar tail
 * run), with 1 to 5 gradient slots, NaN and ±Inf in any slot, on shared and ordinary memories.
 */
import { describe, it, expect } from 'vitest';
import { OPTIMIZERS, OPTIMIZER_NAMES, OPTIMIZER_SLOTS, firstNonFinite, type OptimizerKind } from '../../src/shared/training/optimizers.ts';
import { allocatePoolMemory, type PoolMemory } from '../../src/shared/runtime/shared_memory.ts';
import { UpdateKernel, type KernelUpdate } from '../../src/kernels/update_kernel.ts';
import { KernelError } from '../../src/kernels/kernel_error.ts';

const P = 53;
/** Every rule of the registry: a rule added there without a reference below fails here. */
const KINDS: readonly OptimizerKind[] = OPTIMIZER_NAMES;
/** The kernel's call for a rule's t-th update (1-based): its name and its constants from the registry. */
const rule = (kind: OptimizerKind, t: number) => ({ rule: kind, args: OPTIMIZERS[kind].kernelArgs(t) });
const init = (i: number) => Math.sin(1.3 * i + 0.2) * 0.7;
/** Worker w's summed gradient at step t: a spread of magnitudes, some exact zeros. */
const grad = (t: number, w: number, i: number) => (i % 11 === 0 ? 0 : Math.cos(0.7 * i * (t + 1) + w) * (1 + ((i + w) % 5)) * 3);

/**
 * Float64 references, from the papers (the kernel's header says the same), with the registry's constants:
 *   g = s·Σ_w grads[w] + λθ, then per rule, for element i at update t (1-based), slots `st`:
 *   SGD:     θ ← θ − η g
 *   Adagrad: G ← G + g²; θ ← θ − η g / (√G + ε)                        (Duchi et al. 2011)
 *   Adam:    m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²;
 *            θ ← θ − η (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε)            (Kingma & Ba 2015, Alg. 1)
 *   RMSProp: v ← ρ v + (1−ρ) g²; θ ← θ − η g / (√v + ε)                 (torch.optim.RMSprop, no momentum)
 */
const REFERENCE: Record<OptimizerKind, (p: number, g: number, st: Float64Array[], i: number, lr: number, t: number) => number> = {
  sgd: (p, g, _st, _i, lr) => p - lr * g,
  adagrad: (p, g, [G], i, lr) => {
    const { eps } = OPTIMIZERS.adagrad.constants;
    G[i] += g * g;
    return p - (lr * g) / (Math.sqrt(G[i]) + eps);
  },
  adam: (p, g, [m, v], i, lr, t) => {
    const { beta1, beta2, eps } = OPTIMIZERS.adam.constants;
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    return p - (lr * (m[i] / (1 - beta1 ** t))) / (Math.sqrt(v[i] / (1 - beta2 ** t)) + eps);
  },
  rmsprop: (p, g, [v], i, lr) => {
    const { rho, eps } = OPTIMIZERS.rmsprop.constants;
    v[i] = rho * v[i] + (1 - rho) * g * g;
    return p - (lr * g) / (Math.sqrt(v[i]) + eps);
  },
};

function reference(kind: OptimizerKind, steps: number, nGrads: number, lr: number, s: number, wd: number): Float64Array {
  const p = Float64Array.from({ length: P }, (_, i) => init(i));
  const st = OPTIMIZER_SLOTS[kind].map(() => new Float64Array(P));
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < P; i++) {
      let sum = 0;
      for (let w = 0; w < nGrads; w++) sum += Math.fround(grad(t, w, i));
      const g = s * sum + wd * p[i];
      p[i] = REFERENCE[kind](p[i], g, st, i, lr, t);
    }
  }
  return p;
}

function memoryFor(kind: OptimizerKind, nGrads: number, shared: boolean): { mem: PoolMemory; kernel: UpdateKernel } {
  const mem = allocatePoolMemory(
    { workers: nGrads, paramCount: P, slotCount: OPTIMIZER_SLOTS[kind].length, mirrorSize: 0, maxSteps: 1, trainLength: 0, testLength: 0 },
    shared,
  );
  mem.state(0).params.set(Float32Array.from({ length: P }, (_, i) => init(i)));
  return { mem, kernel: new UpdateKernel(mem.buffers.memory) };
}

/** `steps` updates, alternating state copies as the pool does, each step over the given slices. */
function run(
  kind: OptimizerKind,
  steps: number,
  nGrads: number,
  lr: number,
  s: number,
  wd: number,
  slices: Array<[number, number]> = [[0, P]],
  shared = true,
) {
  const { mem, kernel } = memoryFor(kind, nGrads, shared);
  let cur = 0;
  for (let t = 1; t <= steps; t++) {
    for (let w = 0; w < nGrads; w++) for (let i = 0; i < P; i++) mem.grads[w][i] = grad(t, w, i);
    for (const [start, end] of slices) {
      const ok = kernel.update({
        ...rule(kind, t),
        from: mem.state(cur).ptr,
        to: mem.state(1 - cur).ptr,
        grads: mem.gradPtr,
        gradStride: mem.gradStride,
        gradCount: nGrads,
        scale: s,
        lr,
        weightDecay: wd,
        start,
        end,
      });
      expect(ok).toBe(true);
    }
    cur = 1 - cur;
  }
  return { params: mem.state(cur).params.slice(), slots: mem.state(cur).slots.map((x) => x.slice()) };
}

describe('update kernels against a float64 reference (5 steps)', () => {
  for (const kind of KINDS) {
    for (const nGrads of [1, 2, 3, 5]) {
      for (const [s, wd] of [
        [-1 / 20, 0],
        [-1 / 7, 0.01],
        [0.5, 0.3],
      ]) {
        it(`${kind}, ${nGrads} slot(s), scale ${s.toFixed(3)}, weight decay ${wd}`, () => {
          const lr = 0.05;
          const ref = reference(kind, 5, nGrads, lr, s, wd);
          // Odd slices at odd offsets, as a pool of 3 would split 53 parameters.
          const { params } = run(kind, 5, nGrads, lr, s, wd, [
            [0, 18],
            [18, 36],
            [36, P],
          ]);
          // θ, G, m and v are float32 throughout (rounding 6e-8 relative per operation); over 5 steps
          // that stays below 2e-6 of the O(1) values. A wrong rule (a missing bias correction, a
          // missing λθ, the wrong sign, a slot not summed) moves θ by ≳ 1e-3.
          for (let i = 0; i < P; i++) {
            expect(Math.abs(params[i] - ref[i]), `θ[${i}]: ${params[i]} vs ${ref[i]}`).toBeLessThan(2e-6 * (1 + Math.abs(ref[i])));
          }
          const moved = Math.max(...Array.from(params, (v, i) => Math.abs(v - init(i))));
          expect(moved).toBeGreaterThan(1e-2); // not vacuous
        });
      }
    }
  }

  it('known answers for one step', () => {
    const one = (kind: OptimizerKind, p0: number, g: number, s: number, wd: number, lr: number) => {
      const { mem, kernel } = memoryFor(kind, 1, true);
      mem.state(0).params[0] = p0;
      mem.grads[0][0] = g;
      kernel.update({
        ...rule(kind, 1),
        from: mem.state(0).ptr,
        to: mem.state(1).ptr,
        grads: mem.gradPtr,
        gradStride: mem.gradStride,
        gradCount: 1,
        scale: s,
        lr,
        weightDecay: wd,
        start: 0,
        end: 1,
      });
      return mem.state(1).params[0];
    };
    // float32 throughout: a few ulps (1e-7 each near 1) from the exact answers.
    // g_eff = −0.5·2 + 0.1·1 = −0.9
    expect(one('sgd', 1, 2, -0.5, 0.1, 0.1)).toBeCloseTo(1.09, 6);
    // Adagrad's and Adam's first steps are ±η (up to ε): g/√(g²) and m̂/√v̂ are both sign(g).
    expect(one('adagrad', 1, 2, -0.5, 0.1, 0.1)).toBeCloseTo(1.1, 6);
    expect(one('adam', 1, 2, -0.5, 0.1, 0.1)).toBeCloseTo(1.1, 5);
    expect(one('adam', 1, -2, -0.5, 0, 0.01)).toBeCloseTo(0.99, 5);
    // RMSProp's first step: v = (1−ρ) g², so g/√v = sign(g)/√(1−ρ) = ±10 at ρ = 0.99: θ moves 10η.
    expect(one('rmsprop', 1, 2, -0.5, 0.1, 0.1)).toBeCloseTo(2, 5);
    expect(one('rmsprop', 1, -2, -0.5, 0, 0.01)).toBeCloseTo(0.9, 5);
  });
});

describe('the registry and the kernel agree', () => {
  const call = (mem: PoolMemory, over: Partial<KernelUpdate>): KernelUpdate => ({
    rule: 'adam',
    from: mem.state(0).ptr,
    to: mem.state(1).ptr,
    grads: mem.gradPtr,
    gradStride: mem.gradStride,
    gradCount: 1,
    scale: -1,
    lr: 0.1,
    weightDecay: 0,
    args: OPTIMIZERS.adam.kernelArgs(1),
    start: 0,
    end: P,
    ...over,
  });

  for (const shared of [true, false]) {
    it(`every rule has its function, of the arity its slots and constants make, in the ${shared ? 'shared' : 'ordinary'}-memory build`, () => {
      for (const kind of KINDS) {
        const { mem, kernel } = memoryFor(kind, 1, shared);
        mem.grads[0].fill(0.5);
        expect(kernel.update(call(mem, rule(kind, 1))), kind).toBe(true);
        expect(mem.state(1).params[0]).not.toBe(mem.state(0).params[0]);
      }
    });
  }

  it('a rule the kernel does not have, or a call whose slots or constants do not fit its function, is a KernelError', () => {
    const { mem, kernel } = memoryFor('adam', 1, true);
    expect(() => kernel.update(call(mem, { rule: 'nadam' }))).toThrow(KernelError);
    expect(() => kernel.update(call(mem, { rule: 'transpose' }))).toThrow(/has no rule "transpose"/);
    expect(() => kernel.update(call(mem, { args: [0.9, 0.999] }))).toThrow(
      /adam takes 18 arguments; this call has 2 state slots and 2 constants \(15\)/,
    );
    expect(() => kernel.update(call(mem, { rule: 'adagrad' }))).toThrow(/kernelArgs in src\/shared\/training\/optimizers\.ts/);
  });
});

describe('slices: what the pool relies on', () => {
  for (const kind of KINDS) {
    it(`${kind}: any split of [0, n) gives the bits of one call, on shared and ordinary memory alike`, () => {
      const whole = run(kind, 4, 3, 0.03, -0.1, 0.02);
      for (const splits of [
        [
          [0, 1],
          [1, P],
        ],
        [
          [0, 13],
          [13, 14],
          [14, 50],
          [50, P],
        ],
        [
          [7, P],
          [0, 7],
        ],
      ] as Array<Array<[number, number]>>) {
        const parts = run(kind, 4, 3, 0.03, -0.1, 0.02, splits);
        expect(Array.from(parts.params)).toEqual(Array.from(whole.params));
        parts.slots.forEach((sl, j) => expect(Array.from(sl)).toEqual(Array.from(whole.slots[j])));
      }
      const unshared = run(kind, 4, 3, 0.03, -0.1, 0.02, [[0, P]], false);
      expect(Array.from(unshared.params)).toEqual(Array.from(whole.params));
    });

    it(`${kind}: writes only [start, end) of the output copy and never the input copy`, () => {
      const { mem, kernel } = memoryFor(kind, 2, true);
      mem.grads[0].fill(1);
      mem.grads[1].fill(2);
      mem.state(1).params.fill(-9);
      const before = mem.state(0).params.slice();
      kernel.update({
        ...rule(kind, 1),
        from: mem.state(0).ptr,
        to: mem.state(1).ptr,
        grads: mem.gradPtr,
        gradStride: mem.gradStride,
        gradCount: 2,
        scale: -1,
        lr: 0.1,
        weightDecay: 0.1,
        start: 9,
        end: 22,
      });
      expect(Array.from(mem.state(0).params)).toEqual(Array.from(before));
      for (let i = 0; i < P; i++) {
        if (i >= 9 && i < 22) expect(mem.state(1).params[i]).not.toBe(-9);
        else expect(mem.state(1).params[i]).toBe(-9);
      }
    });
  }
});

describe('finiteness: a NaN or ±Inf anywhere in the summed slots fails the slice', () => {
  for (const kind of KINDS) {
    it(`${kind}: every position of every slot, in the lanes and in the tail`, () => {
      const { mem, kernel } = memoryFor(kind, 3, true);
      const upd = (start: number, end: number) =>
        kernel.update({
          ...rule(kind, 1),
          from: mem.state(0).ptr,
          to: mem.state(1).ptr,
          grads: mem.gradPtr,
          gradStride: mem.gradStride,
          gradCount: 3,
          scale: -0.01,
          lr: 0.01,
          weightDecay: 0,
          start,
          end,
        });
      const [lo, hi] = [5, 46]; // 41 elements: 10 four-lane blocks and a tail of 1
      expect(upd(lo, hi)).toBe(true);
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (let w = 0; w < 3; w++) {
          for (const i of [lo, lo + 1, lo + 2, lo + 3, 20, hi - 2, hi - 1]) {
            mem.grads[w][i] = bad;
            expect(upd(lo, hi), `${bad} in slot ${w} at ${i}`).toBe(false);
            expect(upd(hi, P)).toBe(true); // outside the slice: not seen
            mem.grads[w][i] = 0;
          }
        }
      }
    });
  }

  it('an update that overflows float32 fails the slice even with a finite gradient', () => {
    const { mem, kernel } = memoryFor('sgd', 1, true);
    mem.grads[0].fill(3e38);
    expect(
      kernel.update({
        ...rule('sgd', 1),
        from: mem.state(0).ptr,
        to: mem.state(1).ptr,
        grads: mem.gradPtr,
        gradStride: mem.gradStride,
        gradCount: 1,
        scale: -1,
        lr: 10,
        weightDecay: 0,
        start: 0,
        end: P,
      }),
    ).toBe(false);
    expect(firstNonFinite(mem.grads[0])).toBe(-1);
  });
});

describe('transpose: the mirror of a weight, written slice by slice', () => {
  it('any slice of any [rows, cols] matrix lands where the transpose puts it, and nowhere else', () => {
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const kernel = new UpdateKernel(mem);
    const SRC = 64,
      DST = 64 + 4 * 4096;
    for (const [rows, cols] of [
      [7, 5],
      [8, 12],
      [13, 4],
      [1, 9],
      [9, 1],
      [16, 16],
      [21, 33],
    ]) {
      const n = rows * cols;
      const src = new Float32Array(mem.buffer, SRC, n);
      const dst = new Float32Array(mem.buffer, DST, n + 8);
      for (let i = 0; i < n; i++) src[i] = i + 1;
      // Cut [0, n) into pieces at a few points (odd offsets, inside rows, at row ends), each in its own call.
      for (const cuts of [[], [1], [cols], [cols - 1, 3 * cols + 2], [5, 6, 7, n - 1], Array.from({ length: n }, (_, i) => i)]) {
        dst.fill(-1);
        const points = [0, ...cuts.filter((c) => c > 0 && c < n), n];
        for (let k = 0; k + 1 < points.length; k++) kernel.transpose(SRC, rows, cols, DST, points[k], points[k + 1]);
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < cols; c++)
            expect(dst[c * rows + r], `${rows}×${cols} cuts ${cuts.length}: (${r}, ${c})`).toBe(src[r * cols + c]);
        }
        for (let i = n; i < n + 8; i++) expect(dst[i]).toBe(-1); // nothing past the end
      }
      // A slice writes only its own elements' transposes.
      dst.fill(-1);
      const [i0, i1] = [Math.min(3, n - 1), Math.min(n, 3 + 2 * cols + 1)];
      kernel.transpose(SRC, rows, cols, DST, i0, i1);
      for (let i = 0; i < n; i++) {
        const r = Math.floor(i / cols),
          c = i % cols;
        expect(dst[c * rows + r]).toBe(i >= i0 && i < i1 ? src[i] : -1);
      }
    }
  });
});
