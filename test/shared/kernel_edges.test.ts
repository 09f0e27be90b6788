/**
 * Trying to break aevb's kernel gradient with extreme shapes: every width 1, widths that are no multiple of
 * a SIMD vector or of a register tile, an empty shard, shards at, just under and just over the chunk of
 * CHUNK_ROWS decoder rows, L larger than a chunk, deeper MLPs with a width-1 layer and every activation per
 * layer, both decoders (sigmoidMean on and off) and both estimators. Each case runs on both WASM builds
 * (forced, whatever this engine would pick) and on the float64 loops of the kernels' contract, and is held
 * against the tfjs gradient.
 *
 * Tolerance. Both sides compute in float32 from the same float32 θ, x and ε; they differ in summation order
 * and in FMA, so each product or sum carries a relative error of ~K·2⁻²⁴ ≈ 1e-7 for the K ≤ 300 terms here,
 * a few of them chained through the layers. 1e-5 relative per tensor (the bound the issue sets between the
 * two paths) leaves a decade of margin; a wrong row, a lost tail lane or a missing chunk is O(1).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import type { TrainConfig } from '../../src/shared/training/config.ts';
import type { buildLayout } from '../../src/shared/model/layout.ts';
import { CHUNK_ROWS, chunkPoints } from '../../src/shared/model/kernel_gradient.ts';
import { useBackend } from '../helpers/backend.ts';
import { edgeFixture, kernelGradient, tfjsGradient, WASM_BUILDS, type KernelsUnderTest } from '../helpers/kernel_engines.ts';

/** ‖a − b‖ ≤ tol ‖b‖ per tensor (a tensor whose reference is exactly 0 must be exactly 0). */
function expectClose(grad: Float32Array, ref: Float32Array, layout: ReturnType<typeof buildLayout>, tol: number, what: string) {
  for (const s of layout.specs) {
    let num = 0,
      den = 0;
    for (let i = s.offset; i < s.offset + s.size; i++) {
      num += (grad[i] - ref[i]) ** 2;
      den += ref[i] ** 2;
    }
    expect(Number.isFinite(num), `${what}: ${s.name} is finite`).toBe(true);
    expect(Math.sqrt(num), `${what}: ${s.name} (‖ref‖ = ${Math.sqrt(den)})`).toBeLessThanOrEqual(tol * Math.sqrt(den));
  }
}

const KERNELS: KernelsUnderTest[] = [...WASM_BUILDS, 'float64'];

/** tol: the relative bound per tensor, where this case's conditioning makes float32 worse than the default's (see there). */
interface Case {
  name: string;
  over: Partial<TrainConfig>;
  B: number;
  tol?: number;
  wasmOnly?: boolean;
}

const CASES: Case[] = [];
// Every width 1, one datapoint, one sample: both decoders and estimators.
for (const decoder of ['bernoulli', 'gaussian'] as const) {
  for (const estimator of ['A', 'B'] as const) {
    // With one encoder unit its tanh saturates on this θ: y = tanh(2.78) = 0.9924, and tanh'(a) = (1 − y)(1 + y) is
    // taken from the float32 y, whose rounding (2⁻²⁴) and the tanh's few-ulp error are 2⁻²⁴/(1 − y) ≈ 8e-6 each
    // relative to 1 − y = 0.0076: up to ~3e-5 on enc.W3 and enc.b3 between two float32 tanh's (measured: 1.2e-5
    // relaxed against tfjs, and 0.8e-5 against the float64 loops). 5e-5 for these; the others' 1e-5 is unchanged.
    CASES.push({
      name: `D = H = J = B = L = 1, ${decoder}, ${estimator}`,
      B: 1,
      tol: 5e-5,
      over: { inputSize: 1, hidden: 1, latent: 1, samples: 1, decoder, estimator, sigmoidMean: estimator === 'A' },
    });
  }
}
// Widths that are no multiple of 4 or of the tiles (6×8, 4×8, 2×4), in every role.
const ODD: Array<[number, number, number]> = [
  [2, 3, 5],
  [3, 5, 7],
  [5, 7, 9],
  [9, 13, 1],
  [13, 17, 2],
  [17, 33, 3],
  [33, 9, 13],
  [7, 2, 17],
  [1, 9, 33],
];
ODD.forEach(([D, H, J], n) => {
  const decoder = n % 2 ? 'gaussian' : 'bernoulli',
    estimator = n % 3 ? 'B' : 'A';
  const activation = (['tanh', 'relu', 'linear'] as const)[n % 3];
  CASES.push({
    name: `D ${D}, H ${H}, J ${J}, ${decoder}, ${estimator}, ${activation}, B ${n + 2}`,
    B: n + 2,
    over: { inputSize: D, hidden: H, latent: J, decoder, estimator, activation, samples: 1 + (n % 2), sigmoidMean: n % 4 === 1 },
  });
});
// Shards at, just under and just over the chunk (CHUNK_ROWS decoder rows = chunkPoints(L) datapoints of L samples).
for (const L of [1, 2, 3]) {
  const c = chunkPoints(L);
  for (const B of [c - 1, c, c + 1, 2 * c + 1]) {
    CASES.push({
      name: `L ${L}, B ${B} (chunks of ${c} points)`,
      B,
      over: { samples: L, estimator: L === 2 ? 'A' : 'B', decoder: L === 3 ? 'gaussian' : 'bernoulli' },
    });
  }
}
// L larger than a chunk: every chunk is one datapoint of L rows.
for (const [L, B] of [
  [CHUNK_ROWS + 1, 1],
  [CHUNK_ROWS + 1, 3],
  [300, 2],
]) {
  CASES.push({
    name: `L ${L} > ${CHUNK_ROWS}, B ${B}`,
    B,
    over: { samples: L, estimator: B === 3 ? 'A' : 'B', decoder: L === 300 ? 'gaussian' : 'bernoulli', sigmoidMean: false },
  });
}
// Deeper MLPs with a width-1 layer, and every activation in every position.
CASES.push({
  name: 'hidden [5, 1, 3], relu / tanh / linear',
  B: 6,
  over: { hidden: [5, 1, 3], activation: ['relu', 'tanh', 'linear'], samples: 2 },
});
CASES.push({
  name: 'hidden [1, 4], tanh / relu, Gaussian A',
  B: 5,
  over: { hidden: [1, 4], activation: ['tanh', 'relu'], decoder: 'gaussian', estimator: 'A' },
});
const PERMS = [
  ['tanh', 'relu', 'linear'],
  ['relu', 'linear', 'tanh'],
  ['linear', 'tanh', 'relu'],
] as const;
PERMS.forEach((activation, n) => {
  CASES.push({
    name: `hidden [6, 3, 9], ${activation.join(' / ')}`,
    B: 9,
    over: {
      hidden: [6, 3, 9],
      activation: [...activation],
      decoder: n === 1 ? 'gaussian' : 'bernoulli',
      estimator: n === 2 ? 'A' : 'B',
      samples: 3,
      sigmoidMean: n === 1,
    },
  });
});

// The paper's shapes (D 784, H 500, J 20: K of 784 and 500, the full tiles), one chunk and just over it (WASM
// builds only: the float64 loops would take seconds).
for (const B of [100, 129]) {
  CASES.push({
    name: `the paper's shapes, B ${B}`,
    B,
    wasmOnly: true,
    over: { inputSize: 784, hidden: 500, latent: 20, activation: B === 100 ? 'tanh' : 'relu' },
  });
}

describe("aevb's kernel gradient on extreme shapes, against the tfjs gradient", () => {
  beforeAll(() => useBackend('wasm'));

  for (const c of CASES) {
    it(c.name, () => {
      const { cfg, layout, params, shard } = edgeFixture(c.over, c.B);
      const ref = tfjsGradient(cfg, layout, params, shard);
      for (const k of c.wasmOnly ? WASM_BUILDS : KERNELS) {
        const { grad, v } = kernelGradient(k, cfg, layout, params, shard);
        expectClose(grad, ref.grad, layout, c.tol ?? 1e-5, k);
        // The value: float32 terms summed in float64 (kernels) or float32 (tfjs); 1e-5 of |ELBO| as above.
        expect(Math.abs(v.elbo - ref.v.elbo), `${k}: ELBO`).toBeLessThanOrEqual(1e-5 * Math.abs(ref.v.elbo));
        expect(Math.abs(v.kl - ref.v.kl), `${k}: KL`).toBeLessThanOrEqual(1e-5 * (Math.abs(ref.v.kl) + Math.abs(ref.v.recon)));
      }
    });
  }

  it('the gradient does not depend on whether the value is computed (same bits)', () => {
    for (const over of [
      { samples: 3, estimator: 'A' },
      { decoder: 'gaussian', hidden: [4, 1] },
    ] as Partial<TrainConfig>[]) {
      const { cfg, layout, params, shard } = edgeFixture(over, 50);
      for (const k of WASM_BUILDS) {
        const a = kernelGradient(k, cfg, layout, params, shard, true),
          b = kernelGradient(k, cfg, layout, params, shard, false);
        expect(Array.from(b.grad), k).toEqual(Array.from(a.grad));
        expect(b.v.elbo).toBeNaN();
      }
    }
  });
});

describe('an empty shard (B = 0)', () => {
  for (const k of KERNELS) {
    it(`${k}: the slot is all zeros (whatever it held) and the value 0`, () => {
      for (const over of [
        {},
        { decoder: 'gaussian', estimator: 'A', samples: 300 },
        { hidden: [3, 1], samples: 2 },
      ] as Partial<TrainConfig>[]) {
        const { cfg, layout, params, shard } = edgeFixture(over, 0);
        const { grad, v } = kernelGradient(k, cfg, layout, params, shard);
        expect(
          grad.every((g) => Object.is(g, 0)),
          JSON.stringify(over),
        ).toBe(true);
        expect(v).toEqual({ elbo: 0, recon: 0, kl: 0 });
      }
    });
  }
});
