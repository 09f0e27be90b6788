/**
 * Faults for the pool tests, from outside the product: a spawner that starts the pool's workers
 * from the test worker entry fault_worker.ts (the real worker core in a real worker_thread, with a
 * fault plan), and keeps each rank's newest worker so a test can
 *   terminate(rank)      end its thread now, as a crash would (worker_threads' terminate);
 *   dieAt(rank, point)   make it end its thread itself (process.exit) at a step's update phase or at its next call of a kind;
 *   nanAt(rank, step)    make its gradient of a step not finite;
 *   stallAt(rank, step)  make it stop at the start of a step (the request then waits on it), and
 *   stalled(rank)        resolve once it has: a test then ends its thread mid-request with terminate.
 * Pass `spawn` to Trainer.create (or WorkerPool.create); a replacement worker starts with no plan.
 */
import { wrap, type Remote } from 'comlink';
import { nodeSpawner } from '../../src/main/pool/spawn_node.ts';
import type { Spawner, SpawnedWorker } from '../../src/main/pool/spawner.ts';
import type { DeathPoint, FaultControl } from './fault_worker.ts';

export type { DeathPoint } from './fault_worker.ts';

export interface Faults {
  readonly spawn: Spawner;
  terminate(rank: number): Promise<void>;
  dieAt(rank: number, at: DeathPoint): Promise<void>;
  nanAt(rank: number, step: number): Promise<void>;
  stallAt(rank: number, step: number): Promise<void>;
  stalled(rank: number): Promise<void>;
}

/** Atomics.waitAsync (Node ≥ 16; not in the ES2022 lib's types). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: unknown } }).waitAsync;

export function faultySpawner(): Faults {
  const node = nodeSpawner(new URL('./fault_worker.ts', import.meta.url));
  // The fault plan goes over the worker's own endpoint, beside the pool's proxy (comlink matches
  // replies by id). This proxy is never released: releasing one would close the worker's side for both.
  const newest = new Map<number, { handle: SpawnedWorker; control: Remote<FaultControl>; stalled?: Int32Array }>();
  const of = (rank: number) => {
    const w = newest.get(rank);
    if (!w) throw new Error(`no worker ${rank} was spawned`);
    return w;
  };
  return {
    spawn(rank) {
      const handle = node(rank);
      newest.set(rank, { handle, control: wrap<FaultControl>(handle.endpoint) });
      return handle;
    },
    terminate: (rank) => of(rank).handle.terminate(),
    dieAt: (rank, at) => of(rank).control.plan({ die: at }),
    nanAt: (rank, step) => of(rank).control.plan({ nanAt: step }),
    stallAt(rank, step) {
      const w = of(rank);
      w.stalled = new Int32Array(new SharedArrayBuffer(4));
      return w.control.plan({ stallAt: step, stalled: w.stalled });
    },
    async stalled(rank) {
      const cell = of(rank).stalled;
      if (!cell) throw new Error(`worker ${rank} was not told to stall`);
      const r = waitAsync(cell, 0, 0);
      if (r.async) await r.value;
    },
  };
}
