/**
 * Trying to break the kernel gradient's engine (AevbStepGradient on a memory), both WASM builds:
 *   - θ and the slot as views of the kernels' memory (used in place) or as plain arrays (copied in and out),
 *     on a shared memory (the shared module) or an ordinary one: the same bits;
 *   - every region guarded by sentinels, the scratch and the slot filled with NaN before the call: nothing
 *     outside the slot and the scratch is written, θ keeps its bits, nothing is read before it is written;
 *   - a second call, and a call after another shard, give the same bits (no state left behind);
 *   - two engines on one shared memory, each with its own slot and scratch, in two real worker_threads at once:
 *     the bits one thread computes alone.
 */
import { describe, it, expect } from 'vitest';
import { Worker } from 'node:worker_threads';
import type { TrainConfig } from '../../src/shared/training/config.ts';
import type { ParamLayout } from '../../src/shared/model/layout.ts';
import { AevbStepGradient } from '../../src/shared/model/aevb_step_gradient.ts';
import { scratchPlan } from '../../src/shared/model/kernel_gradient.ts';
import { stepKernelFactory } from '../../src/shared/model/step_kernels.ts';
import type { KernelBuild } from '../../src/kernels/step_kernel.ts';
import { edgeFixture, WASM_BUILDS } from '../helpers/kernel_engines.ts';
import { SENTINEL, sameBits } from '../helpers/step_arena.ts';
import type { EngineJob } from '../helpers/kernel_engine_worker.ts';

const GUARD = 9; // floats of sentinel around every region

/** θ, then per engine a slot and a scratch, each between guards, at offsets ≡ 4 (mod 16) (not vector-aligned). */
function guardedMemory(layout: ParamLayout, cfg: TrainConfig, engines: number, shared: boolean) {
  const scratchBytes = scratchPlan(cfg).bytes;
  let top = 64 + 4;
  const guards: Array<[number, number]> = [];
  const take = (bytes: number) => {
    guards.push([top, top + 4 * GUARD]);
    const at = top + 4 * GUARD;
    top = Math.ceil((at + bytes + 4 * GUARD) / 16) * 16 + 4;
    guards.push([at + bytes, at + bytes + 4 * GUARD]);
    return at;
  };
  const params = take(layout.size * 4);
  const regions = Array.from({ length: engines }, () => ({ grad: take(layout.size * 4), scratch: take(scratchBytes) }));
  const pages = Math.ceil(top / 65536) + 1;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, ...(shared ? { shared: true } : {}) });
  const f = new Float32Array(memory.buffer);
  for (const [a, b] of guards) f.fill(SENTINEL, a / 4, b / 4);
  for (const r of regions) {
    f.fill(NaN, r.grad / 4, r.grad / 4 + layout.size);
    f.fill(NaN, r.scratch / 4, (r.scratch + scratchBytes) / 4);
  }
  return {
    memory,
    params,
    regions,
    view: (at: number) => new Float32Array(memory.buffer, at, layout.size),
    guardsIntact: () => guards.every(([a, b]) => f.subarray(a / 4, b / 4).every((v) => v === SENTINEL)),
  };
}

const CONFIGS: Array<[Partial<TrainConfig>, number]> = [
  [{}, 9],
  [{ decoder: 'gaussian', estimator: 'A', samples: 300, hidden: 13 }, 3],
  [{ hidden: [5, 1, 3], activation: ['relu', 'tanh', 'linear'], samples: 3, inputSize: 17 }, 130],
];

describe('the kernel engine on a memory', () => {
  for (const build of WASM_BUILDS) {
    for (const shared of [true, false]) {
      it(`${build}, ${shared ? 'shared' : 'ordinary'} memory: views used in place give the bits of copied arrays; nothing outside the slot and scratch is written; a second call repeats`, () => {
        for (const [over, B] of CONFIGS) {
          const { cfg, layout, params, shard, part } = edgeFixture(over, B);
          const what = JSON.stringify(over);
          // Copied: plain arrays, the engine's own memory.
          const copied = new AevbStepGradient(cfg, layout, stepKernelFactory(build));
          const want = new Float32Array(layout.size);
          const vWant = copied.compute(params, shard, want, true);
          // In place: views of a guarded memory.
          const m = guardedMemory(layout, cfg, 1, shared);
          const theta = m.view(m.params),
            slot = m.view(m.regions[0].grad);
          theta.set(params);
          const engine = new AevbStepGradient(cfg, layout, stepKernelFactory(build), { memory: m.memory, scratch: m.regions[0].scratch });
          const v = engine.compute(theta, shard, slot, true);
          expect(sameBits(slot, want), `${what}: in place = copied`).toBe(true);
          expect(v, what).toEqual(vWant);
          expect(m.guardsIntact(), `${what}: guards`).toBe(true);
          expect(sameBits(theta, params), `${what}: θ unchanged`).toBe(true);
          // Again, and after another shard (on both engines): the same bits.
          engine.compute(theta, part(0, 1), slot, false);
          copied.compute(params, part(1, 2), new Float32Array(layout.size), true);
          expect(engine.compute(theta, shard, slot, true), what).toEqual(vWant);
          expect(sameBits(slot, want), `${what}: a later call`).toBe(true);
          const again = new Float32Array(layout.size).fill(NaN);
          copied.compute(params, shard, again, true);
          expect(sameBits(again, want), `${what}: a later copied call`).toBe(true);
          expect(m.guardsIntact(), `${what}: guards after the later calls`).toBe(true);
        }
      });
    }
  }
});

/**
 * θ, the slot and the scratch packed with no gap, the last of them flush with the memory's end (a read of a
 * row's last vector past its valid lanes would trap there: RangeError, out of bounds).
 */
describe('regions flush with the end of the memory', () => {
  for (const build of WASM_BUILDS) {
    it(`${build}: no access past the end, whichever region is last; the bits of the copied engine`, () => {
      for (const [over, B] of CONFIGS) {
        const { cfg, layout, params, shard } = edgeFixture(over, B);
        const want = new Float32Array(layout.size);
        new AevbStepGradient(cfg, layout, stepKernelFactory(build)).compute(params, shard, want, true);
        const P = layout.size * 4,
          S = scratchPlan(cfg).bytes;
        const pages = Math.ceil((2 * P + S) / 65536) + 1,
          end = pages * 65536;
        // Each order of the three regions, packed backwards from the end (θ, slot: 4-byte aligned only).
        for (const order of [
          ['params', 'grad', 'scratch'],
          ['scratch', 'params', 'grad'],
          ['grad', 'scratch', 'params'],
        ]) {
          const size: Record<string, number> = { params: P, grad: P, scratch: S };
          const at: Record<string, number> = {};
          let top = end;
          for (const r of [...order].reverse()) {
            top -= size[r];
            at[r] = top;
          }
          const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
          const theta = new Float32Array(memory.buffer, at.params, layout.size),
            slot = new Float32Array(memory.buffer, at.grad, layout.size);
          theta.set(params);
          new AevbStepGradient(cfg, layout, stepKernelFactory(build), { memory, scratch: at.scratch }).compute(theta, shard, slot, true);
          expect(sameBits(slot, want), `${JSON.stringify(over)}, ${order.join(' | ')} | end`).toBe(true);
        }
      }
    });
  }
});

/**
 * The scratch is planned from the config's L (scratchPlan): a shard drawn with another L has chunks of other
 * sizes (chunkPoints(L) datapoints of L rows), which do not fit it. Computing anyway would write past arrays of
 * the plan (into the next ones, or past the scratch into a neighbour's region): it must be refused before
 * anything is written.
 */
describe("a shard whose L is not the config's", () => {
  for (const build of WASM_BUILDS) {
    it(`${build}: refused with an AevbError before anything is written`, () => {
      for (const [over, L, B] of [
        [{ samples: 2 }, 1, 100],
        [{ samples: 129 }, 200, 2],
        [{ samples: 3, decoder: 'gaussian' }, 7, 20],
      ] as const) {
        const { cfg, layout, params } = edgeFixture(over, B);
        const { shard } = edgeFixture({ ...over, samples: L }, B);
        const m = guardedMemory(layout, cfg, 1, true);
        const theta = m.view(m.params),
          slot = m.view(m.regions[0].grad);
        theta.set(params);
        const engine = new AevbStepGradient(cfg, layout, stepKernelFactory(build), { memory: m.memory, scratch: m.regions[0].scratch });
        let error: unknown = null;
        try {
          engine.compute(theta, shard, slot, true);
        } catch (e) {
          error = e;
        }
        expect(error, `config L ${over.samples}, shard L ${L}`).toMatchObject({
          code: 'ARGUMENT',
          message: expect.stringMatching(/L = samples/),
        });
        expect(m.guardsIntact(), `config L ${over.samples}, shard L ${L}: guards`).toBe(true);
        expect(
          slot.every((g) => Number.isNaN(g)),
          'the slot is untouched',
        ).toBe(true);
      }
    });
  }
});

const bootstrap = new URL('../../src/workers/node_dev_bootstrap.mjs', import.meta.url);
const entry = new URL('../helpers/kernel_engine_worker.ts', import.meta.url);

/** Each job in its own worker_thread, all released at once; their reports. */
async function runThreads(jobs: Array<Omit<EngineJob, 'start'>>): Promise<Array<{ elbo: number; build: KernelBuild }>> {
  const start = new SharedArrayBuffer(8),
    flag = new Int32Array(start);
  const workers = jobs.map((job) => new Worker(bootstrap, { workerData: { aevbEntry: entry.href, job: { ...job, start } } }));
  try {
    const done = workers.map(
      (w) =>
        new Promise<{ elbo: number; build: KernelBuild }>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        }),
    );
    while (Atomics.load(flag, 1) < jobs.length) await new Promise((r) => setImmediate(r)); // errors arrive meanwhile
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    return await Promise.all(done);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

describe('two kernel engines on one shared memory, in two worker_threads at once', () => {
  for (const build of WASM_BUILDS) {
    it(`${build}: each slot holds the bits one thread computes alone; θ and every guard intact`, async () => {
      const over: Partial<TrainConfig> = {
        hidden: [9, 5],
        activation: ['tanh', 'relu'],
        samples: 2,
        decoder: 'gaussian',
        estimator: 'A',
        inputSize: 13,
      };
      const B = 150,
        split = 71; // shards of 71 and 79 points: 2 chunks of 64 each and a tail
      const { cfg, layout, params, part } = edgeFixture(over, B);
      // One thread: both shards in turn, each engine on its own region, on a fresh memory.
      const one = guardedMemory(layout, cfg, 2, true);
      one.view(one.params).set(params);
      const want = [
        [0, split],
        [split, B],
      ].map(([lo, hi], t) => {
        const r = one.regions[t];
        const e = new AevbStepGradient(cfg, layout, stepKernelFactory(build), { memory: one.memory, scratch: r.scratch });
        return { elbo: e.compute(one.view(one.params), part(lo, hi), one.view(r.grad), true).elbo, grad: one.view(r.grad).slice() };
      });
      // Two threads at once.
      const two = guardedMemory(layout, cfg, 2, true);
      two.view(two.params).set(params);
      const reports = await runThreads(
        [
          [0, split],
          [split, B],
        ].map(([lo, hi], t) => ({
          memory: two.memory,
          build,
          over,
          B,
          lo,
          hi,
          params: two.params,
          grad: two.regions[t].grad,
          scratch: two.regions[t].scratch,
        })),
      );
      reports.forEach((r, t) => {
        expect(r.build).toBe(build);
        expect(r.elbo, `thread ${t}: ELBO`).toBe(want[t].elbo);
        expect(sameBits(two.view(two.regions[t].grad), want[t].grad), `thread ${t}: slot`).toBe(true);
      });
      expect(sameBits(two.view(two.params), params)).toBe(true);
      expect(two.guardsIntact()).toBe(true);
      expect(one.guardsIntact()).toBe(true);
    });
  }
});
