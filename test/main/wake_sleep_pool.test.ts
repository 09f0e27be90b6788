/**
 * Wake-sleep on the pool (real worker_threads, SharedArrayBuffer, the WASM backend, real MNIST rows):
 * data-parallel with the same equivalence as AEVB, on both paths, and it learns.
 */
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import { Trainer } from '../../src/main/trainer.ts';
import { nodeSpawner } from '../../src/main/pool/spawn_node.ts';
import { createTrainer as createNodeTrainer } from '../../src/main/node/index.ts';
import { LocalTrainer } from '../../src/main/local_trainer.ts';
import { resolveConfig, type TrainConfig } from '../../src/shared/training/config.ts';
import type { DataSplit } from '../../src/shared/data/dataset.ts';
import { mnistSubset } from '../helpers/mnist_subset.ts';
import { useBackend, relErr } from '../helpers/backend.ts';

let data: DataSplit;
const open: Trainer[] = [];
const base: Partial<TrainConfig> = {
  algorithm: 'wake-sleep',
  hidden: 40,
  latent: 5,
  batch: 30,
  optimizer: 'adam',
  lr: 1e-3,
  init: 'pytorch',
  epochs: 1,
};

async function make(workers: number, over: Partial<TrainConfig> = {}, extra: Partial<Parameters<typeof Trainer.create>[0]> = {}) {
  const t = await Trainer.create({ data, config: { ...base, ...over }, workers, ...extra }, nodeSpawner(), 2);
  open.push(t);
  return t;
}

function localParams(over: Partial<TrainConfig>, steps: number): Float32Array {
  const lt = new LocalTrainer(resolveConfig({ ...base, ...over, inputSize: 784 }), data);
  for (let i = 0; i < steps; i++) expect(lt.step().ok).toBe(true);
  lt.dispose();
  return lt.state.params;
}

beforeAll(async () => {
  await useBackend('wasm');
  data = mnistSubset(600, 100);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.dispose()));
});

describe('wake-sleep: N workers train the same model as one', () => {
  const variants: Partial<TrainConfig>[] = [
    {},
    // Uneven shards (29 = 15 + 14 = 10 + 10 + 9), L = 2, dynamic binarisation, Adagrad, weight decay.
    { batch: 29, samples: 2, binarize: true, optimizer: 'adagrad', lr: 0.02, weightDecay: 1e-3 },
    { decoder: 'gaussian', optimizer: 'adagrad', lr: 0.01 },
  ];
  for (const over of variants) {
    it(`N = 1, 2, 3 end within 1e-5 of the one-worker run after 20 steps ${JSON.stringify(over)}`, async () => {
      const reference = localParams(over, 20);
      const start = resolveConfig({ ...base, ...over, inputSize: 784 });
      for (const n of [1, 2, 3]) {
        const t = await make(n, over);
        expect(t.config.algorithm).toBe('wake-sleep');
        await t.runSteps(20);
        const st = await t.state();
        expect(st.step).toBe(20);
        expect(relErr(st.params, reference), `N = ${n}`).toBeLessThanOrEqual(1e-5);
        await t.dispose();
      }
      // Not vacuous: 20 steps moved the parameters.
      const init = new LocalTrainer(start, data);
      expect(relErr(init.state.params, reference)).toBeGreaterThan(1e-3);
      init.dispose();
    });
  }

  it("one pool worker gives LocalTrainer's bits", async () => {
    const reference = localParams({}, 12);
    const t = await make(1);
    await t.runSteps(12);
    const st = await t.state();
    expect(Buffer.from(st.params.buffer).equals(Buffer.from(reference.slice().buffer))).toBe(true);
  });

  it('the message path gives bit for bit the shared path', async () => {
    const shared = await make(3, {}, { transport: 'shared' });
    const message = await make(3, {}, { transport: 'message' });
    expect(message.transport).toBe('message');
    await shared.runSteps(12);
    await message.runSteps(12);
    const a = await shared.state(),
      b = await message.state();
    expect(Buffer.from(a.params.buffer).equals(Buffer.from(b.params.buffer))).toBe(true);
    expect(Buffer.from(a.slots[1].buffer).equals(Buffer.from(b.slots[1].buffer))).toBe(true);
  });

  it('differs from AEVB with the same seed: the algorithm reaches the workers', async () => {
    const ws = await make(2),
      aevb = await make(2, { algorithm: 'aevb' });
    await ws.runSteps(5);
    await aevb.runSteps(5);
    expect(relErr((await ws.state()).params, (await aevb.state()).params)).toBeGreaterThan(1e-4);
  });

  it('learns: the test ELBO (evaluated with its recognition model, as for AEVB) rises, and progress reports the minibatch ELBO', async () => {
    const t = await make(2, { optimizer: 'adagrad', lr: 0.05 }, { valueEvery: 1 });
    const before = await t.evaluate();
    const reported: number[] = [];
    t.on('progress', (p) => {
      if (p.elbo !== undefined) reported.push(p.elbo);
    });
    await t.runSteps(60);
    const after = await t.evaluate();
    expect(after.testElbo).toBeGreaterThan(before.testElbo + 50);
    expect(reported.length).toBeGreaterThan(0);
    expect(reported.every(Number.isFinite)).toBe(true);
    // The last minibatch's ELBO is of the same scale as the test set's (both estimator B, per datapoint).
    expect(Math.abs(reported[reported.length - 1] - after.testElbo)).toBeLessThan(60);
  });

  it('the library takes the algorithm in config, and refuses an unknown one before any worker starts', async () => {
    const t = await createNodeTrainer({ data, workers: 2, config: { ...base, algorithm: 'wake-sleep' } });
    open.push(t);
    expect(t.config.algorithm).toBe('wake-sleep');
    await expect(createNodeTrainer({ data, workers: 2, config: { ...base, algorithm: 'sleep' as never } })).rejects.toThrow(
      /"algorithm" is "sleep"; it must be one of aevb, wake-sleep/,
    );
  });
});
