/**
 * A worker_thread for the step kernels' thread test: binds StepKernel to the shared memory it is given and
 * runs a list of GEMM / epilogue calls on it (disjoint outputs from the other threads'), then reports.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { StepKernel, type KernelBuild } from '../../src/kernels/step_kernel.ts';

/** One call: a StepKernel method's name and its arguments. */
export type StepCall = [method: 'gemmNT' | 'gemmNN' | 'gemmTN' | 'biasAct' | 'actGrad' | 'colSum' | 'bernoulliHead', args: unknown[]];

export interface StepJob {
  memory: WebAssembly.Memory;
  build: KernelBuild;
  calls: StepCall[];
  /** Int32 [go, ready]: each thread counts itself into ready, then waits for the test to raise go, so all start at once. */
  start: SharedArrayBuffer;
}

const job = workerData.job as StepJob;
const kernel = new StepKernel(job.memory, job.build);
const flag = new Int32Array(job.start);
Atomics.add(flag, 1, 1); // one more thread ready (the test polls this count)
Atomics.wait(flag, 0, 0); // released by the test once every thread is ready
const values = job.calls.map(([m, args]) => (kernel[m] as (...a: unknown[]) => unknown)(...args));
parentPort!.postMessage({ values, build: kernel.build });
