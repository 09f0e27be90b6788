/**
 * What a transport does for the pool: where the state lives and how a request of steps reaches
 * the workers. shared_transport.ts (one shared memory; the workers step among themselves) or
 * message_transport.ts (θ and gradients as messages; the coordinator updates); both keep the
 * state in a memory of the same layout, so the coordinator reads and writes it alike.
 */
import type { PoolMemory, PoolMemorySpec } from '../../shared/runtime/shared_memory.ts';
import type { WorkerInit } from '../../shared/runtime/protocol.ts';
import type { UpdateKernel } from '../../kernels/update_kernel.ts';
import type { StepsReport } from './pool_report.ts';
import type { Supervisor } from './supervisor.ts';

/** The state's sizes, which both transports' memories are laid out by. */
export type StateSizes = Pick<PoolMemorySpec, 'workers' | 'paramCount' | 'slotCount' | 'mirrorSize'>;

export interface StepTransport {
  /** Both state copies and N gradient slots (shared path: the datasets too, beside them). */
  readonly mem: PoolMemory;
  /** The update kernels on `mem`: the message path's update, and on both the mirror of a state the coordinator writes. */
  readonly kernel: UpdateKernel;
  /** What a worker's init carries for this transport: the shared memory, or the worker's own copies of the datasets. */
  readonly workerData: Pick<WorkerInit, 'memory' | 'trainX' | 'testX'>;
  /** θ for a read call (evaluation, encode, decode): null ("the committed shared state") or a copy. */
  paramsArg(): Float32Array | null;
  /** Steps [start, start + count) with workers 0 .. active − 1: what was committed and what failed. */
  runSteps(crew: Supervisor, start: number, count: number, active: number): Promise<StepsReport>;
}
