/**
 * model.safetensors through the trainer, with real worker_threads: createTrainer({ checkpoint })
 * resumes from our export exactly where checkpoint.aevb does, takes a bare PyTorch state_dict
 * (fresh optimizer state), and loadCheckpoint refuses damaged or mismatched files without
 * touching the running model.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Trainer } from '../../src/main/trainer.ts';
import { nodeSpawner } from '../../src/main/pool/spawn_node.ts';
import { decodeCheckpoint } from '../../src/shared/formats/checkpoint.ts';
import type { TrainConfig } from '../../src/shared/training/config.ts';
import type { DataSplit } from '../../src/shared/data/dataset.ts';
import { exportSafetensors } from '../../src/shared/formats/pytorch_state.ts';
import { decodeSafetensors, encodeSafetensors } from '../../src/shared/formats/safetensors.ts';
import { mnistSubset } from '../helpers/mnist_subset.ts';
import { useBackend } from '../helpers/backend.ts';

let data: DataSplit;
const open: Trainer[] = [];
const base: Partial<TrainConfig> = { hidden: 24, latent: 4, batch: 30, optimizer: 'adam', lr: 1e-3, init: 'pytorch', epochs: 1 };
const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

async function make(over: Partial<TrainConfig> = {}, checkpoint?: Uint8Array) {
  const t = await Trainer.create({ data, config: { ...base, ...over }, workers: 2, checkpoint }, nodeSpawner(), 2);
  open.push(t);
  return t;
}

beforeAll(async () => {
  await useBackend('wasm');
  data = mnistSubset(300, 60);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.dispose()));
});

describe('a trainer from model.safetensors', () => {
  it('resumes from the export exactly as from checkpoint.aevb: same state, same next steps, bit for bit', async () => {
    const a = await make();
    await a.runSteps(6);
    const aevb = await a.saveCheckpoint();
    const st = await a.saveSafetensors();
    const fromAevb = await make({}, aevb),
      fromSt = await make({}, st);
    expect(fromSt.step).toBe(6);
    const [s1, s2] = [await fromAevb.state(), await fromSt.state()];
    expect(bits(s2.params).equals(bits(s1.params))).toBe(true);
    s1.slots.forEach((s, k) => expect(bits(s2.slots[k]).equals(bits(s))).toBe(true));
    await fromAevb.runSteps(5);
    await fromSt.runSteps(5);
    expect(bits((await fromSt.state()).params).equals(bits((await fromAevb.state()).params))).toBe(true);
  });

  it("takes a bare state_dict (no metadata, no optimizer state) with the run's settings", async () => {
    const a = await make();
    await a.runSteps(3);
    const f = decodeSafetensors(exportSafetensors(decodeCheckpoint(await a.saveCheckpoint(), 'a')), 'a');
    const bare = encodeSafetensors(f.tensors.filter((t) => !t.name.startsWith('optimizer.')));
    const t = await make({ optimizer: 'adagrad', lr: 0.01 }, bare);
    expect(t.step).toBe(0);
    expect(t.config).toMatchObject({ hidden: 24, latent: 4, optimizer: 'adagrad' });
    const s = await t.state();
    expect(bits(s.params).equals(bits((await a.state()).params))).toBe(true);
    expect(s.slots[0].every((v) => v === 0)).toBe(true);
    // The model's shape comes from the file; a flag that contradicts it names the tensor.
    await expect(make({ hidden: 25 }, bare)).rejects.toThrow(
      /tensor encoder\.hidden\.weight of shape \[24,784\]; the model \(D784-H25-J4-bernoulli\) needs \[25,784\]/,
    );
  });

  it('loadCheckpoint refuses truncated, corrupt and mismatched files in one line and keeps the model', async () => {
    const t = await make();
    await t.runSteps(4);
    const kept = await t.state();
    const good = exportSafetensors(decodeCheckpoint(await t.saveCheckpoint(), 'a'));
    const other = exportSafetensors(decodeCheckpoint(await (await make({ latent: 5 })).saveCheckpoint(), 'b'));
    const corrupt = good.slice();
    new DataView(corrupt.buffer).setBigUint64(0, BigInt(good.length), true);
    for (const [bytes, msg] of [
      [good.slice(0, good.length - 100), /truncated/],
      [corrupt, /truncated: the header claims/],
      [other, /tensor encoder\.mu\.weight of shape \[5,24\]; the model \(D784-H24-J4-bernoulli\) needs \[4,24\]/],
    ] as const) {
      const err = await t.loadCheckpoint(bytes).then(
        () => null,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(msg);
      expect(err?.message).not.toContain('\n');
      const now = await t.state();
      expect(now.step).toBe(kept.step);
      expect(bits(now.params).equals(bits(kept.params))).toBe(true);
      expect(bits(now.slots[1]).equals(bits(kept.slots[1]))).toBe(true);
    }
  });
});
