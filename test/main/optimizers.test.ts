/**
 * Every update rule of the optimizer registry (src/shared/training/optimizers.ts) through the real step
 * (LocalTrainer: aevb's step kernels and the update kernel) on real MNIST digits: it raises the test
 * ELBO from the initialisation at its own starting step size, and its state is all it needs to go on: a
 * run stopped half way, saved as checkpoint.aevb and as model.safetensors and loaded back, continues to
 * the same bits as the run that never stopped; and the pool (real worker_threads on shared memory) trains
 * LocalTrainer's model with it: one worker to the bit, two up to the order of the gradient sum.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/shared/training/config.ts';
import type { DataSplit, Dataset } from '../../src/shared/data/dataset.ts';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../../src/shared/formats/checkpoint.ts';
import { exportSafetensors, importSafetensors } from '../../src/shared/formats/pytorch_state.ts';
import { OPTIMIZERS, OPTIMIZER_NAMES } from '../../src/shared/training/optimizers.ts';
import type { TrainingState } from '../../src/shared/training/training_state.ts';
import { initialState } from '../../src/shared/training/training_state.ts';
import { LocalTrainer } from '../../src/main/local_trainer.ts';
import { WorkerPool } from '../../src/main/pool/pool.ts';
import { nodeSpawner } from '../../src/main/pool/spawn_node.ts';
import { relErr } from '../helpers/backend.ts';
import { sameBits } from '../helpers/step_arena.ts';
import { loadEmbeddedMnist } from '../../src/main/node/data_files.ts';
import { useBackend } from '../helpers/backend.ts';

let data: DataSplit;
const head = (ds: Dataset, n: number): Dataset => ({ ...ds, n, x: ds.x.subarray(0, n * ds.d), labels: ds.labels?.subarray(0, n) });

beforeAll(async () => {
  await useBackend('wasm');
  const mnist = loadEmbeddedMnist();
  data = { train: head(mnist.train, 200), test: head(mnist.test, 100) };
});

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('every rule of the registry, end to end', () => {
  for (const kind of OPTIMIZER_NAMES) {
    it(`${kind}: raises the test ELBO at lr ${OPTIMIZERS[kind].lr}, and resumes from checkpoint.aevb or model.safetensors to the same bits`, () => {
      const cfg = resolveConfig({ hidden: 24, latent: 3, batch: 20, optimizer: kind, lr: OPTIMIZERS[kind].lr, init: 'pytorch', seed: 5 });
      const whole = new LocalTrainer(cfg, data);
      const before = whole.evaluate(0, 0).testElbo;
      for (let t = 0; t < 20; t++) expect(whole.step().ok).toBe(true);
      // The run stops at step 20: its state, in both files.
      const s = whole.state;
      const c: Checkpoint = {
        format: 'aevb-checkpoint',
        version: 1,
        config: cfg,
        step: s.step,
        samplesSeen: s.samplesSeen,
        params: s.params.slice(),
        optimizer: { kind, slots: s.slots.map((x) => x.slice()) },
        data: { name: 'mnist head', n: data.train.n, d: data.train.d, fingerprint: '' },
        createdAt: '2026-12-06T00:00:00.000Z',
      };
      if (OPTIMIZERS[kind].slots.length > 0) expect(c.optimizer.slots.every((x) => x.some((v) => v !== 0))).toBe(true);
      const fromFiles = [
        decodeCheckpoint(encodeCheckpoint(c), 'checkpoint.aevb'),
        importSafetensors(exportSafetensors(c), 'model.safetensors'),
      ];
      for (let t = 0; t < 20; t++) expect(whole.step().ok).toBe(true);
      expect(whole.evaluate(0, 0).testElbo).toBeGreaterThan(before + 50); // nats per image (from −552 to −190…−400 in 40 steps)
      for (const loaded of fromFiles) {
        const start: TrainingState = {
          params: loaded.params,
          slots: loaded.optimizer.slots,
          step: loaded.step,
          samplesSeen: loaded.samplesSeen,
        };
        const resumed = new LocalTrainer(loaded.config, data, start);
        for (let t = 0; t < 20; t++) expect(resumed.step().ok).toBe(true);
        expect(bits(resumed.state.params).equals(bits(whole.state.params))).toBe(true);
        resumed.state.slots.forEach((x, k) => expect(bits(x).equals(bits(whole.state.slots[k]))).toBe(true));
        resumed.dispose();
      }
      whole.dispose();
    });
  }
});

describe('every rule of the registry in the pool', () => {
  const open: WorkerPool[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((p) => p.dispose()));
  });

  for (const kind of OPTIMIZER_NAMES) {
    it(`${kind}: one worker gives LocalTrainer's bits, two its model`, async () => {
      const cfg = resolveConfig({ hidden: 16, latent: 3, batch: 10, optimizer: kind, lr: OPTIMIZERS[kind].lr, init: 'pytorch', seed: 9 });
      const STEPS = 10;
      const lt = new LocalTrainer(cfg, data);
      for (let s = 0; s < STEPS; s++) expect(lt.step().ok).toBe(true);
      const reference = lt.state.params.slice();
      lt.dispose();
      const run = async (workers: number) => {
        const p = await WorkerPool.create({ config: cfg, data, workers, spawn: nodeSpawner(), state: initialState(cfg) });
        open.push(p);
        const r = await p.runSteps(0, STEPS);
        expect(r.outcomes.every((o) => o.ok)).toBe(true);
        return p.readState().params.slice();
      };
      expect(sameBits(await run(1), reference), "one worker: LocalTrainer's bits").toBe(true);
      // Two slots summed instead of one: float32 rounding of the sum, ~1e-7 a step (the pool tests' bound: 1e-5).
      const two = await run(2);
      expect(relErr(two, reference)).toBeLessThanOrEqual(1e-5);
      expect(relErr(two, initialState(cfg).params)).toBeGreaterThan(1e-3); // it trained
    });
  }
});
