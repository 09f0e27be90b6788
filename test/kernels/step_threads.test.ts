/**
 * The step kernels on one shared WebAssembly.Memory from several real worker_threads at once, each writing
 * its own outputs (as a pool's workers do with their shards' activations and gradient slots): the bytes are
 * those one thread writes alone. Both builds.
 */
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { StepKernel, type KernelBuild } from '../../src/kernels/step_kernel.ts';
import { Arena, RELAXED_AVAILABLE, randomF32, sameBits } from '../helpers/step_arena.ts';
import type { StepCall, StepJob } from '../helpers/step_worker.ts';

const bootstrap = new URL('../../src/workers/node_dev_bootstrap.mjs', import.meta.url);
const entry = new URL('../helpers/step_worker.ts', import.meta.url);

/** A shard's forward and backward through one layer, on a weight W [H, D] every thread reads. */
function plan(arena: Arena, threads: number) {
  const D = 784,
    H = 500,
    B = 7;
  const W = arena.alloc(H * D, randomF32(H * D, 1, -0.05, 0.05)),
    b = arena.alloc(H, randomF32(H, 2));
  const outputs: Array<[number, number]> = [];
  const calls: StepCall[][] = [];
  for (let t = 0; t < threads; t++) {
    const X = arena.alloc(B * D, randomF32(B * D, 10 + t, 0, 1));
    const A = arena.alloc(B * H),
      G = arena.alloc(B * H, randomF32(B * H, 20 + t)),
      dX = arena.alloc(B * D);
    const gW = arena.alloc(H * D, randomF32(H * D, 30 + t)),
      gb = arena.alloc(H);
    const Lg = arena.alloc(B * D, randomF32(B * D, 40 + t, -5, 5));
    outputs.push([A, B * H], [G, B * H], [dX, B * D], [gW, H * D], [gb, H], [Lg, B * D]);
    calls.push([
      ['gemmNT', [B, H, D, X, D, W, D, A, H, false]],
      ['biasAct', [B, H, A, H, b, 'tanh']],
      ['actGrad', [B, H, G, H, A, H, 'tanh']],
      ['gemmNN', [B, D, H, G, H, W, D, dX, D, false]],
      ['gemmTN', [H, D, B, G, H, X, D, gW, D, true]],
      ['colSum', [B, H, G, H, gb, false]],
      ['bernoulliHead', [B, D, Lg, D, X, D, -0.01, true]],
    ]);
  }
  return { outputs, calls };
}

function snapshot(arena: Arena, outputs: Array<[number, number]>): Float32Array[] {
  return outputs.map(([p, n]) => arena.view(p, n).slice());
}

async function runThreads(arena: Arena, build: KernelBuild, calls: StepCall[][]): Promise<unknown[][]> {
  const start = new SharedArrayBuffer(8);
  const flag = new Int32Array(start);
  const workers = calls.map(
    (c) =>
      new Worker(bootstrap, {
        workerData: { aevbEntry: entry.href, job: { memory: arena.memory, build, calls: c, start } satisfies StepJob },
      }),
  );
  try {
    const ready = workers.map(
      (w) =>
        new Promise<{ values: unknown[]; build: KernelBuild }>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        }),
    );
    // Every thread counted in (and about to wait), then release them together.
    while (Atomics.load(flag, 1) < calls.length) await new Promise((r) => setImmediate(r)); // the event loop delivers errors meanwhile
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    const reports = await Promise.all(ready);
    for (const r of reports) expect(r.build).toBe(build);
    return reports.map((r) => r.values);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

describe('step kernels from several threads on one shared memory', () => {
  for (const build of ['relaxed', 'simd128'] as KernelBuild[]) {
    it.skipIf(build === 'relaxed' && !RELAXED_AVAILABLE)(`${build}: 3 threads, disjoint outputs, the bytes of one thread`, async () => {
      const THREADS = 3;
      // One thread, all three shards in turn.
      const one = new Arena(true, 512);
      const p1 = plan(one, THREADS);
      const k = new StepKernel(one.memory, build);
      const values1 = p1.calls.map((cs) => cs.map(([m, args]) => (k[m] as (...a: unknown[]) => unknown)(...args)));
      const want = snapshot(one, p1.outputs);
      // Three threads at once on a fresh memory with the same inputs.
      const many = new Arena(true, 512);
      const p3 = plan(many, THREADS);
      const values3 = await runThreads(many, build, p3.calls);
      const got = snapshot(many, p3.outputs);
      got.forEach((g, i) => expect(sameBits(g, want[i]), `output ${i}`).toBe(true));
      expect(values3).toEqual(values1);
      expect(many.guardsIntact()).toBe(true);
    });
  }
});
