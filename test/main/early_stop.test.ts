/**
 * Early stopping end to end (config.earlyStop, --early-stop N): the trainer ends its run after N
 * evaluations in a row without a better test ELBO (status 'done', stoppedEarly) and keeps the best
 * state (saveBestCheckpoint); the CLI keeps it in DIR/best.aevb beside the latest checkpoint and
 * says where it stopped. A learning rate of 1e-9 leaves the model where it started, so the test
 * ELBO moves only by the evaluation's fresh draws of ε: it stops getting better within a few points.
 */
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Trainer, type EpochEvent } from '../../src/main/trainer.ts';
import { nodeSpawner } from '../../src/main/pool/spawn_node.ts';
import { decodeCheckpoint } from '../../src/shared/formats/checkpoint.ts';
import { parseCli } from '../../src/main/node/cli_args.ts';
import { BEST_CHECKPOINT_FILE, runTraining } from '../../src/main/node/train_run.ts';
import type { TrainConfig } from '../../src/shared/training/config.ts';
import { mnistSubset } from '../helpers/mnist_subset.ts';
import { useBackend } from '../helpers/backend.ts';

const data = mnistSubset(300, 300);
const still: Partial<TrainConfig> = { hidden: 16, latent: 2, batch: 100, epochs: 40, lr: 1e-9, seed: 5 };

describe('early stopping in the library', () => {
  const trainers: Trainer[] = [];
  afterAll(async () => {
    await Promise.all(trainers.map((t) => t.dispose()));
  });
  const make = async (config: Partial<TrainConfig>) => {
    const t = await Trainer.create({ data, config, workers: 1 }, nodeSpawner(), 1);
    trainers.push(t);
    return t;
  };

  it('ends the run after N evaluations without a better test ELBO, as done, and keeps the best state', async () => {
    const t = await make({ ...still, earlyStop: 2 });
    const epochs: EpochEvent[] = [];
    t.on('epoch', (e) => epochs.push(e));
    await t.start();
    expect(t.status).toBe('done');
    const stop = t.stoppedEarly!;
    expect(stop).toBeDefined();
    expect(epochs.length).toBeLessThan(40);
    expect(epochs.length).toBe(stop.evaluation);
    expect(stop).toMatchObject({ stop: true, sinceBest: 2 });
    const last = epochs.at(-1)!;
    expect(last.earlyStop).toEqual(stop);
    const best = epochs[stop.bestEvaluation - 1];
    expect(best.earlyStop?.best).toBe(true);
    expect(best.testElbo).toBe(stop.bestElbo);
    for (const e of epochs) expect(e.testElbo).toBeLessThanOrEqual(stop.bestElbo);
    // The best state's checkpoint is at the best evaluation's step; the trainer itself is at the last.
    const c = decodeCheckpoint((await t.saveBestCheckpoint())!, 'best');
    expect(c.step).toBe(best.step);
    expect(t.step).toBe(last.step);
    // Nothing more to do: start() again returns at once.
    await t.start();
    expect(t.step).toBe(last.step);
  });

  it('0 is off: no mark on the evaluations, no best checkpoint', async () => {
    const t = await make({ ...still, epochs: 2 });
    const epochs: EpochEvent[] = [];
    t.on('epoch', (e) => epochs.push(e));
    await t.start();
    expect(epochs).toHaveLength(2);
    expect(epochs.every((e) => e.earlyStop === undefined)).toBe(true);
    expect(t.stoppedEarly).toBeUndefined();
    expect(await t.saveBestCheckpoint()).toBeUndefined();
  });
});

describe('--early-stop N on the command line', () => {
  let tmp: string;
  beforeAll(async () => {
    await useBackend('wasm');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aevb-early-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('keeps the best checkpoint in DIR/best.aevb, the latest in checkpoint.aevb, and says where it stopped', async () => {
    const out = path.join(tmp, 'run');
    const logs: string[] = [];
    const argv = ['--hidden', '16', '--latent', '2', '--batch', '100', '--epochs', '40', '--lr', '1e-9', '--seed', '5'];
    const req = parseCli([...argv, '--early-stop', '2', '--workers', '1', '--quiet', '--out', out]);
    expect(req.explicit.earlyStop).toBe(2);
    const r = await runTraining(req, (s) => logs.push(s), { loadData: () => data });
    expect(r.metrics.length).toBeLessThan(40);
    const summary = logs.find((l) => l.startsWith('Stopped early'));
    expect(summary).toMatch(
      new RegExp(
        `^Stopped early at evaluation ${r.metrics.length} \\(step ${r.state.step}\\): no better test ELBO in 2 evaluations\\. The best, evaluation \\d+ \\(step \\d+, test ELBO -?\\d+\\.\\d\\d\\), is .*best\\.aevb\\.$`,
      ),
    );
    const bestStep = Number(/The best, evaluation \d+ \(step (\d+)/.exec(summary!)![1]);
    const best = decodeCheckpoint(new Uint8Array(fs.readFileSync(path.join(out, BEST_CHECKPOINT_FILE))), 'best');
    const latest = decodeCheckpoint(new Uint8Array(fs.readFileSync(path.join(out, 'checkpoint.aevb'))), 'latest');
    expect(best.step).toBe(bestStep);
    expect(latest.step).toBe(r.state.step);
    expect(best.config.earlyStop).toBe(2);
  });
});
