/**
 * A pool worker for the fault tests (test/helpers/faults.ts spawns it in a real worker_thread):
 * the product's worker — createWorkerApi of src/workers/worker_core.ts on TF.js WASM, as
 * src/workers/node_entry.ts sets it up — with a fault plan the test sets over the same comlink
 * endpoint (FaultControl). At a planned point it ends its thread with process.exit(70), which in a
 * worker_thread ends that thread only: the coordinator sees a real thread end, as after a crash.
 *
 * Where the faults sit, with nothing of them in the product:
 *   { step: s }   in the update phase of step s: after the update kernels wrote this worker's slice
 *                 of the uncommitted state copy, before the second barrier (the update kernels are
 *                 the real ones, wrapped through createWorkerApi's StepParts); on the message path,
 *                 in its gradient call for step s.
 *   { call: c }   at the start of this worker's next call of kind c.
 *   nanAt: s      its gradient of step s gets a NaN (the real gradient engine, wrapped the same way).
 *   stallAt: s    it stops at the start of step s's gradient (the others wait at the barrier) and
 *                 says so in `stalled`, so that the test can end the thread from outside mid-request.
 */
import { parentPort } from 'node:worker_threads';
import { createRequire } from 'node:module';
import path from 'node:path';
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { createWorkerApi, stepParts, type StepParts } from '../../src/workers/worker_core.ts';
import { setupBackend } from '../../src/workers/backend_setup.ts';
import { useAevbErrorTransfer } from '../../src/shared/runtime/wire_errors.ts';
import { UpdateKernel, type KernelUpdate } from '../../src/kernels/update_kernel.ts';
import type { WorkerApi } from '../../src/shared/runtime/protocol.ts';

/** Where a worker ends itself (see the top of this file). */
export type DeathPoint = { step: number } | { call: 'evaluateElbo' | 'evaluateLogLikelihood' | 'encode' | 'decode' };

export interface FaultPlan {
  die?: DeathPoint;
  /** The step whose gradient gets a NaN. */
  nanAt?: number;
  /** The step at whose gradient the worker stops until its thread is ended; it then sets stalled[0] to 1 (shared). */
  stallAt?: number;
  stalled?: Int32Array;
}

/** What this worker exposes besides WorkerApi: the test sets the plan between calls. */
export interface FaultControl {
  plan(p: FaultPlan): Promise<void>;
}

const plan: FaultPlan = {};
/** The step whose gradient the engine computes next (runSteps and gradient set it), and the last one it computed. */
let next = 0,
  current = -1;

const crash = (): never => process.exit(70);
const diesAtStep = (s: number) => plan.die !== undefined && 'step' in plan.die && plan.die.step === s;
const dieAtCall = (call: string) => {
  if (plan.die !== undefined && 'call' in plan.die && plan.die.call === call) crash();
};

/** The real update kernels; in the planned step's update phase the thread ends once its slice is written. */
class DyingUpdate extends UpdateKernel {
  override update(u: KernelUpdate): boolean {
    const finite = super.update(u);
    if (diesAtStep(current)) crash();
    return finite;
  }
}

const parts: StepParts = {
  gradient(...args) {
    const engine = stepParts.gradient(...args);
    return {
      kernels: engine.kernels,
      get copyTimes() {
        return engine.copyTimes;
      },
      compute(params, shard, out, withValue, mirror) {
        current = next++;
        if (current === plan.stallAt && plan.stalled) {
          Atomics.store(plan.stalled, 0, 1);
          Atomics.notify(plan.stalled, 0);
          Atomics.wait(plan.stalled, 0, 1); // until the thread is ended
        }
        const v = engine.compute(params, shard, out, withValue, mirror);
        if (current === plan.nanAt) out[0] = NaN;
        return v;
      },
      dispose: () => engine.dispose(),
    };
  },
  update: (memory) => new DyingUpdate(memory),
};

const wasmDir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
useAevbErrorTransfer();
const api = createWorkerApi((paths) => setupBackend('wasm', (paths as string | undefined) ?? wasmDir), parts);

const worker: WorkerApi & FaultControl = {
  ...api,
  runSteps(start, count, active, spin) {
    next = start;
    return api.runSteps(start, count, active, spin);
  },
  gradient(params, step, active) {
    if (diesAtStep(step)) crash();
    next = step;
    return api.gradient(params, step, active);
  },
  evaluateElbo(...a) {
    dieAtCall('evaluateElbo');
    return api.evaluateElbo(...a);
  },
  evaluateLogLikelihood(...a) {
    dieAtCall('evaluateLogLikelihood');
    return api.evaluateLogLikelihood(...a);
  },
  encode(...a) {
    dieAtCall('encode');
    return api.encode(...a);
  },
  decode(...a) {
    dieAtCall('decode');
    return api.decode(...a);
  },
  async plan(p) {
    Object.assign(plan, p);
  },
};
expose(worker, nodeEndpoint(parentPort as never));
