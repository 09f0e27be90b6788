/**
 * The pool with real worker_threads, real SharedArrayBuffer and Atomics and the real WASM backend.
 * Every test disposes every trainer it creates (afterEach), so nothing is left running.
 */
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import { Trainer } from '../../src/main/trainer.ts';
import { nodeSpawner } from '../../src/main/pool/spawn_node.ts';
import { LocalTrainer } from '../../src/main/local_trainer.ts';
import { loadEmbeddedMnist } from '../../src/main/node/data_files.ts';
import { resolveConfig, type TrainConfig } from '../../src/shared/config.ts';
import type { DataSplit } from '../../src/shared/dataset.ts';
import type { PoolFailure } from '../../src/main/pool/pool.ts';
import { useBackend, relErr } from '../helpers/backend.ts';

let data: DataSplit;
const open: Trainer[] = [];
const base: Partial<TrainConfig> = { hidden: 40, latent: 5, batch: 30, optimizer: 'adam', lr: 1e-3, init: 'pytorch', epochs: 1 };

async function make(workers: number, over: Partial<TrainConfig> = {}, extra: Partial<Parameters<typeof Trainer.create>[0]> = {}) {
  const t = await Trainer.create({ data, config: { ...base, ...over }, workers, ...extra }, nodeSpawner(), 2);
  open.push(t);
  return t;
}

beforeAll(async () => {
  await useBackend('wasm');
  const full = loadEmbeddedMnist();
  // 600 training and 100 test digits keep the tests quick; the rows are real MNIST.
  data = {
    train: { ...full.train, n: 600, x: full.train.x.slice(0, 600 * 784), labels: full.train.labels?.slice(0, 600) },
    test: { ...full.test, n: 100, x: full.test.x.slice(0, 100 * 784), labels: full.test.labels?.slice(0, 100) },
  };
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
        await t.dispose();
      }
    });
  }

  it('the message path gives bit for bit the shared path', async () => {
    const shared = await make(3, {}, { transport: 'shared' });
    const message = await make(3, {}, { transport: 'message' });
    expect(message.transport).toBe('message');
    await shared.runSteps(12);
    await message.runSteps(12);
    const a = await shared.state(), b = await message.state();
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
  });

  it('log p(x) in slices (onProgress, signal) equals the one-call estimate, reports progress and stops on abort', async () => {
    const t = await make(2);
    await t.runSteps(3);
    const K = 50, sliceColumns = 500; // slices of 20 test datapoints (2 workers × 500 samples / K)
    const whole = (await t.evaluate({ train: false, logLikelihoodSamples: K })).logLikelihood!;
    const seen: number[] = [];
    const sliced = (await t.evaluate({ train: false, logLikelihoodSamples: K, sliceColumns, onProgress: (p) => seen.push(p.done) })).logLikelihood!;
    expect(sliced).toBeCloseTo(whole, 4);
    expect(seen).toEqual([20, 40, 60, 80, 100]);
    const ac = new AbortController();
    const done: number[] = [];
    const aborted = t.evaluate({ train: false, logLikelihoodSamples: K, sliceColumns, signal: ac.signal, onProgress: (p) => { done.push(p.done); if (p.done >= 40) ac.abort(); } });
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    expect(done).toEqual([20, 40]); // no slice after the abort
  });
});

describe('faults', () => {
  it('a worker that dies mid-run is replaced, reported, and the run ends with the uninterrupted parameters', async () => {
    const clean = await make(2);
    await clean.runSteps(40);
    const expected = (await clean.state()).params;

    const t = await make(2);
    const failures: PoolFailure[] = [];
    t.on('failure', (f) => failures.push(f));
    let killed = false;
    t.on('progress', (p) => {
      if (!killed && p.step >= 10) { killed = true; void t.testing.terminateWorker(1); }
    });
    await t.runSteps(40);
    expect(killed).toBe(true);
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(failures[0]).toMatchObject({ kind: 'worker-died', worker: 1 });
    expect(failures[0].cause).toMatch(/exited/);
    const st = await t.state();
    expect(st.step).toBe(40);
    expect(Buffer.from(st.params.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    // The replacement really works: it answers and holds no leaked tensors beyond the others'.
    const mem = await t.memory();
    expect(mem).toHaveLength(2);
  });

  it('a non-finite gradient is not applied, is reported with the worker, and training goes on', async () => {
    const t = await make(2);
    await t.runSteps(5);
    const before = await t.state();
    await t.testing.injectNonFinite(1, 5);
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

describe('bad input to the API', () => {
  const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
    ['zero workers', () => make(0), /"workers" is 0/],
    ['fractional workers', () => make(1.5), /"workers" is 1.5/],
    ['a batch smaller than the pool', () => make(4, { batch: 3 }), /"batch" is 3, smaller than the 4 workers/],
    ['a config out of range', () => make(1, { latent: 0 }), /"latent" is 0/],
    ['an unknown setting', () => make(1, { latnet: 3 } as never), /"latnet" is not a known setting/],
    ['data of the wrong width', () => Trainer.create({ data, config: { ...base, inputSize: 100 } as never, workers: 1 }, nodeSpawner(), 1), /"inputSize" is 100 but the training data has 784 values/],
  ];
  for (const [name, f, msg] of cases) it(`rejects ${name}`, async () => { await expect(f()).rejects.toThrow(msg); });

  it('rejects a test set of another width than the training set', async () => {
    const bad = { train: data.train, test: { ...data.test, d: 100, x: new Float32Array(100 * 100) } };
    await expect(Trainer.create({ data: bad, config: base, workers: 1 }, nodeSpawner(), 1)).rejects.toThrow(/100 values per datapoint|test/);
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

describe('life cycle, maps and checkpoints', () => {
  it('start, pause, resume and stop; progress and epoch events arrive', async () => {
    const t = await make(2, { epochs: 2 });
    const steps: number[] = [];
    const epochs: number[] = [];
    t.on('progress', (p) => steps.push(p.step));
    t.on('epoch', (e) => epochs.push(e.epoch));
    const done = t.start();
    await new Promise<void>((r) => { const off = t.on('progress', () => { off(); r(); }); });
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
    await new Promise<void>((r) => { const off = t.on('progress', () => { off(); r(); }); });
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
    const s1 = await t.sample(4, 7), s2 = await t.sample(4, 7), s3 = await t.sample(4, 8);
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
    expect((await c.evaluate({ train: false })).testElbo).toBe((await make(2, {}, { checkpoint: bytes }).then((d) => d.evaluate({ train: false }))).testElbo);
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
