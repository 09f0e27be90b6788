/**
 * The shared-memory transport (SharedArrayBuffer available): the datasets and the state live once
 * in memory every worker maps, and a request of K steps is one message per worker; inside those K
 * steps the workers synchronise among themselves with Atomics (worker_core.ts runSteps) and no
 * message crosses threads. The coordinator only awaits promises, so a page's main thread never blocks.
 *
 * After a request, the steps the workers committed are read from the results table; a worker that
 * died or threw aborted the rest (ABORT releases the others from the barrier) and is replaced, and
 * the caller continues from the committed step.
 */
import type { DataSplit } from '../../shared/data/dataset.ts';
import { stateError } from '../../shared/errors.ts';
import { commitStep, raiseAbort, readCommit, resetBarrier } from '../../shared/runtime/barrier.ts';
import type { PhaseTimes } from '../../shared/runtime/protocol.ts';
import { allocatePoolMemory, hasSharedMemory, type PoolMemory, Result } from '../../shared/runtime/shared_memory.ts';
import { UpdateKernel } from '../../kernels/update_kernel.ts';
import { nonFiniteFailure, type PoolFailure, type StepOutcome, type StepsReport } from './pool_report.ts';
import type { StateSizes, StepTransport } from './step_transport.ts';
import type { Supervisor } from './supervisor.ts';

const NO_TIMES: PhaseTimes = { shard: 0, upload: 0, gradient: 0, readout: 0, wait1: 0, update: 0, wait2: 0 };

export class SharedTransport implements StepTransport {
  readonly mem: PoolMemory;
  readonly kernel: UpdateKernel;

  /** `scratchBytes`: each worker's region for aevb's kernels; `cores`: workers spin briefly at barriers only when active ≤ cores. */
  constructor(
    sizes: StateSizes,
    scratchBytes: number,
    maxSteps: number,
    data: DataSplit,
    private readonly cores: number,
  ) {
    if (!hasSharedMemory()) {
      throw stateError(
        'SharedArrayBuffer is not available here (the page is not cross-origin isolated).',
        'Serve the page with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, or use transport "message".',
      );
    }
    this.mem = allocatePoolMemory({
      ...sizes,
      scratchBytes,
      maxSteps,
      trainLength: data.train.x.length,
      testLength: data.test.x.length,
    });
    this.mem.train.set(data.train.x);
    this.mem.test.set(data.test.x);
    this.kernel = new UpdateKernel(this.mem.buffers.memory);
  }

  get workerData() {
    return { memory: { buffers: this.mem.buffers, spec: this.mem.spec } };
  }

  paramsArg(): null {
    return null;
  }

  async runSteps(crew: Supervisor, start: number, count: number, active: number): Promise<StepsReport> {
    const mem = this.mem;
    const failures: PoolFailure[] = [];
    // A worker that died while idle raised ABORT; replace it first, then clear ABORT (no worker is
    // inside a request now, and a death from here on raises it again, after this clear).
    await crew.replaceDead(start, failures);
    resetBarrier(mem.ctrl);
    commitStep(mem.ctrl, readCommit(mem.ctrl).cur, start);
    const spin = active <= this.cores;
    const members = crew.members.slice(0, active);
    const calls = members.map((s) => Promise.race([s.api.runSteps(start, count, active, spin), s.death]));
    // Any failure must release the others from the barrier.
    calls.forEach((c) => c.catch(() => raiseAbort(mem.ctrl)));
    const settled = await Promise.allSettled(calls);
    const committed = readCommit(mem.ctrl).committedSteps - start;
    const outcomes: StepOutcome[] = [];
    for (let k = 0; k < committed; k++) {
      const row = k * Result.LENGTH,
        r = mem.results;
      const ok = r[row + Result.OK] === 1;
      outcomes.push({ step: start + k, ok, elbo: r[row + Result.ELBO], recon: r[row + Result.RECON], kl: r[row + Result.KL] });
      if (!ok) failures.push(nonFiniteFailure(start + k, Math.max(0, r[row + Result.BAD])));
    }
    const times = settled.map((s) => (s.status === 'fulfilled' ? s.value.times : NO_TIMES));
    await crew.replaceFailed(members, settled, start + committed, failures);
    resetBarrier(mem.ctrl);
    return { outcomes, failures, times };
  }
}
