/**
 * The message transport (no SharedArrayBuffer: a page without cross-origin isolation, or
 * transport 'message'): per step, the coordinator sends θ to each worker, receives the shard
 * gradients into its own step memory (an ordinary memory of the shared path's layout), and runs
 * the same update and verdict as a pool worker (step_update.ts) over the whole vector: bit for
 * bit the same parameters as the shared path, with more copies.
 *
 * A step any worker failed (died or threw) is not applied: the worker is replaced and the request
 * ends there; the caller retries the step.
 */
import type { TrainConfig } from '../../shared/training/config.ts';
import type { ParamLayout } from '../../shared/model/layout.ts';
import { commitStep, readCommit } from '../../shared/runtime/barrier.ts';
import type { GradientReply } from '../../shared/runtime/protocol.ts';
import { allocatePoolMemory, hasSharedMemory, type PoolMemory } from '../../shared/runtime/shared_memory.ts';
import { computesValue, updateAndCheck } from '../../shared/training/step_update.ts';
import { UpdateKernel } from '../../kernels/update_kernel.ts';
import { nonFiniteFailure, type PoolFailure, type StepOutcome, type StepsReport } from './pool_report.ts';
import type { StateSizes, StepTransport } from './step_transport.ts';
import type { Supervisor } from './supervisor.ts';

export class MessageTransport implements StepTransport {
  readonly mem: PoolMemory;
  readonly kernel: UpdateKernel;

  constructor(
    sizes: StateSizes,
    private readonly cfg: TrainConfig,
    private readonly layout: ParamLayout,
    private readonly valueEvery: number,
    private readonly trainX: Float32Array,
    private readonly testX: Float32Array,
  ) {
    // The same layout and kernel in an ordinary memory: the same arithmetic, so the same bits.
    this.mem = allocatePoolMemory({ ...sizes, maxSteps: 1, trainLength: 0, testLength: 0 }, hasSharedMemory());
    this.kernel = new UpdateKernel(this.mem.buffers.memory);
  }

  /** Each worker gets its own copy of the datasets. */
  get workerData() {
    return { trainX: this.trainX, testX: this.testX };
  }

  /** A copy of the committed θ (the view's memory cannot be transferred). */
  paramsArg(): Float32Array {
    return this.mem.state(readCommit(this.mem.ctrl).cur).params.slice();
  }

  async runSteps(crew: Supervisor, start: number, count: number, active: number): Promise<StepsReport> {
    const { cfg, mem } = this,
      N = active;
    const outcomes: StepOutcome[] = [],
      failures: PoolFailure[] = [];
    await crew.replaceDead(start, failures);
    for (let step = start; step < start + count; step++) {
      const { cur } = readCommit(mem.ctrl);
      const params = this.paramsArg();
      const members = crew.members.slice(0, N);
      const calls = members.map((s) => Promise.race([s.api.gradient(params, step, N), s.death]));
      const settled = await Promise.allSettled(calls);
      if (settled.some((s) => s.status === 'rejected')) {
        await crew.replaceFailed(members, settled, step, failures);
        break; // the step was not applied; the caller retries it
      }
      const replies = settled.map((s) => (s as PromiseFulfilledResult<GradientReply>).value);
      replies.forEach((r, w) => mem.grads[w].set(r.grad));
      // The same update and verdict as a pool worker's (step_update.ts), over the whole vector at once.
      const withValue = computesValue(step, this.valueEvery);
      const bad = updateAndCheck(
        this.kernel,
        mem,
        cfg,
        this.layout,
        { cur, step, gradCount: N, start: 0, end: this.layout.size },
        (w) => replies[w].elbo,
        withValue,
      );
      const value = (f: 'elbo' | 'recon' | 'kl') => replies.reduce((a, r) => a + r[f], 0);
      outcomes.push({ step, ok: bad < 0, elbo: value('elbo'), recon: value('recon'), kl: value('kl') });
      if (bad >= 0) failures.push(nonFiniteFailure(step, bad));
      commitStep(mem.ctrl, bad < 0 ? 1 - cur : cur, step + 1);
    }
    return { outcomes, failures, times: [] };
  }
}
