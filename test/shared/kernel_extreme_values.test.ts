/**
 * Trying to break aevb's kernel gradient with extreme values, both WASM builds (forced) against the tfjs
 * gradient and the float64 loops of the kernels' contract: Bernoulli logits of ±50 and ±100 (σ(ℓ) is 1 or a
 * subnormal; the head must stay finite and its gradient x − σ(ℓ) right), Gaussian means σ(raw) at raw = ±50
 * and ±100, log-variances of ±30 in the decoder's Gaussian head and in the encoder (σ = e^±15), tiny,
 * subnormal and huge pixels for the Gaussian decoder. And non-finite input: a NaN in θ or a NaN or ±Inf in x
 * must show up as a non-finite gradient (so the step is refused); ±Inf in θ may give the finite limit
 * (relu(−∞) = 0 passes 0 back), which must then be finite exactly where tfjs's is and equal to it, and the
 * step must be refused all the same (the update checks the new θ).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import type { TrainConfig } from '../../src/shared/training/config.ts';
import type { ParamLayout } from '../../src/shared/model/layout.ts';
import type { Dataset } from '../../src/shared/data/dataset.ts';
import { initialState } from '../../src/shared/training/training_state.ts';
import { LocalTrainer } from '../../src/main/local_trainer.ts';
import { useBackend } from '../helpers/backend.ts';
import { allFinite, edgeFixture, kernelGradient, tfjsGradient, WASM_BUILDS, type KernelsUnderTest } from '../helpers/kernel_engines.ts';

/** Sets entry i of tensor `name` to f(i). */
function setTensor(layout: ParamLayout, params: Float32Array, name: string, f: (i: number) => number): void {
  const s = layout.byName(name);
  for (let i = 0; i < s.size; i++) params[s.offset + i] = f(i);
}

/** ‖a − b‖ ≤ tol ‖b‖ for every tensor, every entry finite. */
function expectClose(grad: Float32Array, ref: Float32Array, layout: ParamLayout, tol: number, what: string): void {
  expect(allFinite(grad), `${what}: finite`).toBe(true);
  for (const s of layout.specs) {
    let num = 0,
      den = 0;
    for (let i = s.offset; i < s.offset + s.size; i++) {
      num += (grad[i] - ref[i]) ** 2;
      den += ref[i] ** 2;
    }
    expect(Math.sqrt(num), `${what}: ${s.name} (‖ref‖ = ${Math.sqrt(den)})`).toBeLessThanOrEqual(tol * Math.sqrt(den));
  }
}

const KERNELS: KernelsUnderTest[] = [...WASM_BUILDS, 'float64'];

/** float64: hold the WASM builds against the float64 loops only, where tfjs's float32 formula is the inaccurate one (said there). */
interface ValueCase {
  name: string;
  over: Partial<TrainConfig>;
  edit: (layout: ParamLayout, p: Float32Array, x: Float32Array) => void;
  float64?: boolean;
}

const VALUE_CASES: ValueCase[] = [
  {
    // W2 scaled down so that ℓ ≈ b2: logits of ±50 and ±100 on alternating pixels.
    name: 'Bernoulli logits of ±50 and ±100',
    over: { inputSize: 9, samples: 2 },
    edit: (layout, p) => {
      setTensor(layout, p, 'dec.W2', (i) => p[layout.byName('dec.W2').offset + i] * 1e-3);
      setTensor(layout, p, 'dec.b2', (i) => [50, -50, 100, -100][i % 4]);
    },
  },
  {
    name: 'Gaussian decoder log-variances of +30 and −30',
    over: { decoder: 'gaussian', inputSize: 9, estimator: 'A' },
    edit: (layout, p) => {
      setTensor(layout, p, 'dec.W5', (i) => p[layout.byName('dec.W5').offset + i] * 1e-3);
      setTensor(layout, p, 'dec.b5', (i) => (i % 2 ? 30 : -30));
    },
  },
  {
    // σ(raw) is 1 or a subnormal; σ'(raw) = e/(1 + e)², e = e^−|raw|, is ~e^−50 or ~e^−100 on both sides. tfjs
    // takes σ(1 − σ), which is exactly 0 at +50 (σ rounds to 1), so dec.W4's gradient, ~1e-21, is off by O(1)
    // there; the reference is the float64 loops, which take e/(1 + e)² too.
    name: 'Gaussian decoder with sigmoidMean, raw means of ±50 and ±100',
    over: { decoder: 'gaussian', sigmoidMean: true, inputSize: 9 },
    float64: true,
    edit: (layout, p) => {
      setTensor(layout, p, 'dec.W4', (i) => p[layout.byName('dec.W4').offset + i] * 1e-3);
      setTensor(layout, p, 'dec.b4', (i) => [50, -50, 100, -100][i % 4]);
    },
  },
  ...(['A', 'B'] as const).flatMap((estimator): ValueCase[] =>
    [30, -30].map((lv) => ({
      // σ = e^{lv/2}: z of ~3e6 (tanh saturates, relu passes it on) or of ~3e-7 (z ≈ μ).
      name: `encoder log σ² of ${lv}, estimator ${estimator}`,
      over: { estimator, hidden: [5, 4], activation: ['tanh', 'relu'], samples: 2 },
      edit: (layout, p) => {
        setTensor(layout, p, 'enc.W5', (i) => p[layout.byName('enc.W5').offset + i] * 1e-3);
        setTensor(layout, p, 'enc.b5', () => lv);
      },
    })),
  ),
  ...(
    [
      [1e-30, 'tiny'],
      [1e-41, 'subnormal'],
      [1e6, 'huge'],
    ] as const
  ).flatMap(([v, what]): ValueCase[] =>
    [true, false].map((sigmoidMean) => ({
      name: `${what} pixels (${v}) for the Gaussian decoder, sigmoidMean ${sigmoidMean}`,
      over: { decoder: 'gaussian', sigmoidMean, activation: 'tanh' },
      edit: (_layout, _p, x) => {
        for (let i = 0; i < x.length; i += 2) x[i] = v;
      },
    })),
  ),
];

describe("aevb's kernel gradient on extreme values, against the tfjs gradient and the float64 loops", () => {
  beforeAll(() => useBackend('wasm'));

  for (const c of VALUE_CASES) {
    it(c.name, () => {
      const { cfg, layout, params, shard } = edgeFixture(c.over, 11);
      c.edit(layout, params, shard.xRows);
      const tfjs = tfjsGradient(cfg, layout, params, shard);
      expect(allFinite(tfjs.grad) && Number.isFinite(tfjs.v.elbo), 'the tfjs reference is finite').toBe(true);
      const ref = c.float64 ? kernelGradient('float64', cfg, layout, params, shard) : tfjs;
      for (const k of c.float64 ? WASM_BUILDS : KERNELS) {
        const { grad, v } = kernelGradient(k, cfg, layout, params, shard);
        // 1e-5 relative per tensor, as for ordinary values (kernel_edges.test.ts): nothing here cancels, the
        // magnitudes (up to ~1e13) are far inside float32's range, so rounding stays ~1e-7 relative.
        expectClose(grad, ref.grad, layout, 1e-5, k);
        expect(Number.isFinite(v.elbo), `${k}: the ELBO is finite`).toBe(true);
        expect(Math.abs(v.elbo - ref.v.elbo), `${k}: ELBO`).toBeLessThanOrEqual(1e-5 * Math.abs(ref.v.elbo));
      }
    });
  }
});

/** Each non-finite value put into θ (one tensor at a time) or x, for a model with every activation. */
const MODELS: Array<Partial<TrainConfig>> = [
  { hidden: [5, 3, 4], activation: ['relu', 'tanh', 'linear'], samples: 2 },
  { hidden: [4, 3], activation: ['tanh', 'relu'], decoder: 'gaussian', estimator: 'A', sigmoidMean: true },
  { hidden: 6, activation: 'relu', decoder: 'gaussian', estimator: 'B', sigmoidMean: false },
];

describe('a NaN in θ or a NaN or ±Inf in x gives a non-finite gradient, never a finite one', () => {
  for (const k of WASM_BUILDS) {
    for (const over of MODELS) {
      it(`${k}: ${JSON.stringify(over)}`, () => {
        const { cfg, layout, params, shard } = edgeFixture(over, 9);
        for (const s of layout.specs) {
          for (const at of [0, s.size - 1]) {
            const p = params.slice();
            p[s.offset + at] = NaN;
            const { grad, v } = kernelGradient(k, cfg, layout, p, shard);
            expect(allFinite(grad), `NaN in ${s.name}[${at}]`).toBe(false);
            expect(v.elbo, `NaN in ${s.name}[${at}]: the ELBO`).toBeNaN();
          }
        }
        for (const bad of [NaN, Infinity, -Infinity]) {
          for (const at of [0, 3 * cfg.inputSize + 2, shard.xRows.length - 1]) {
            const x = shard.xRows.slice();
            shard.xRows[at] = bad;
            const { grad } = kernelGradient(k, cfg, layout, params, shard);
            shard.xRows.set(x);
            expect(allFinite(grad), `${bad} in x[${at}]`).toBe(false);
          }
        }
      });
    }
  }
});

describe('±Inf in θ: a finite gradient only where it is the limit tfjs gives too', () => {
  beforeAll(() => useBackend('wasm'));
  // A saturated unit (relu(−∞) = 0, tanh(±∞) = ±1, σ(±∞) ∈ {0, 1}) passes a finite value on and a zero or finite
  // derivative back: the gradient is then the finite limit, the same in both. Where it is finite it must be that
  // limit (1e-5 per tensor, as for finite θ); the step is refused by the update's check of the new θ (below).
  for (const k of WASM_BUILDS) {
    it(`${k}: finite exactly where tfjs's is, and then equal to it`, () => {
      for (const over of MODELS) {
        const { cfg, layout, params, shard } = edgeFixture(over, 9);
        for (const s of layout.specs) {
          for (const bad of [Infinity, -Infinity]) {
            const p = params.slice();
            p[s.offset + (s.size >> 1)] = bad;
            const ours = kernelGradient(k, cfg, layout, p, shard),
              ref = tfjsGradient(cfg, layout, p, shard);
            expect(allFinite(ours.grad), `${bad} in ${s.name}: finite as tfjs's`).toBe(allFinite(ref.grad));
            if (allFinite(ref.grad)) expectClose(ours.grad, ref.grad, layout, 1e-5, `${bad} in ${s.name}`);
          }
        }
      }
    });
  }
});

describe('±Inf in θ: the step is refused and the model unchanged', () => {
  const data = (n: number, D: number): Dataset => ({
    name: 'inf',
    n,
    d: D,
    x: new Float32Array(n * D).map((_, i) => ((i * 31) % 17) / 16),
  });
  for (const k of WASM_BUILDS) {
    it(`${k}: every tensor, +Inf and −Inf, with and without the value`, () => {
      for (const over of MODELS) {
        const { cfg: base } = edgeFixture(over, 1);
        const cfg = { ...base, batch: 5, optimizer: 'adam' as const };
        const start = initialState(cfg);
        for (const s of new LocalTrainer(cfg, { train: data(12, cfg.inputSize), test: data(4, cfg.inputSize) }).layout.specs) {
          for (const bad of [Infinity, -Infinity]) {
            const params = start.params.slice();
            params[s.offset + (s.size >> 1)] = bad;
            const lt = new LocalTrainer(
              cfg,
              { train: data(12, cfg.inputSize), test: data(4, cfg.inputSize) },
              { ...start, params },
              undefined,
              'aevb',
              k,
            );
            for (const withValue of [false, true]) {
              const r = lt.step(withValue);
              expect(r.ok, `${bad} in ${s.name}, withValue ${withValue}`).toBe(false);
              expect(r.error?.code).toBe('NUMERIC');
            }
            expect(Array.from(lt.state.params)).toEqual(Array.from(params));
            lt.dispose();
          }
        }
      }
    });
  }
});
