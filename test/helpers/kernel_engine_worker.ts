/**
 * A worker_thread for the kernel engine's thread test: one AevbStepGradient on the shared memory it is given
 * (θ and its own gradient slot and scratch there, as a pool worker has), computing one part of a shard of
 * edgeFixture's, started together with the other threads.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { TrainConfig } from '../../src/shared/training/config.ts';
import { AevbStepGradient } from '../../src/shared/model/aevb_step_gradient.ts';
import { stepKernelFactory } from '../../src/shared/model/step_kernels.ts';
import type { KernelBuild } from '../../src/kernels/step_kernel.ts';
import { edgeFixture } from './kernel_engines.ts';

export interface EngineJob {
  memory: WebAssembly.Memory;
  build: KernelBuild;
  over: Partial<TrainConfig>;
  /** The fixture's shard size, and this thread's datapoints [lo, hi) of it. */
  B: number;
  lo: number;
  hi: number;
  /** Byte offsets of θ, this thread's slot and its scratch. */
  params: number;
  grad: number;
  scratch: number;
  /** Int32 [go, ready]: count in, wait for go (as step_worker.ts). */
  start: SharedArrayBuffer;
}

const job = workerData.job as EngineJob;
const { cfg, layout, part } = edgeFixture(job.over, job.B);
const engine = new AevbStepGradient(cfg, layout, stepKernelFactory(job.build), { memory: job.memory, scratch: job.scratch });
const shard = part(job.lo, job.hi);
const params = new Float32Array(job.memory.buffer, job.params, layout.size);
const grad = new Float32Array(job.memory.buffer, job.grad, layout.size);
const flag = new Int32Array(job.start);
Atomics.add(flag, 1, 1); // one more thread ready (the test polls this count)
Atomics.wait(flag, 0, 0); // released by the test once every thread is ready
const v = engine.compute(params, shard, grad, true);
parentPort!.postMessage({ elbo: v.elbo, build: engine.build });
