/**
 * The pool with real worker_threads, real SharedArrayBuffer and Atomics and the real WASM backend.
 * Every test disposes every trainer it creates (afterEach), so nothing is left running.
 */
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import { Trainer } from '../../src/main/trainer.ts';
import { createTrainer as createNodeTrainer } from '../../src/main/node/index.ts';
import { nodeSpawner } from '../../src/main/pool/spawn_node.ts';
import { LocalTrainer } from '../../src/main/local_trainer.ts';
import { WorkerPool } from '../../src/main/pool/pool.ts';
import { initialState } from '../../src/shared/training/training_state.ts';
import { resolveConfig, type TrainConfig } from '../../src/shared/training/config.ts';
import type { DataSplit } from '../../src/shared/data/dataset.ts';
import type { TrainerFailure as PoolFailure } from '../../src/main/trainer.ts';
import type { Spawner } from '../../src/main/pool/spawner.ts';
import { mnistSubset } from '../helpers/mnist_subset.ts';
import { faultySpawner, type Faults } from '../helpers/faults.ts';
import { useBackend, relErr } from '../helpers/backend.ts';

let data: DataSplit;
const open: Trainer[] = [];
const base: Partial<TrainConfig> = { hidden: 40, latent: 5, batch: 30, optimizer: 'adam', lr: 1e-3, init: 'pytorch', epochs: 1 };

async function make(
  workers: number,
  over: Partial<TrainConfig> = {},
  extra: Partial<Parameters<typeof Trainer.create>[0]> = {},
  spawn: Spawner = nodeSpawner(),
) {
  const t = await Trainer.create({ data, config: { ...base, ...over }, workers, ...extra }, spawn, 2);
  open.push(t);
  return t;
}

/** A trainer whose workers come from the fault tests' worker entry (test/helpers/faults.ts), and its faults. */
async function makeFaulty(workers: number, over: Partial<TrainConfig> = {}, extra: Partial<Parameters<typeof Trainer.create>[0]> = {}) {
  const faults: Faults = faultySpawner();
  return { t: await make(workers, over, extra, faults.spawn), faults };
}

/** The same, for a trainer whose options say how many workers (a count or 'auto'). */
async function makeWith(extra: Partial<Parameters<typeof Trainer.create>[0]>, over: Partial<TrainConfig> = {}) {
  const t = await Trainer.create({ data, config: { ...base, ...over }, ...extra }, nodeSpawner(), 2);
  open.push(t);
  return t;
}

beforeAll(async () => {
  await useBackend('wasm');
  // 600 training and 100 test digits keep the tests quick; the rows are real MNIST.
  data = mnistSubset(600, 100);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.dispose()));
});

function localParams(over: Partial<TrainConfig>, steps: number): Float32Array {
  const lt = new LocalTrainer(resolveConfig({ ...base, ...over, inputSize: 784 }), data);
  for (let i = 0; i < steps; i++) lt.step();
  lt.dispose();
  return lt.state.params;
}

describe('N workers train the same model as one', () => {
  for (const over of [{}, { estimator: 'A', samples: 2, binarize: true, optimizer: 'adagrad', lr: 0.02 }] as Partial<TrainConfig>[]) {
    it(`N = 1, 2, 3, 4 (30 = uneven shards for 4) end within 1e-5 of the one-worker run after 20 steps ${JSON.stringify(over)}`, async () => {
      const reference = localParams(over, 20);
      for (const n of [1, 2, 3, 4]) {
        const t = await make(n, over);
        await t.runSteps(20);
        const st = await t.state();
        expect(st.step).toBe(20);
        expect(relErr(st.params, reference), `N = ${n}`).toBeLessThanOrEqual(1e-5);
        // Every worker updated its slice with the WASM SIMD kernels on the shared memory.
        expect(t.workerInfo.map((i) => i.update)).toEqual(new Array(n).fill('shared'));
        await t.dispose();
      }
    });
  }

  it("one pool worker gives LocalTrainer's bits: the same gradient, the same update kernels, the same mirror", async () => {
    const reference = localParams({}, 15);
    const t = await make(1);
    await t.runSteps(15);
    const st = await t.state();
    expect(Buffer.from(st.params.buffer).equals(Buffer.from(reference.slice().buffer))).toBe(true);
  });

  it('a request may train with fewer workers than the pool has: 2 of 4 give the bits of a 2-worker pool', async () => {
    const four = await make(4),
      two = await make(2);
    const poolOf = (t: Trainer) => (t as unknown as { pool: { runSteps(s: number, k: number, a?: number): Promise<unknown> } }).pool;
    await poolOf(four).runSteps(0, 8, 2);
    await poolOf(two).runSteps(0, 8);
    // Then all four from step 8: still within float rounding of the 2-worker run.
    const a = await four.state(),
      b = await two.state();
    expect(Buffer.from(a.params.buffer).equals(Buffer.from(b.params.buffer))).toBe(true);
    await expect(poolOf(four).runSteps(8, 1, 5)).rejects.toThrow(/active must be 1\.\.4/);
  });

  it("workers: 'auto' measures the counts, reports its choice, and trains the same model", async () => {
    const t = await makeWith({ workers: 'auto' });
    expect(t.autoWorkers).toBe(true);
    expect(t.workers).toBe(2); // one per core of the (declared) 2-core machine
    const choices: Array<{ workers: number; measured: Record<number, number> }> = [];
    const used = new Set<number>();
    t.on('workers', (c) => choices.push(c));
    t.on('progress', (p) => used.add(p.workers));
    // The probe is 6 requests of ~100 ms each, but a request holds at most 256 steps: on a fast step that is
    // less than 100 ms, so train in blocks until the choice is made (bounded), however fast a step is.
    let steps = 0;
    while (choices.length === 0 && steps < 30 * 300) {
      await t.runSteps(300);
      steps += 300;
    }
    expect([...used].sort()).toEqual([1, 2]); // both counts were tried
    expect(choices.length).toBeGreaterThanOrEqual(1);
    expect(Object.keys(choices[0].measured)).toEqual(['1', '2']);
    expect([1, 2]).toContain(choices[0].workers);
    expect(relErr((await t.state()).params, localParams({}, steps))).toBeLessThanOrEqual(1e-5);
    // After the probe, the chosen count trains.
    expect(t.workerChoice).toEqual(choices[choices.length - 1]);
    await t.runSteps(3);
    expect(t.activeWorkers).toBe(t.workerChoice!.workers);
  });

  it("kernels: the default is aevb's (every worker runs the relaxed-SIMD build here); 'tfjs' says so; both train the same model to float rounding", async () => {
    const aevb = await make(2),
      tfjs = await make(2, {}, { kernels: 'tfjs' });
    expect(aevb.workerInfo.map((i) => i.kernels)).toEqual(['aevb-relaxed', 'aevb-relaxed']);
    expect(tfjs.workerInfo.map((i) => i.kernels)).toEqual(['tfjs', 'tfjs']);
    expect(aevb.kernels).toBe('aevb-relaxed');
    const events: string[] = [];
    aevb.on('progress', (p) => events.push(p.kernels));
    for (const t of [aevb, tfjs]) await t.runSteps(15);
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events)).toEqual(new Set(['aevb-relaxed']));
    const [a, c] = await Promise.all([aevb.state(), tfjs.state()]);
    expect(relErr(c.params, a.params)).toBeLessThanOrEqual(1e-5);
  });

  it("a deeper MLP (hidden [40, 24], relu then tanh) on aevb's kernels: 3 workers train the one-worker model, Gaussian decoder and estimator A included", async () => {
    for (const over of [
      { hidden: [40, 24], activation: ['relu', 'tanh'] },
      { hidden: [32, 16], activation: 'tanh', decoder: 'gaussian', estimator: 'A', samples: 2 },
    ] as Partial<TrainConfig>[]) {
      const reference = localParams(over, 12);
      const t = await make(3, over);
      expect(t.kernels).toBe('aevb-relaxed');
      await t.runSteps(12);
      expect(relErr((await t.state()).params, reference), JSON.stringify(over)).toBeLessThanOrEqual(1e-5);
      await t.dispose();
    }
  });

  it('a pool forced onto the SIMD128 build trains the model of the relaxed build (to float rounding), two workers of it that of one', async () => {
    const cfg = resolveConfig({ ...base, inputSize: 784 });
    const pools = await Promise.all(
      [{ workers: 2 }, { workers: 2, kernelBuild: 'simd128' as const }, { workers: 1, kernelBuild: 'simd128' as const }].map((o) =>
        WorkerPool.create({ config: cfg, data, spawn: nodeSpawner(), state: initialState(cfg), ...o }),
      ),
    );
    try {
      expect(pools[1].infos.map((i) => i.kernels)).toEqual(['aevb-simd128', 'aevb-simd128']);
      for (const p of pools) await p.runSteps(0, 15);
      const [relaxed, simd2, simd1] = pools.map((p) => p.readState().params);
      expect(relErr(simd2, relaxed)).toBeLessThanOrEqual(1e-5);
      expect(relErr(simd2, simd1)).toBeLessThanOrEqual(1e-5);
    } finally {
      await Promise.all(pools.map((p) => p.dispose()));
    }
  });

  it("one tfjs pool worker gives a tfjs LocalTrainer's bits (the mirror kept and written as before)", async () => {
    const lt = new LocalTrainer(resolveConfig({ ...base, inputSize: 784 }), data, undefined, undefined, 'tfjs');
    for (let i = 0; i < 10; i++) lt.step();
    const t = await make(1, {}, { kernels: 'tfjs' });
    await t.runSteps(10);
    expect(Buffer.from((await t.state()).params.buffer).equals(Buffer.from(lt.state.params.slice().buffer))).toBe(true);
    lt.dispose();
  });

  it("wake-sleep runs on tfjs whatever the kernels (aevb's kernels implement the SGVB gradient), and says so", async () => {
    const t = await make(2, { algorithm: 'wake-sleep' });
    expect(t.workerInfo.map((i) => i.kernels)).toEqual(['tfjs', 'tfjs']);
    await t.runSteps(3);
    expect(t.step).toBe(3);
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

  it('evaluation over the pool equals the in-process evaluation', async () => {
    const t = await make(3);
    await t.runSteps(5);
    const ev = await t.evaluate({ logLikelihoodSamples: 20 });
    const lt = new LocalTrainer(resolveConfig({ ...base, inputSize: 784 }), data);
    for (let i = 0; i < 5; i++) lt.step();
    const ref = lt.evaluate(20);
    lt.dispose();
    expect(ev.testElbo).toBeCloseTo(ref.testElbo, 2);
    expect(ev.trainElbo!).toBeCloseTo(ref.trainElbo, 2);
    expect(ev.logLikelihood!).toBeCloseTo(ref.logLikelihood!, 2);
    expect(ev.logLikelihood!).toBeGreaterThan(ev.testElbo);
    // The standard errors and what they describe travel with the numbers.
    expect(ev).toMatchObject({ elboSamples: 2, logLikelihoodK: 20 });
    expect(ev.testElboSe!).toBeCloseTo(ref.testElboSe!, 3);
    expect(ev.trainElboSe!).toBeCloseTo(ref.trainElboSe!, 3);
    expect(ev.logLikelihoodSe!).toBeCloseTo(ref.logLikelihoodSe!, 3);
    expect(ev.testElboSe!).toBeGreaterThan(0);
  });

  it('N = 1, 2, 3 workers give the same evaluation of one state: ELBOs, log p(x) and their standard errors', async () => {
    const one = await make(1);
    await one.runSteps(5);
    const bytes = await one.saveCheckpoint();
    const opts = { logLikelihoodSamples: 10, elboSamples: 3 };
    const ref = await one.evaluate(opts);
    expect(ref).toMatchObject({ elboSamples: 3, logLikelihoodK: 10 });
    for (const N of [2, 3]) {
      const ev = await (await make(N, {}, { checkpoint: bytes })).evaluate(opts);
      // The workers' sums over disjoint ranges add up: only the float order of the sums changes.
      for (const f of ['testElbo', 'trainElbo', 'logLikelihood', 'testElboSe', 'trainElboSe', 'logLikelihoodSe'] as const) {
        expect(Math.abs(ev[f]! - ref[f]!), `${f} on ${N} workers: ${ev[f]} against ${ref[f]}`).toBeLessThanOrEqual(
          1e-5 * Math.abs(ref[f]!) + 1e-6,
        );
      }
    }
  });

  it('log p(x) in slices (onProgress, signal) equals the one-call estimate, reports progress and stops on abort', async () => {
    const t = await make(2);
    await t.runSteps(3);
    const K = 50,
      sliceColumns = 500; // slices of 20 test datapoints (2 workers × 500 samples / K)
    const whole = await t.evaluate({ train: false, logLikelihoodSamples: K });
    const seen: number[] = [];
    const sliced = await t.evaluate({ train: false, logLikelihoodSamples: K, sliceColumns, onProgress: (p) => seen.push(p.done) });
    expect(sliced.logLikelihood!).toBeCloseTo(whole.logLikelihood!, 4);
    expect(sliced.logLikelihoodSe!).toBeCloseTo(whole.logLikelihoodSe!, 6);
    expect(seen).toEqual([20, 40, 60, 80, 100]);
    const ac = new AbortController();
    const done: number[] = [];
    const aborted = t.evaluate({
      train: false,
      logLikelihoodSamples: K,
      sliceColumns,
      signal: ac.signal,
      onProgress: (p) => {
        done.push(p.done);
        if (p.done >= 40) ac.abort();
      },
    });
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    expect(done).toEqual([20, 40]); // no slice after the abort
  });
});

describe('faults', () => {
  it('a worker that dies mid-run is replaced, reported, and the run ends with the uninterrupted parameters', async () => {
    const clean = await make(2);
    await clean.runSteps(40);
    const expected = (await clean.state()).params;

    const { t, faults } = await makeFaulty(2);
    const failures: PoolFailure[] = [];
    t.on('failure', (f) => failures.push(f));
    // Worker 1 stops at step 10's gradient, inside a request; its thread is then ended from outside.
    await faults.stallAt(1, 10);
    const run = t.runSteps(40);
    await faults.stalled(1);
    await faults.terminate(1);
    await run;
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ kind: 'worker-died', worker: 1, step: 10, during: 'steps' });
    expect(failures[0].cause).toMatch(/exited/);
    const st = await t.state();
    expect(st.step).toBe(40);
    expect(Buffer.from(st.params.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    // The replacement really works: it answers and holds no leaked tensors beyond the others'.
    const mem = await t.memory();
    expect(mem).toHaveLength(2);
  });

  it('a non-finite gradient is not applied, is reported with the worker, and training goes on', async () => {
    const { t, faults } = await makeFaulty(2);
    await t.runSteps(5);
    const before = await t.state();
    await faults.nanAt(1, 5);
    const failures: PoolFailure[] = [];
    t.on('failure', (f) => failures.push(f));
    await t.runSteps(1);
    const after = await t.state();
    expect(after.step).toBe(6);
    expect(after.samplesSeen).toBe(before.samplesSeen);
    expect(Buffer.from(after.params.buffer).equals(Buffer.from(before.params.buffer))).toBe(true);
    expect(Buffer.from(after.slots[0].buffer).equals(Buffer.from(before.slots[0].buffer))).toBe(true);
    expect(failures).toEqual([expect.objectContaining({ kind: 'non-finite', worker: 1, step: 5 })]);
    await t.runSteps(3);
    const later = await t.state();
    expect(later.samplesSeen).toBe(before.samplesSeen + 3 * 30);
    expect(relErr(later.params, before.params)).toBeGreaterThan(0);
  });
});

describe('worker deaths outside a training step, and between the two barriers of one', () => {
  // A tiny model: these tests are about who answers, not about what is learnt.
  const tiny: Partial<TrainConfig> = { hidden: 8, latent: 2, batch: 10 };
  const x = () => data.test.x.slice(0, 2 * 784);
  const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const died = (worker: number, during: string, step: number) =>
    expect.objectContaining({ kind: 'worker-died', worker, during, step, cause: expect.stringMatching(/exited with code/) });

  it('killed while idle: evaluate, encode, decode, sample and runSteps each replace it and answer exactly as before', async () => {
    const { t, faults } = await makeFaulty(2, tiny);
    await t.runSteps(3);
    const ref = {
      ev: await t.evaluate({ logLikelihoodSamples: 3 }),
      enc: await t.encode(x(), 2),
      s: await t.sample(3, 5),
      d: await t.decode(new Float32Array([0.5, -1]), 1),
    };
    const failures: PoolFailure[] = [];
    t.on('failure', (f) => failures.push(f));
    await faults.terminate(1);
    expect(await t.evaluate({ logLikelihoodSamples: 3 })).toEqual(ref.ev);
    await faults.terminate(0);
    expect(await t.encode(x(), 2)).toEqual(ref.enc);
    await faults.terminate(0);
    expect(bits(await t.sample(3, 5)).equals(bits(ref.s))).toBe(true);
    await faults.terminate(0);
    expect(bits(await t.decode(new Float32Array([0.5, -1]), 1)).equals(bits(ref.d))).toBe(true);
    await faults.terminate(1);
    await t.runSteps(3);
    expect(failures).toEqual([
      died(1, 'evaluate', 3),
      died(0, 'encode', 3),
      died(0, 'decode', 3),
      died(0, 'decode', 3),
      died(1, 'idle', 3),
    ]);
    // Training after all that ends where an untouched run ends.
    const clean = await make(2, tiny);
    await clean.runSteps(6);
    const st = await t.state();
    expect(st.step).toBe(6);
    expect(bits(st.params).equals(bits((await clean.state()).params))).toBe(true);
    expect(await t.memory()).toHaveLength(2);
  });

  it("killed during the end-of-epoch evaluation: start() trains on and the epoch's numbers are the untouched run's", async () => {
    const clean = await make(2, tiny);
    const cleanEpochs: number[] = [];
    clean.on('epoch', (e) => cleanEpochs.push(e.testElbo, e.trainElbo!));
    await clean.start();
    const { t, faults } = await makeFaulty(2, tiny);
    const epochs: number[] = [];
    const failures: PoolFailure[] = [];
    t.on('epoch', (e) => epochs.push(e.testElbo, e.trainElbo!));
    t.on('failure', (f) => failures.push(f));
    await faults.dieAt(1, { call: 'evaluateElbo' });
    await t.start();
    expect(t.status).toBe('done');
    expect(epochs).toEqual(cleanEpochs);
    expect(failures).toEqual([
      expect.objectContaining({ kind: 'worker-died', worker: 1, during: 'evaluate', step: t.stepsPerEpoch, cause: 'exited with code 70' }),
    ]);
    // And during the importance-sampled log p(x).
    const ref = await clean.evaluate({ train: false, logLikelihoodSamples: 3 });
    await faults.dieAt(0, { call: 'evaluateLogLikelihood' });
    expect(await t.evaluate({ train: false, logLikelihoodSamples: 3 })).toEqual(ref);
    expect(failures).toHaveLength(2);
  });

  it('killed during encode, decode, sample and reconstruct: each answers as the untouched worker would', async () => {
    const { t, faults } = await makeFaulty(2, tiny);
    await t.runSteps(2);
    const ref = { enc: await t.encode(x(), 2), s: await t.sample(4, 9), rec: await t.reconstruct(x(), 2) };
    const failures: PoolFailure[] = [];
    t.on('failure', (f) => failures.push(f));
    await faults.dieAt(0, { call: 'encode' });
    expect(await t.encode(x(), 2)).toEqual(ref.enc);
    await faults.dieAt(0, { call: 'decode' });
    expect(bits(await t.sample(4, 9)).equals(bits(ref.s))).toBe(true);
    await faults.dieAt(0, { call: 'decode' });
    expect(bits(await t.reconstruct(x(), 2)).equals(bits(ref.rec))).toBe(true);
    expect(failures.map((f) => [f.worker, f.kind === 'diverged' ? null : f.during, f.cause])).toEqual([
      [0, 'encode', 'exited with code 70'],
      [0, 'decode', 'exited with code 70'],
      [0, 'decode', 'exited with code 70'],
    ]);
  });

  for (const transport of ['shared', 'message'] as const) {
    it(`killed in the update phase (between the two barriers) of step 4 (${transport}): the step is retried and the run ends bit for bit as the untouched one`, async () => {
      const clean = await make(3, tiny, { transport });
      await clean.runSteps(10);
      const { t, faults } = await makeFaulty(3, tiny, { transport });
      const failures: PoolFailure[] = [];
      t.on('failure', (f) => failures.push(f));
      await faults.dieAt(1, { step: 4 });
      await t.runSteps(10);
      expect(failures).toEqual([
        expect.objectContaining({ kind: 'worker-died', worker: 1, step: 4, during: 'steps', cause: 'exited with code 70' }),
      ]);
      const a = await t.state(),
        b = await clean.state();
      expect(a.step).toBe(10);
      expect(bits(a.params).equals(bits(b.params))).toBe(true);
      expect(a.slots.map(bits)).toEqual(b.slots.map(bits));
    });
  }

  it('a worker that cannot be started again fails the call with an AevbError WORKER instead of hanging', async () => {
    const faults = faultySpawner();
    let starts = 0;
    // Worker 1 starts once; every later start of it dies at once, as on a machine out of memory.
    const spawn: Spawner = (rank) => {
      const w = faults.spawn(rank);
      if (rank === 1 && ++starts > 1) void w.terminate();
      return w;
    };
    const t = await Trainer.create({ data, config: { ...base, ...tiny }, workers: 2 }, spawn, 2);
    open.push(t);
    await t.runSteps(2);
    await faults.terminate(1);
    await expect(t.evaluate()).rejects.toMatchObject({
      name: 'AevbError',
      code: 'WORKER',
      message: expect.stringMatching(/Worker 1 could not be started: 3 tries failed/),
    });
    await expect(t.sample(2)).resolves.toHaveLength(2 * 784); // worker 0 still answers
    await expect(t.runSteps(1)).rejects.toMatchObject({ code: 'WORKER' });
    // The trained state is kept.
    expect((await t.state()).step).toBe(2);
  });
});

describe('a diverging run stops', () => {
  // hidden 40 with lr 10 blows up within a few steps (checked on the in-process trainer); after
  // that every gradient is NaN and every step is skipped.
  const wild: Partial<TrainConfig> = { hidden: 40, latent: 2, batch: 10, epochs: 100 };

  it('sgd at lr 10: after maxSkippedSteps skipped steps in a row start() rejects with AevbError NUMERIC, says so in a failure and a status event, and keeps the last good model', async () => {
    const t = await make(2, { ...wild, optimizer: 'sgd', lr: 10 }, { maxSkippedSteps: 20 });
    const failures: PoolFailure[] = [];
    const statuses: string[] = [];
    t.on('failure', (f) => failures.push(f));
    t.on('status', (s) => statuses.push(s));
    const err = await t.start().then(
      () => null,
      (e) => e,
    );
    expect(err).toMatchObject({ name: 'AevbError', code: 'NUMERIC' });
    expect(err.message).toMatch(
      /^Training diverged: 20 steps in a row \(steps \d+ to \d+\) were skipped because their gradient was not finite.*lr 10\) is too large.*Start a new run with a smaller learning rate, e\.g\. lr 1 \(or use optimizer adagrad, adam or rmsprop\)\.$/,
    );
    expect(t.status).toBe('failed');
    expect(statuses).toEqual(['running', 'failed']);
    const stop = t.step;
    expect(stop).toBeLessThan(200); // it stopped long before the 100 epochs
    expect(failures.at(-1)).toEqual({
      kind: 'diverged',
      worker: -1,
      step: stop - 1,
      firstSkipped: stop - 20,
      skipped: 20,
      cause: err.message,
      error: err,
    });
    const skipped = failures.filter((f) => f.kind === 'non-finite').map((f) => f.step);
    expect(skipped.slice(-20)).toEqual(Array.from({ length: 20 }, (_, i) => stop - 20 + i));
    // The model is the one of the last applied update: a run stopped just before the skipped steps.
    const good = await make(2, { ...wild, optimizer: 'sgd', lr: 10 });
    await good.runSteps(stop - 20);
    const a = await t.state(),
      b = await good.state();
    expect(Buffer.from(a.params.buffer).equals(Buffer.from(b.params.buffer))).toBe(true);
    // The trainer is still usable: it saves a checkpoint of that model.
    expect((await t.saveCheckpoint()).length).toBeGreaterThan(1000);
  });

  it('Adam at lr 10, with the default limit of 50: runSteps() rejects with NUMERIC instead of skipping for ever', async () => {
    const t = await make(2, { ...wild, optimizer: 'adam', lr: 10 });
    expect(t.maxSkippedSteps).toBe(50);
    await expect(t.runSteps(10_000)).rejects.toMatchObject({
      code: 'NUMERIC',
      message: expect.stringMatching(/^Training diverged: 50 steps in a row/),
    });
    expect(t.step).toBeLessThan(200);
  });
});

describe('bad input to the API', () => {
  const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
    ['zero workers', () => make(0), /"workers" is 0/],
    ['fractional workers', () => make(1.5), /"workers" is 1.5/],
    ['a batch smaller than the pool', () => make(4, { batch: 3 }), /"batch" is 3, smaller than the 4 workers/],
    ['a config out of range', () => make(1, { latent: 0 }), /"latent" is 0/],
    ['an unknown setting', () => make(1, { latnet: 3 } as never), /"latnet" is not a known setting/],
    ['a setting named toString', () => make(1, JSON.parse('{"toString": 1}')), /"toString" is not a known setting/],
    ['a setting named constructor', () => make(1, JSON.parse('{"constructor": 1}')), /"constructor" is not a known setting/],
    ['a setting named hasOwnProperty', () => make(1, JSON.parse('{"hasOwnProperty": 1}')), /"hasOwnProperty" is not a known setting/],
    ['a setting named __proto__', () => make(1, JSON.parse('{"__proto__": {"latent": 3}}')), /"__proto__" is not a known setting/],
    [
      'data of the wrong width',
      () => Trainer.create({ data, config: { ...base, inputSize: 100 } as never, workers: 1 }, nodeSpawner(), 1),
      /"inputSize" is 100 but the training data has 784 values/,
    ],
  ];
  for (const [name, f, msg] of cases)
    it(`rejects ${name}`, async () => {
      await expect(f()).rejects.toThrow(msg);
    });

  it('rejects a test set of another width than the training set', async () => {
    const bad = { train: data.train, test: { ...data.test, d: 100, x: new Float32Array(100 * 100) } };
    await expect(Trainer.create({ data: bad, config: base, workers: 1 }, nodeSpawner(), 1)).rejects.toThrow(
      /100 values per datapoint|test/,
    );
  });

  it('rejects rows of the wrong size, and every call after dispose', async () => {
    const t = await make(1);
    await expect(async () => t.decode(new Float32Array(7), 2)).rejects.toThrow(/"z" has 7 values for n = 2/);
    await t.dispose();
    await expect(t.runSteps(1)).rejects.toThrow(/disposed/);
    expect(() => t.start()).toThrow(/disposed/);
    await expect(t.evaluate()).rejects.toThrow(/disposed/);
  });
});

describe('the public boundary checks what it is given (AevbError, never TypeError/RangeError or a silent NaN run)', () => {
  const tiny: Partial<TrainConfig> = { hidden: 8, latent: 2, batch: 10 };
  /** A copy of the small split with `edit` applied to a fresh copy of the training values. */
  const withTrain = (edit: (x: Float32Array) => void, over: Record<string, unknown> = {}) => {
    const x = data.train.x.slice();
    edit(x);
    return { train: { ...data.train, x, ...over }, test: data.test };
  };
  async function refused(p: Promise<unknown> | (() => Promise<unknown>), code: string, message: RegExp): Promise<void> {
    const err = await (typeof p === 'function' ? p() : p).then(
      () => null,
      (e) => e,
    );
    expect(err, `expected a refusal matching ${message}`).not.toBeNull();
    expect(err.name).toBe('AevbError');
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  }

  it('createTrainer (the Node entry) refuses missing and malformed options and data before any worker starts', async () => {
    const create = (o: unknown) => createNodeTrainer(o as never);
    await refused(create(undefined), 'ARGUMENT', /createTrainer\(\) was given no options/);
    await refused(create({}), 'DATA', /The option "data" is missing/);
    await refused(create({ data: { train: data.train } }), 'DATA', /data\.test is missing/);
    await refused(create({ data, confg: { latent: 2 } }), 'ARGUMENT', /no option "confg".*the options are: config, data/);
    await refused(create({ data, config: 'small' }), 'ARGUMENT', /"config" is "small"/);
    await refused(create({ data, transport: 'fast' }), 'ARGUMENT', /"transport" is "fast"/);
    await refused(create({ data, checkpoint: 'runs/a' }), 'ARGUMENT', /"checkpoint" is "runs\/a".*Uint8Array/);
    await refused(create({ data, valueEvery: 0 }), 'ARGUMENT', /"valueEvery" is 0/);
    await refused(create({ data, maxSkippedSteps: 0.5 }), 'ARGUMENT', /"maxSkippedSteps" is 0.5/);
    await refused(create({ data, evaluateTrain: 'yes' }), 'ARGUMENT', /"evaluateTrain" is "yes"/);
    await refused(
      create({ data: { ...data, train: { ...data.train, x: Array.from(data.train.x.subarray(0, 10)) } } }),
      'DATA',
      /data\.train\.x is an array; it must be a Float32Array/,
    );
    await refused(
      create({ data: { ...data, train: { ...data.train, x: Float64Array.from(data.train.x) } } }),
      'DATA',
      /data\.train\.x is a Float64Array/,
    );
    await refused(create({ data: { ...data, train: { ...data.train, n: 0.5 } } }), 'DATA', /data\.train\.n is 0.5/);
  });

  it('createTrainer refuses bad values: NaN, a pixel of 7 for the Bernoulli decoder, x.length ≠ n·d, an empty test set', async () => {
    const create = (d: unknown, config: Partial<TrainConfig> = tiny) => createNodeTrainer({ data: d as DataSplit, config, workers: 1 });
    await refused(
      create(
        withTrain((x) => {
          x[3 * 784 + 5] = NaN;
        }),
      ),
      'DATA',
      /datapoint 3, pixel 5.* is NaN/,
    );
    await refused(
      create(
        withTrain((x) => {
          x[7 * 784] = 7;
        }),
      ),
      'DATA',
      /datapoint 7, pixel 0.* is 7, outside \[0, 1\].*the gaussian decoder/,
    );
    await refused(
      create(
        withTrain((x) => {
          x[0] = Infinity;
        }),
        { ...tiny, decoder: 'gaussian' },
      ),
      'DATA',
      /is Infinity/,
    );
    await refused(create(withTrain(() => undefined, { n: 599 })), 'DATA', /has 470400 values, which is not N × D = 599 × 784/);
    await refused(create({ train: data.train, test: { ...data.test, n: 0, x: new Float32Array(0) } }), 'DATA', /has no datapoints/);
    // The same checks hold when the model comes from a checkpoint.
    const t = await make(1, tiny);
    const bytes = await t.saveCheckpoint();
    await refused(
      createNodeTrainer({
        data: withTrain((x) => {
          x[1] = NaN;
        }),
        checkpoint: bytes,
        workers: 1,
      }),
      'DATA',
      /datapoint 0, pixel 1.* is NaN/,
    );
  });

  it('Trainer methods refuse fractional, negative and huge counts, wrong arrays and unknown options', async () => {
    const t = await make(1, tiny);
    await refused(t.runSteps(0.5), 'ARGUMENT', /runSteps\(n\): n is 0.5; it must be a whole number/);
    await refused(t.runSteps(1.5), 'ARGUMENT', /n is 1.5/);
    await refused(t.runSteps(-1), 'ARGUMENT', /n is -1/);
    await refused(t.runSteps(NaN), 'ARGUMENT', /n is NaN/);
    await t.runSteps(0);
    expect(t.step).toBe(0); // nothing ran, not even a rounded step
    const max = t.maxRows;
    expect(max).toBe(Math.floor(2 ** 24 / 784));
    await refused(t.sample(-1), 'ARGUMENT', /sample\(n\): n is -1/);
    await refused(t.sample(0), 'ARGUMENT', /n is 0/);
    await refused(t.sample(2.5), 'ARGUMENT', /n is 2.5/);
    await refused(
      t.sample(1e9),
      'ARGUMENT',
      new RegExp(`n is 1000000000; it must be a whole number from 1 to ${max.toLocaleString('en')}.*Draw at most`),
    );
    await refused(t.sample(3, -1), 'ARGUMENT', /seed is -1/);
    await refused(t.sample(3, 1.5), 'ARGUMENT', /seed is 1.5/);
    expect(await t.sample(2, 4)).toHaveLength(2 * 784); // and a good call still answers
    await refused(t.encode(new Float32Array(784).fill(NaN), 1), 'ARGUMENT', /encode\(x, n\): "x" is NaN at row 0, value 0/);
    await refused(t.encode(new Float64Array(784) as never, 1), 'ARGUMENT', /"x" is a Float64Array/);
    await refused(t.decode(new Float32Array(2), 0), 'ARGUMENT', /decode\(z, n\): n is 0/);
    await refused(t.decode(new Float32Array([0, Infinity]), 1), 'ARGUMENT', /"z" is Infinity at row 0, value 1/);
    await refused(t.evaluate({ logLikelihoodSamples: -1 }), 'ARGUMENT', /logLikelihoodSamples is -1/);
    await refused(t.evaluate({ trian: true } as never), 'ARGUMENT', /no option "trian"/);
    await refused(t.evaluate({ elboSamples: 0 }), 'ARGUMENT', /elboSamples is 0/);
    await refused(t.evaluate({ draw: 1.5 }), 'ARGUMENT', /draw is 1.5/);
    await refused(
      t.loadCheckpoint('runs/a/checkpoint.aevb' as never),
      'ARGUMENT',
      /loadCheckpoint\(bytes\): bytes is "runs\/a\/checkpoint.aevb"/,
    );
    // None of that touched the model.
    expect(t.step).toBe(0);
  });
});

describe('life cycle, maps and checkpoints', () => {
  it('start, pause, resume and stop; progress and epoch events arrive', async () => {
    const t = await make(2, { epochs: 2 });
    const steps: number[] = [];
    const epochs: number[] = [];
    t.on('progress', (p) => steps.push(p.step));
    t.on('epoch', (e) => epochs.push(e.epoch));
    const done = t.start();
    await new Promise<void>((r) => {
      const off = t.on('progress', () => {
        off();
        r();
      });
    });
    t.pause();
    expect(t.status).toBe('paused');
    const at = t.step;
    await new Promise((r) => setTimeout(r, 300));
    expect(t.step - at).toBeLessThanOrEqual(256); // at most the request in flight finished
    const frozen = t.step;
    await new Promise((r) => setTimeout(r, 300));
    expect(t.step).toBe(frozen);
    // Reading the state or saving a checkpoint while paused keeps the trainer paused.
    expect((await t.state()).step).toBe(frozen);
    await t.saveCheckpoint();
    await new Promise((r) => setTimeout(r, 200));
    expect(t.status).toBe('paused');
    expect(t.step).toBe(frozen);
    t.resume();
    await done;
    expect(t.status).toBe('done');
    expect(t.step).toBe(2 * t.stepsPerEpoch);
    expect(epochs).toEqual([1, 2]);
    expect(steps[steps.length - 1]).toBe(t.step);
  });

  it('stop() ends training early', async () => {
    const t = await make(2, { epochs: 50 });
    const done = t.start();
    await new Promise<void>((r) => {
      const off = t.on('progress', () => {
        off();
        r();
      });
    });
    await t.stop();
    await done;
    expect(t.status).toBe('idle');
    expect(t.step).toBeLessThan(50 * t.stepsPerEpoch);
  });

  it('encode, decode, reconstruct and sample have the right shapes and are deterministic', async () => {
    const t = await make(2);
    await t.runSteps(10);
    const x = data.test.x.slice(0, 3 * 784);
    const { mu, logvar } = await t.encode(x, 3);
    expect(mu).toHaveLength(3 * 5);
    expect(logvar).toHaveLength(3 * 5);
    const rec = await t.reconstruct(x, 3);
    expect(rec).toHaveLength(3 * 784);
    for (const v of rec) expect(v > 0 && v < 1).toBe(true);
    const s1 = await t.sample(4, 7),
      s2 = await t.sample(4, 7),
      s3 = await t.sample(4, 8);
    expect(Buffer.from(s1.buffer).equals(Buffer.from(s2.buffer))).toBe(true);
    expect(relErr(s1, s3)).toBeGreaterThan(0);
  });

  it('a checkpoint saved at step 10 resumes to exactly the parameters of an uninterrupted run', async () => {
    const a = await make(2);
    await a.runSteps(10);
    const bytes = await a.saveCheckpoint();
    await a.runSteps(10);
    const expected = await a.state();
    const b = await make(3, {}, { checkpoint: bytes });
    expect(b.step).toBe(10);
    await b.runSteps(10);
    expect(relErr((await b.state()).params, expected.params)).toBeLessThanOrEqual(1e-5);
    // Loading into a running model replaces the state, and the ELBO comes back exactly.
    const c = await make(2);
    await c.loadCheckpoint(bytes);
    expect((await c.evaluate({ train: false })).testElbo).toBe(
      (await make(2, {}, { checkpoint: bytes }).then((d) => d.evaluate({ train: false }))).testElbo,
    );
    await expect(c.loadCheckpoint(bytes.slice(0, 100))).rejects.toThrow(/truncated/);
    // A checkpoint of another model is refused and the current state is kept.
    const other = await make(1, { hidden: 41 });
    const kept = (await c.state()).params;
    await expect(c.loadCheckpoint(await other.saveCheckpoint())).rejects.toThrow(/model shape/);
    expect(Buffer.from((await c.state()).params.buffer).equals(Buffer.from(kept.buffer))).toBe(true);
  });

  it('tf.memory() is flat across 1,000 steps in every worker', async () => {
    const t = await make(2, { hidden: 8, latent: 2, batch: 10 });
    await t.runSteps(5);
    const before = await t.memory();
    await t.runSteps(1000);
    const after = await t.memory();
    expect(after.map((m) => m.numTensors)).toEqual(before.map((m) => m.numTensors));
    expect(after.map((m) => m.numBytes)).toEqual(before.map((m) => m.numBytes));
  });
});
