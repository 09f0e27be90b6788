/**
 * The update rules (optimizers.ts) against a float64 reference written from their papers, the
 * slice property the pool relies on, and the non-finite scan. Pure JS: no backend.
 */
import { describe, it, expect } from 'vitest';
import {
  ADAGRAD_EPS, ADAM_BETA1, ADAM_BETA2, ADAM_EPS, OPTIMIZER_SLOTS, applyUpdate, createSlots, firstNonFinite,
} from '../../src/shared/optimizers.ts';
import type { OptimizerKind } from '../../src/shared/config.ts';

const N = 37;
const init = (i: number) => Math.sin(1.3 * i + 0.2) * 0.7;
/** A different summed gradient each step, with a spread of magnitudes (and some exact zeros). */
const grad = (t: number, i: number) => (i % 11 === 0 ? 0 : Math.cos(0.7 * i * (t + 1)) * (1 + (i % 5)) * 3);

/**
 * Float64 reference, from the papers:
 *   g = s·Σ∇ + λθ
 *   SGD:     θ ← θ − η g
 *   Adagrad: G ← G + g²; θ ← θ − η g / (√G + ε)                        (Duchi et al. 2011)
 *   Adam:    m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²;
 *            θ ← θ − η (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε)            (Kingma & Ba 2015, Alg. 1)
 */
function reference(kind: OptimizerKind, steps: number, lr: number, s: number, wd: number): Float64Array {
  const p = Float64Array.from({ length: N }, (_, i) => init(i));
  const a = new Float64Array(N), b = new Float64Array(N);
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < N; i++) {
      const g = s * grad(t, i) + wd * p[i];
      if (kind === 'sgd') p[i] -= lr * g;
      else if (kind === 'adagrad') { a[i] += g * g; p[i] -= (lr * g) / (Math.sqrt(a[i]) + ADAGRAD_EPS); }
      else {
        a[i] = ADAM_BETA1 * a[i] + (1 - ADAM_BETA1) * g;
        b[i] = ADAM_BETA2 * b[i] + (1 - ADAM_BETA2) * g * g;
        const mHat = a[i] / (1 - ADAM_BETA1 ** t), vHat = b[i] / (1 - ADAM_BETA2 ** t);
        p[i] -= (lr * mHat) / (Math.sqrt(vHat) + ADAM_EPS);
      }
    }
  }
  return p;
}

function runSteps(kind: OptimizerKind, steps: number, lr: number, s: number, wd: number,
  split?: number): { params: Float32Array; slots: Float32Array[] } {
  const params = Float32Array.from({ length: N }, (_, i) => init(i));
  const slots = createSlots(kind, N);
  const g = new Float32Array(N);
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < N; i++) g[i] = grad(t, i);
    const common = { kind, params, gradSum: g, slots, gradScale: s, lr, weightDecay: wd, t };
    if (split === undefined) applyUpdate({ ...common, start: 0, end: N });
    else { applyUpdate({ ...common, start: split, end: N }); applyUpdate({ ...common, start: 0, end: split }); }
  }
  return { params, slots };
}

const KINDS: OptimizerKind[] = ['sgd', 'adagrad', 'adam'];

describe('applyUpdate against a float64 reference (5 steps)', () => {
  for (const kind of KINDS) {
    for (const [s, wd] of [[-1 / 20, 0], [-1 / 7, 0.01], [0.5, 0.3]]) {
      it(`${kind}, gradScale ${s.toFixed(3)}, weightDecay ${wd}`, () => {
        const lr = 0.05;
        const ref = reference(kind, 5, lr, s, wd);
        const { params } = runSteps(kind, 5, lr, s, wd);
        // θ, G, m and v are stored in float32 between steps (relative rounding 6e-8 per store);
        // over 5 steps that is < 1e-6 of the O(1) values. A wrong rule (a missing bias
        // correction, a missing λθ, the wrong sign) moves θ by ≳ 1e-3.
        for (let i = 0; i < N; i++) {
          expect(Math.abs(params[i] - ref[i]), `θ[${i}]: ${params[i]} vs ${ref[i]}`).toBeLessThan(1e-6 * (1 + Math.abs(ref[i])));
        }
        // Not vacuous: θ moved far more than the tolerance.
        const moved = Math.max(...Array.from(params, (v, i) => Math.abs(v - init(i))));
        expect(moved).toBeGreaterThan(1e-2);
      });
    }
  }

  it('known answers for one step', () => {
    const one = (kind: OptimizerKind, p0: number, g: number, s: number, wd: number, lr: number) => {
      const params = new Float32Array([p0]);
      applyUpdate({ kind, params, gradSum: new Float32Array([g]), slots: createSlots(kind, 1), gradScale: s, lr, weightDecay: wd, t: 1, start: 0, end: 1 });
      return params[0];
    };
    // g_eff = −0.5·2 + 0.1·1 = −0.9
    expect(one('sgd', 1, 2, -0.5, 0.1, 0.1)).toBeCloseTo(1.09, 6);
    // Adagrad's and Adam's first steps are ±η (up to ε): g/√(g²) and m̂/√v̂ are both sign(g).
    expect(one('adagrad', 1, 2, -0.5, 0.1, 0.1)).toBeCloseTo(1.1, 6);
    expect(one('adam', 1, 2, -0.5, 0.1, 0.1)).toBeCloseTo(1.1, 6);
    expect(one('adam', 1, -2, -0.5, 0, 0.01)).toBeCloseTo(0.99, 6);
  });

  it('slots: one per rule, as long as θ, zero at the start, updated in place', () => {
    for (const kind of KINDS) {
      const slots = createSlots(kind, 5);
      expect(slots.length).toBe(OPTIMIZER_SLOTS[kind].length);
      for (const sl of slots) { expect(sl.length).toBe(5); expect(Array.from(sl)).toEqual([0, 0, 0, 0, 0]); }
    }
    const { slots } = runSteps('adam', 2, 0.1, -0.1, 0);
    expect(slots[1].some((v) => v > 0)).toBe(true); // v = Σ (1−β2) g² > 0 where g ≠ 0
  });
});

describe('updating slices (the pool gives each worker one)', () => {
  for (const kind of KINDS) {
    it(`${kind}: [0, n) in one call equals [k, n) then [0, k), bit for bit`, () => {
      for (const k of [0, 1, 13, N - 1, N]) {
        const whole = runSteps(kind, 5, 0.03, -0.1, 0.02);
        const parts = runSteps(kind, 5, 0.03, -0.1, 0.02, k);
        for (let i = 0; i < N; i++) expect(parts.params[i], `k=${k}, θ[${i}]`).toBe(whole.params[i]);
        whole.slots.forEach((sl, j) => { for (let i = 0; i < N; i++) expect(parts.slots[j][i]).toBe(sl[i]); });
      }
    });

    it(`${kind}: leaves everything outside [start, end) untouched`, () => {
      const params = Float32Array.from({ length: N }, (_, i) => init(i));
      const before = params.slice();
      const slots = createSlots(kind, N);
      applyUpdate({ kind, params, gradSum: new Float32Array(N).fill(1), slots, gradScale: -1, lr: 0.1, weightDecay: 0.1, t: 1, start: 10, end: 20 });
      for (let i = 0; i < N; i++) {
        if (i >= 10 && i < 20) expect(params[i]).not.toBe(before[i]);
        else { expect(params[i]).toBe(before[i]); for (const sl of slots) expect(sl[i]).toBe(0); }
      }
    });
  }
});

describe('firstNonFinite', () => {
  it('finds the first NaN or ±Inf, or returns −1', () => {
    const a = new Float32Array(10);
    expect(firstNonFinite(a)).toBe(-1);
    a[3] = 3.4e38; a[4] = -3.4e38; a[5] = 1e-45; // the extremes of float32 are finite
    expect(firstNonFinite(a)).toBe(-1);
    a[7] = NaN;
    expect(firstNonFinite(a)).toBe(7);
    a[6] = -Infinity;
    expect(firstNonFinite(a)).toBe(6);
    a[2] = Infinity;
    expect(firstNonFinite(a)).toBe(2);
  });
  it('scans only [start, end)', () => {
    const a = new Float32Array(10);
    a[1] = NaN; a[8] = Infinity;
    expect(firstNonFinite(a, 2, 8)).toBe(-1);
    expect(firstNonFinite(a, 2)).toBe(8);
    expect(firstNonFinite(a, 0, 1)).toBe(-1);
    expect(firstNonFinite(a, 1, 2)).toBe(1);
  });
});

describe('sumGradientSlots: the pool reduction', () => {
  it('equals a float64 reference for 1 to 6 slots over a slice, and reports non-finite sums', async () => {
    const { sumGradientSlots } = await import('../../src/shared/optimizers.ts');
    for (let n = 1; n <= 6; n++) {
      const slots = Array.from({ length: n }, (_, w) => Float32Array.from({ length: 50 }, (_, i) => Math.sin(i * 0.7 + w) * 3));
      const out = new Float32Array(50).fill(-7);
      expect(sumGradientSlots(slots, out, 10, 40)).toBe(true);
      for (let i = 0; i < 50; i++) {
        let ref = 0;
        for (let w = 0; w < n; w++) ref += slots[w][i];
        expect(out[i]).toBe(i >= 10 && i < 40 ? Math.fround(ref) : -7); // outside the slice: untouched
      }
      slots[n - 1][20] = Number.POSITIVE_INFINITY;
      expect(sumGradientSlots(slots, new Float32Array(50), 10, 40)).toBe(false);
      expect(sumGradientSlots(slots, new Float32Array(50), 21, 40)).toBe(true); // the Inf is outside this slice
    }
  });
});
