/**
 * The thread boundary, checked at compile time (tsc runs in `npm test`) and at run time:
 * the worker object satisfies WorkerApi, and what crosses is structured-cloneable.
 */
import { describe, it, expect, expectTypeOf } from 'vitest';
import type { Remote } from 'comlink';
import { createWorkerApi } from '../../src/workers/worker_core.ts';
import type { RunReport, WorkerApi, WorkerInit, GradientReply } from '../../src/shared/runtime/protocol.ts';
import { resolveConfig } from '../../src/shared/training/config.ts';
import { allocatePoolMemory } from '../../src/shared/runtime/shared_memory.ts';

describe('worker protocol', () => {
  it('the worker object is exactly the WorkerApi, and comlink wraps it to promises', () => {
    const api = createWorkerApi(async () => ({ backend: 'wasm', simd: true, threads: false }));
    expectTypeOf(api).toEqualTypeOf<WorkerApi>();
    expectTypeOf<Remote<WorkerApi>['runSteps']>().returns.toEqualTypeOf<Promise<RunReport>>();
    expectTypeOf<Remote<WorkerApi>['gradient']>().returns.toEqualTypeOf<Promise<GradientReply>>();
    expectTypeOf<WorkerInit['transport']>().toEqualTypeOf<'shared' | 'message'>();
  });

  it('an init message survives structuredClone with its shared buffers still shared', () => {
    const config = resolveConfig({ hidden: 4, latent: 2, inputSize: 6 });
    const mem = allocatePoolMemory({
      workers: 2,
      paramCount: 10,
      slotCount: 1,
      mirrorSize: 0,
      maxSteps: 4,
      trainLength: 12,
      testLength: 6,
    });
    const init: WorkerInit = {
      rank: 1,
      workers: 2,
      config,
      transport: 'shared',
      train: { name: 'a', n: 2, d: 6 },
      test: { name: 'b', n: 1, d: 6 },
      memory: { buffers: mem.buffers, spec: mem.spec },
      valueEvery: 10,
    };
    const copy = structuredClone(init);
    expect(copy.config).toEqual(config);
    // The clone is the same shared WebAssembly.Memory, and the datasets' buffers stay shared.
    expect(copy.memory!.buffers.memory).toBeInstanceOf(WebAssembly.Memory);
    expect(copy.memory!.buffers.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(copy.memory!.buffers.train).toBeInstanceOf(SharedArrayBuffer);
    new Float32Array(copy.memory!.buffers.memory.buffer, mem.state(0).ptr.params, 10)[3] = 42;
    expect(mem.state(0).params[3]).toBe(42);
  });

  it('a worker that was not initialised says so', async () => {
    const api = createWorkerApi(async () => ({ backend: 'wasm', simd: true, threads: false }));
    await expect(api.runSteps(0, 1, 1, false)).rejects.toThrow(/not initialised.*init\(\)/);
  });
});
