/**
 * The trainer's API as the ecosystem shapes it (comlink, piscina, tfjs, streams): AbortSignal on
 * start, runSteps, evaluate and sample; events() as an async iterator; Symbol.asyncDispose; and
 * dispose() that resolves when the workers are gone. Real worker_threads, real WASM, real digits.
 */
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import { Trainer } from '../../src/main/trainer.ts';
import { nodeSpawner } from '../../src/main/pool/spawn_node.ts';
import type { Spawner } from '../../src/main/pool/spawner.ts';
import type { TrainConfig } from '../../src/shared/training/config.ts';
import type { DataSplit } from '../../src/shared/data/dataset.ts';
import { mnistSubset } from '../helpers/mnist_subset.ts';

let data: DataSplit;
const open: Trainer[] = [];
const base: Partial<TrainConfig> = {
  hidden: 32,
  latent: 4,
  batch: 30,
  optimizer: 'adam',
  lr: 1e-3,
  init: 'pytorch',
  epochs: 2,
  evalElboSamples: 1,
};

/** A trainer on 2 workers; `deaths` counts workers that have exited. */
async function make(over: Partial<TrainConfig> = {}) {
  const deaths = { n: 0 };
  const spawn: Spawner = (rank) => {
    const w = nodeSpawner()(rank);
    w.onDeath(() => {
      deaths.n++;
    });
    return w;
  };
  const t = await Trainer.create({ data, config: { ...base, ...over }, workers: 2 }, spawn, 2);
  open.push(t);
  return { t, deaths };
}

beforeAll(() => {
  data = mnistSubset(300, 60);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.dispose()));
});

describe('AbortSignal', () => {
  it('an aborted runSteps rejects with the reason and leaves the model at a committed step, from which training goes on', async () => {
    const { t } = await make({ epochs: 1000 });
    const ac = new AbortController();
    const off = t.on('progress', () => {
      off();
      ac.abort(new Error('enough'));
    });
    await expect(t.runSteps(100_000, { signal: ac.signal })).rejects.toThrow('enough');
    const at = t.step;
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(100_000);
    expect((await t.state()).step).toBe(at);
    const reloaded = await Trainer.create(
      { data, config: { ...base, epochs: 1000 }, workers: 2, checkpoint: await t.saveCheckpoint() },
      nodeSpawner(),
      2,
    );
    open.push(reloaded);
    expect(reloaded.step).toBe(at);
    await t.runSteps(3);
    expect(t.step).toBe(at + 3);
  });

  it('start() stops at the abort and rejects; evaluate() and sample() refuse an aborted signal', async () => {
    const { t } = await make({ epochs: 1000 });
    const ac = new AbortController();
    const off = t.on('progress', (p) => {
      if (p.step >= 4) {
        off();
        ac.abort();
      }
    });
    await expect(t.start({ signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(t.status).toBe('idle');
    const done = AbortSignal.abort(new Error('no'));
    await expect(t.evaluate({ signal: done })).rejects.toThrow('no');
    await expect(t.sample(2, 1, { signal: done })).rejects.toThrow('no');
    await expect(t.runSteps(1, { signal: done })).rejects.toThrow('no');
    expect((await t.evaluate({ train: false, signal: new AbortController().signal })).testElbo).toBeLessThan(0);
    // Not a signal: an AevbError ARGUMENT before anything runs.
    expect(() => t.start({ signal: 'soon' as never })).toThrow(/"signal" of start\(\) is not an AbortSignal/);
    await expect(t.runSteps(1, { signal: {} as never })).rejects.toMatchObject({ code: 'ARGUMENT' });
    expect(() => t.events(null as never)).toThrow(/events\(options\) was given null/);
  });
});

describe('events()', () => {
  it('iterates every event in order, discriminated by type', async () => {
    const { t } = await make();
    const run = t.start();
    const seen: string[] = [];
    let epochs = 0;
    for await (const e of t.events()) {
      seen.push(e.type);
      if (e.type === 'epoch') epochs = e.data.epoch;
      if (e.type === 'status' && e.data === 'done') break;
    }
    await run;
    expect(seen).toContain('progress');
    expect(seen.filter((s) => s === 'epoch')).toHaveLength(2);
    expect(epochs).toBe(2);
    expect(seen[seen.length - 1]).toBe('status');
  });

  it('ends when the trainer is disposed or the signal aborts', async () => {
    const { t } = await make();
    const ac = new AbortController();
    const a = t.events(),
      b = t.events({ signal: ac.signal });
    ac.abort();
    expect(await b.next()).toEqual({ value: undefined, done: true });
    await t.dispose();
    const items = [];
    for await (const e of a) items.push(e);
    expect(items).toEqual([{ type: 'status', data: 'disposed' }]);
    expect(await t.events().next()).toEqual({ value: undefined, done: true }); // after dispose: empty
  });
});

describe('dispose', () => {
  it('resolves when every worker is gone, and await using disposes', async () => {
    const { t, deaths } = await make();
    await t.runSteps(2);
    await t.dispose();
    expect(deaths.n).toBe(2);
    expect(t.status).toBe('disposed');

    const made = await make();
    {
      await using u = made.t;
      await u.runSteps(1);
    }
    expect(made.t.status).toBe('disposed');
    expect(made.deaths.n).toBe(2);
  });
});
