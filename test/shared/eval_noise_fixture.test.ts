/**
 * The fixture that keeps examples/pytorch's evaluation noise equal to aevb's
 * (examples/pytorch/eval_noise_fixture.json; its Python side is examples/pytorch/test_eval_noise.py).
 *
 * The file holds what aevb draws and computes now: the ε of its ELBO evaluation for a few
 * (seed, set, draw = step, S, datapoints) and a tiny model's evaluated ELBO (evaluateElbo, the
 * production path: S draws per datapoint, the set's stream, keyed by the step). This test recomputes
 * both and fails when aevb's draws change without the fixture; rewrite it then with
 *     UPDATE_FIXTURE=1 npx vitest run test/shared/eval_noise_fixture.test.ts
 * and port the change to examples/pytorch/aevb_model.py (its unittest reads the same file).
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/shared/training/config.ts';
import type { Dataset } from '../../src/shared/data/dataset.ts';
import { evaluateElbo, noiseWord, type EvalSplit } from '../../src/shared/model/evaluate.ts';
import { buildLayout, view } from '../../src/shared/model/layout.ts';
import { torchNames } from '../../src/shared/formats/pytorch_state.ts';
import { CounterRng, Stream } from '../../src/shared/training/rng.ts';
import { ROOT } from '../helpers/cli.ts';
import { useBackend } from '../helpers/backend.ts';

const FIXTURE = path.join(ROOT, 'examples/pytorch/eval_noise_fixture.json');

/** (seed, set, draw, S, first datapoint, count, J): J = 5 is not a multiple of 4 (a block's tail). */
const NOISE_CASES: Array<[number, EvalSplit, number, number, number, number, number]> = [
  [1, 'test', 0, 1, 0, 3, 5],
  [1, 'train', 0, 1, 0, 3, 5],
  [7, 'test', 180, 2, 3, 4, 5],
  [4294967295, 'train', 2 ** 30 + 5, 3, 997, 2, 8],
];

/** ε [S][count][J] as evaluate.ts draws it: EVAL stream, counter (noiseWord(ELBO, set, draw), datapoint, sample, block). */
function epsilon(seed: number, split: EvalSplit, draw: number, S: number, start: number, count: number, J: number): number[][][] {
  const rng = new CounterRng(seed, Stream.EVAL),
    c0 = noiseWord(0, { seed, split, draw }),
    col = new Float32Array(J);
  return Array.from({ length: S }, (_, s) =>
    Array.from({ length: count }, (_, i) => {
      rng.normals(c0, start + i, s, col, 0, J);
      return Array.from(col);
    }),
  );
}

/** A tiny model with spread-out weights (not the N(0, 0.01²) init, under which every ε looks alike). */
function tinyModel() {
  const config = resolveConfig({ inputSize: 6, hidden: 5, latent: 3, activation: 'tanh', seed: 11, evalElboSamples: 3 });
  const layout = buildLayout(config);
  const params = new Float32Array(layout.size),
    u = new Float64Array(layout.size);
  new CounterRng(99, Stream.INIT).uniforms(0, 0, 0, u, 0, layout.size);
  for (let i = 0; i < params.length; i++) params[i] = 2 * u[i] - 1;
  const x = new Float32Array(7 * 6),
    v = new Float64Array(x.length);
  new CounterRng(98, Stream.INIT).uniforms(0, 0, 0, v, 0, x.length);
  for (let i = 0; i < x.length; i++) x[i] = Math.fround(v[i]);
  const data: Dataset = { name: 'fixture', n: 7, d: 6, x };
  const names = torchNames(config);
  const tensors = Object.fromEntries(layout.specs.map((s) => [names[s.name], { shape: s.shape, data: Array.from(view(params, s)) }]));
  return { config, params, data, tensors };
}

function buildFixture() {
  const m = tinyModel();
  const evaluations = (
    [
      ['test', 0, 1],
      ['test', 0, 3],
      ['train', 0, 3],
      ['test', 123, 2],
      ['train', 123, 2],
    ] as const
  ).map(([split, draw, S]) => {
    const e = evaluateElbo(m.config, m.params, m.data, m.config.seed, { split, draw, samples: S });
    return { split, draw, samples: S, elbo: e.elbo, recon: e.recon, kl: e.kl, se: e.se };
  });
  return {
    about:
      "aevb's evaluation noise and a tiny model's evaluated ELBO, written by test/shared/eval_noise_fixture.test.ts (UPDATE_FIXTURE=1); read by examples/pytorch/test_eval_noise.py",
    noise: NOISE_CASES.map(([seed, split, draw, samples, start, count, latent]) => ({
      seed,
      split,
      draw,
      samples,
      start,
      count,
      latent,
      eps: epsilon(seed, split, draw, samples, start, count, latent),
    })),
    model: { config: m.config, tensors: m.tensors, x: Array.from(m.data.x), n: m.data.n, d: m.data.d, evaluations },
  };
}

describe("examples/pytorch/eval_noise_fixture.json holds aevb's current evaluation noise", () => {
  let fresh: ReturnType<typeof buildFixture>;
  beforeAll(async () => {
    await useBackend('wasm');
    fresh = buildFixture();
    if (process.env.UPDATE_FIXTURE === '1') fs.writeFileSync(FIXTURE, `${JSON.stringify(fresh)}\n`);
  });

  it("the ε of each (seed, set, step, S, datapoints) is the file's, bit for bit", () => {
    const saved = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as ReturnType<typeof buildFixture>;
    expect(saved.noise.length).toBe(fresh.noise.length);
    fresh.noise.forEach((c, k) => {
      const { eps, ...key } = saved.noise[k];
      expect(key).toEqual({
        seed: c.seed,
        split: c.split,
        draw: c.draw,
        samples: c.samples,
        start: c.start,
        count: c.count,
        latent: c.latent,
      });
      expect(eps).toEqual(c.eps);
    });
  });

  it("the tiny model, its data and its evaluated ELBO (evaluateElbo: S draws, set, step) are the file's", () => {
    const saved = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as ReturnType<typeof buildFixture>;
    expect(saved.model.tensors).toEqual(fresh.model.tensors);
    expect(saved.model.x).toEqual(fresh.model.x);
    expect(saved.model.evaluations.length).toBe(fresh.model.evaluations.length);
    fresh.model.evaluations.forEach((e, k) => {
      const s = saved.model.evaluations[k];
      expect([s.split, s.draw, s.samples]).toEqual([e.split, e.draw, e.samples]);
      // float32 sums on the WASM backend: equal to rounding, and far from the next draw's value.
      for (const f of ['elbo', 'recon', 'kl'] as const) expect(Math.abs(s[f] - e[f])).toBeLessThan(1e-5);
      expect(s.se === null).toBe(e.se === null);
      if (s.se !== null) expect(Math.abs(s.se - e.se!)).toBeLessThan(1e-5);
    });
    // The noise matters to these numbers: another step's draw gives another ELBO.
    const [a, , , b] = fresh.model.evaluations;
    expect(Math.abs(a.elbo - b.elbo)).toBeGreaterThan(1e-3);
  });
});
