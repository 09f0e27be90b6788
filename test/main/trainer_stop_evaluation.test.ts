/**
 * A stop during an evaluation point (the ELBO of both sets at an epoch's end) takes effect after the
 * slice in flight, not after the whole evaluation; the evaluation is then owed, and the next
 * start() does it first, with the same numbers as a run never stopped (the slices are sized by the
 * model, never by a clock). Real worker threads on real digits; the pool's evaluateElbo is watched
 * (counted and, once, used as the moment to stop), not replaced.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { Trainer, type EpochEvent } from '../../src/main/trainer.ts';
import { nodeSpawner } from '../../src/main/pool/spawn_node.ts';
import { elboSliceRows } from '../../src/main/sliced_evaluation.ts';
import type { TrainConfig } from '../../src/shared/training/config.ts';
import { mnistSubset } from '../helpers/mnist_subset.ts';

// 600 training and 600 test digits at M = 100: 6 steps an epoch. At H = 400 a slice is 264 rows a worker,
// 528 on 2 workers, so each set's ELBO takes 2 slices: an evaluation point is 4.
const data = mnistSubset(600, 600);
const config: Partial<TrainConfig> = { hidden: 400, latent: 2, batch: 100, epochs: 2, seed: 3 };
const trainers: Trainer[] = [];
afterEach(async () => {
  await Promise.all(trainers.splice(0).map((t) => t.dispose()));
});

async function make(): Promise<Trainer> {
  const t = await Trainer.create({ data, config, workers: 2 }, nodeSpawner(), 2);
  trainers.push(t);
  return t;
}

/** Watch the pool's ELBO calls: count them, and call `during(k)` as the k-th starts. */
function watchElbo(t: Trainer, during: (k: number) => void): { calls: number } {
  const pool = (t as unknown as { pool: { evaluateElbo: (...a: unknown[]) => Promise<unknown> } }).pool;
  const real = pool.evaluateElbo.bind(pool);
  const seen = { calls: 0 };
  pool.evaluateElbo = (...a: unknown[]) => {
    seen.calls++;
    during(seen.calls);
    return real(...a);
  };
  return seen;
}

describe('stop() during an evaluation point', () => {
  it('the slices are sized by the model: more than one here, each a fixed number of rows', () => {
    // H 400, J 2, D 784, Bernoulli: W3, b3, W4, W5, b4, b5 | W1, b1, W2, b2.
    const P = 400 * 784 + 400 + 2 * 400 * 2 + 2 * 2 + 400 * 2 + 400 + 784 * 400 + 784;
    expect(elboSliceRows(P, 2)).toBe(264); // 2.5e8 multiply-adds / (P · (1 + S)/2)
    expect(elboSliceRows(P, 2) * 2).toBeLessThan(600); // so 600 rows take 2 slices on 2 workers
    expect(elboSliceRows(1e12, 1)).toBe(1); // never none
  });

  it('ends after the slice in flight; the next start() evaluates first, with the numbers of a run never stopped', async () => {
    const whole = await make();
    const wholeEpochs: EpochEvent[] = [];
    whole.on('epoch', (e) => wholeEpochs.push(e));
    await whole.start();
    expect(wholeEpochs.map((e) => e.step)).toEqual([6, 12]);

    const t = await make();
    const epochs: EpochEvent[] = [];
    t.on('epoch', (e) => epochs.push(e));
    let stopping: Promise<void> | null = null,
      callsAtStop = -1;
    const seen = watchElbo(t, (k) => {
      if (k === 1 && !stopping) {
        callsAtStop = k;
        stopping = t.stop();
      }
    });
    await t.start();
    await stopping;
    expect(callsAtStop).toBe(1);
    expect(seen.calls).toBe(1); // the slice in flight ended; no other was asked for
    expect(t.step).toBe(6);
    expect(epochs).toEqual([]);
    expect(t.evaluationPending).toBe(true);
    expect(t.status).toBe('idle');

    await t.start(); // the owed evaluation first, then the second epoch
    expect(t.evaluationPending).toBe(false);
    expect(epochs.map((e) => e.step)).toEqual([6, 12]);
    for (const k of [0, 1]) {
      expect(epochs[k].testElbo).toBe(wholeEpochs[k].testElbo);
      expect(epochs[k].trainElbo).toBe(wholeEpochs[k].trainElbo);
    }
    expect(t.status).toBe('done');
  });

  it("a stop during the last epoch's evaluation leaves the run not done until that evaluation is made", async () => {
    const t = await make();
    const epochs: EpochEvent[] = [];
    t.on('epoch', (e) => epochs.push(e));
    let stopping: Promise<void> | null = null;
    watchElbo(t, () => {
      if (t.step === 12 && !stopping) stopping = t.stop();
    });
    await t.start();
    await stopping;
    expect(t.step).toBe(12);
    expect(epochs.map((e) => e.step)).toEqual([6]);
    expect(t.evaluationPending).toBe(true);
    expect(t.status).toBe('idle'); // not 'done': the last epoch has no evaluation yet
    await t.start();
    expect(epochs.map((e) => e.step)).toEqual([6, 12]);
    expect(t.status).toBe('done');
  });
});
