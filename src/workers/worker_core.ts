/**
 * What runs inside each pool worker, as plain testable code (the worker entries only set TF.js up
 * and expose this). One training step on the shared path, for worker w of N:
 *
 *   1. gradient:  g_w = ∇ Σ_{i ∈ shard w} ℒ̃(x_i)   from θ in state copy `cur`, into slot w
 *                 (or wake-sleep's two phases, by config.algorithm: step_gradient.ts)
 *   2. barrier
 *   3. update:    for θ[lo_w, hi_w) only (this worker's slice):  g = Σ_v g_v  (worker order),
 *                 state[1 − cur] ← optimizer(state[cur], g)        — skipped if any g_v is not finite
 *   4. barrier;   the last arrival commits: cur ← 1 − cur (if applied), steps ← step + 1
 *
 * No message crosses threads inside a request of K steps. A worker that dies leaves state[cur]
 * untouched (only copy 1 − cur was being written), so the coordinator can retry the step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolveConfig, type TrainConfig } from '../shared/training/config.ts';
import type { Dataset } from '../shared/data/dataset.ts';
import { arriveAndWait, commitStep, readCommit } from '../shared/runtime/barrier.ts';
import { elboSums, logLikelihoodSums } from '../shared/model/evaluate.ts';
import { buildLayout, type ParamLayout } from '../shared/model/layout.ts';
import { transposeRows } from '../shared/training/minibatch.ts';
import { decode, disposeParams, encode, paramTensors } from '../shared/model/model.ts';
import type { GradientReply, PhaseTimes, RunReport, Split, WorkerApi, WorkerInfo, WorkerInit } from '../shared/runtime/protocol.ts';
import { MinibatchSchedule, shardRanges } from '../shared/training/schedule.ts';
import { PoolMemory, Result, Value } from '../shared/runtime/shared_memory.ts';
import { createStepGradient, stepShard, type StepGradient } from '../shared/training/step_gradient.ts';
import { stepLayout, type KernelsInUse } from '../shared/training/step_plan.ts';
import { stepKernelFactory } from '../shared/model/step_kernels.ts';
import { computesValue, updateAndCheck } from '../shared/training/step_update.ts';
import { stateError } from '../shared/errors.ts';
import { UpdateKernel } from '../kernels/update_kernel.ts';

export type BackendSetup = (wasmPaths?: string | Record<string, string>) => Promise<{ backend: string; simd: boolean; threads: boolean }>;

/**
 * The two computations of a worker's step, each made once per worker: the gradient engine
 * (step_gradient.ts: by config.algorithm and the kernels) and the update kernels on the step's
 * memory (step_update.ts runs them). A worker entry may pass its own, built on these
 * (default: `stepParts`); the step loop calls them the same either way.
 */
export interface StepParts {
  gradient: typeof createStepGradient;
  update(memory: WebAssembly.Memory): UpdateKernel;
}

export const stepParts: StepParts = { gradient: createStepGradient, update: (memory) => new UpdateKernel(memory) };

const now = () => performance.now();

class WorkerContext {
  readonly cfg: TrainConfig;
  readonly layout: ParamLayout;
  readonly schedule: MinibatchSchedule;
  /** The step's gradient: SGVB on aevb's kernels or tfjs, or wake-sleep (step_gradient.ts). */
  readonly engine: StepGradient & { readonly kernels: KernelsInUse };
  readonly mem: PoolMemory | null;
  /** The update kernels on the pool's shared memory (shared path only). */
  readonly kernel: UpdateKernel | null;
  readonly train: Dataset;
  readonly test: Dataset;

  constructor(
    readonly init: WorkerInit,
    parts: StepParts,
  ) {
    const cfg = (this.cfg = init.config);
    const kernels = init.kernels ?? 'aevb',
      full = buildLayout(cfg);
    // The step memory's layout (no mirror on aevb's kernels); the tfjs gradient reads the mirror by the full one.
    this.layout = stepLayout(cfg, kernels, full);
    this.schedule = new MinibatchSchedule(cfg.seed, init.train.n, cfg.batch);
    this.mem = init.memory ? new PoolMemory(init.memory.buffers, init.memory.spec) : null;
    // On the shared path aevb's kernels read θ and write the slot in the pool's memory, with this
    // worker's scratch there; on the message path they work in a memory of their own.
    const place = this.mem ? { memory: this.mem.buffers.memory, scratch: this.mem.scratch[init.rank] } : undefined;
    this.engine = parts.gradient(cfg, full, kernels, place, stepKernelFactory(init.kernelBuild));
    this.kernel = this.mem ? parts.update(this.mem.buffers.memory) : null;
    const trainX = this.mem ? this.mem.train : init.trainX!;
    const testX = this.mem ? this.mem.test : init.testX!;
    this.train = { ...init.train, x: trainX };
    this.test = { ...init.test, x: testX };
  }

  /**
   * With `active` workers training (ranks 0 .. active − 1; the pool may run fewer than it has):
   * this worker's minibatch shard [lo, hi) and its slice of θ [lo, hi).
   */
  private shardOf(active: number): [number, number] {
    return shardRanges(this.cfg.batch, active)[this.init.rank];
  }
  private sliceOf(active: number): [number, number] {
    return shardRanges(this.layout.size, active)[this.init.rank];
  }

  /** Gradient of this worker's shard of `step` into `out`; returns the shard's value sums. */
  private shardGradient(params: Float32Array, step: number, active: number, out: Float32Array, withValue: boolean, mirror?: Float32Array) {
    const [lo, hi] = this.shardOf(active);
    const t0 = now();
    const inputs = stepShard(this.cfg, this.train, this.schedule, step, lo, hi);
    const t1 = now();
    const v = this.engine.compute(params, inputs, out, withValue, mirror);
    const { upload, readout } = this.engine.copyTimes;
    return { v, shardMs: t1 - t0, gradMs: now() - t1 - upload - readout, upload, readout };
  }

  runSteps(start: number, count: number, active: number, spin: boolean): RunReport {
    const mem = this.mem,
      kernel = this.kernel;
    if (!mem || !kernel) throw stateError('runSteps needs shared memory.', 'Use gradient() on the message path.');
    const { ctrl } = mem,
      N = active,
      rank = this.init.rank,
      cfg = this.cfg;
    if (rank >= N)
      throw stateError(`Worker ${rank} was asked to train with ${N} active workers.`, 'Ask only ranks below the active count.');
    const [lo, hi] = this.sliceOf(N);
    const times: PhaseTimes = { shard: 0, upload: 0, gradient: 0, readout: 0, wait1: 0, update: 0, wait2: 0 };
    const mine = rank * Value.LENGTH;
    let { cur } = readCommit(ctrl);
    for (let k = 0; k < count; k++) {
      const step = start + k;
      // 1. Gradient of this shard into slot `rank`, and the shard's ELBO terms.
      const withValue = computesValue(step, this.init.valueEvery);
      const state = mem.state(cur);
      const { v, shardMs, gradMs, upload, readout } = this.shardGradient(state.params, step, N, mem.grads[rank], withValue, state.mirror);
      mem.values[mine + Value.ELBO] = v.elbo;
      mem.values[mine + Value.RECON] = v.recon;
      mem.values[mine + Value.KL] = v.kl;
      times.shard += shardMs;
      times.gradient += gradMs;
      times.upload += upload;
      times.readout += readout;
      // 2. Barrier: every gradient slot is written.
      let t = now();
      if (arriveAndWait(ctrl, N, undefined, spin) === 'aborted') return { rank, completed: k, aborted: true, times };
      times.wait1 += now() - t;
      // 3. Reduce-scatter and update, fused in one kernel pass over this worker's slice: sum the slots,
      //    apply the rule, write copy 1 − cur (and the transposes of this slice's weights into its
      //    mirror). Copy `cur` is never written, so whatever happens here the committed state is
      //    whole. A non-finite value anywhere shows up in some worker's slice (or its shard's ELBO):
      //    that worker raises its flag and the step is not committed.
      t = now();
      const bad = updateAndCheck(
        kernel,
        mem,
        cfg,
        this.layout,
        { cur, step, gradCount: N, start: lo, end: hi },
        (w) => mem.values[w * Value.LENGTH + Value.ELBO],
        withValue,
      );
      mem.values[mine + Value.BAD] = bad;
      times.update += now() - t;
      // 4. Barrier; the last arrival (while everyone else waits, so every value is stable) records
      //    the step's result and commits it if no worker found a problem.
      t = now();
      const commit = () => {
        const ok = firstFlagged(mem.values, N) < 0;
        recordResult(mem, N, k, ok, withValue);
        commitStep(ctrl, ok ? 1 - cur : cur, step + 1);
      };
      if (arriveAndWait(ctrl, N, commit, spin) === 'aborted') return { rank, completed: k, aborted: true, times };
      times.wait2 += now() - t;
      cur = readCommit(ctrl).cur;
    }
    return { rank, completed: count, aborted: false, times };
  }

  gradient(params: Float32Array, step: number, active: number): GradientReply {
    const grad = new Float32Array(this.layout.size);
    const { v } = this.shardGradient(params, step, active, grad, computesValue(step, this.init.valueEvery));
    return { grad, elbo: v.elbo, recon: v.recon, kl: v.kl };
  }

  params(p: Float32Array | null): Float32Array {
    if (p) return p;
    if (!this.mem) throw stateError('No parameters given and no shared memory.', 'Pass the parameters on the message path.');
    return this.mem.state(readCommit(this.mem.ctrl).cur).params;
  }

  dataset(split: Split): Dataset {
    return split === 'train' ? this.train : this.test;
  }
}

/** Results row k: ok, the minibatch's Σ ELBO terms (worker order), and the worker that failed the step. */
function recordResult(mem: PoolMemory, N: number, k: number, ok: boolean, withValue: boolean): void {
  const row = k * Result.LENGTH,
    { values, results } = mem;
  const total = (f: number) => {
    let acc = 0;
    for (let w = 0; w < N; w++) acc += values[w * Value.LENGTH + f];
    return withValue ? acc : NaN;
  };
  results[row + Result.OK] = ok ? 1 : 0;
  results[row + Result.ELBO] = total(Value.ELBO);
  results[row + Result.RECON] = total(Value.RECON);
  results[row + Result.KL] = total(Value.KL);
  results[row + Result.BAD] = firstFlagged(values, N);
}

/** The lowest worker index any worker flagged as failing this step, or −1. */
function firstFlagged(values: Float64Array, N: number): number {
  let worst = -1;
  for (let w = 0; w < N; w++) {
    const b = values[w * Value.LENGTH + Value.BAD];
    if (b >= 0 && (worst < 0 || b < worst)) worst = b;
  }
  return worst;
}

/** Rows [n, k] → tensor [k, n] (columns) and back. */
function rowsToColumns(rows: Float32Array, n: number, k: number): tf.Tensor2D {
  return tf.tensor2d(transposeRows(rows, n, k), [k, n]);
}
function columnsToRows(t: tf.Tensor): Float32Array {
  return tf.tidy(() => tf.transpose(t).dataSync() as Float32Array).slice();
}

/** The object a worker entry exposes. `setup` initialises TF.js in this thread; `parts`: the step's gradient and update. */
export function createWorkerApi(setup: BackendSetup, parts: StepParts = stepParts): WorkerApi {
  let ctx: WorkerContext | null = null;
  let info: WorkerInfo | null = null;
  const need = (): WorkerContext => {
    if (!ctx) throw stateError('This worker was not initialised.', 'Call init() first.');
    return ctx;
  };
  const withParams = <T>(p: Float32Array | null, f: (c: WorkerContext, pt: ReturnType<typeof paramTensors>) => T): T => {
    const c = need();
    const pt = paramTensors(c.params(p), c.layout);
    try {
      return f(c, pt);
    } finally {
      disposeParams(pt);
    }
  };
  return {
    async init(msg) {
      // The config crossed a thread boundary from a coordinator that may be another build: the worker
      // script is served on its own (createTrainer's workerUrl, the package's worker.js), so a page and
      // its worker can come from different versions. Checked once per worker start, never per step; a
      // bad field reaches the caller as the AevbError, field and all (wire_errors.ts).
      resolveConfig(msg.config);
      const b = await setup(msg.wasmPaths);
      ctx?.engine.dispose();
      ctx = new WorkerContext(msg, parts);
      info = {
        rank: msg.rank,
        backend: b.backend,
        simd: b.simd,
        threads: b.threads,
        update: ctx.kernel ? 'shared' : 'coordinator',
        kernels: ctx.engine.kernels,
      };
      return info;
    },
    async runSteps(start, count, active, spin) {
      return need().runSteps(start, count, active, spin);
    },
    async gradient(params, step, active) {
      return need().gradient(params, step, active);
    },
    async evaluateElbo(params, split, start, end, samples, draw) {
      const c = need();
      return elboSums(c.cfg, c.params(params), c.dataset(split), { seed: c.cfg.seed, split, draw }, samples, start, end);
    },
    async evaluateLogLikelihood(params, split, start, end, k, draw) {
      const c = need();
      return logLikelihoodSums(c.cfg, c.params(params), c.dataset(split), k, { seed: c.cfg.seed, split, draw }, start, end);
    },
    async encode(params, x, n) {
      return withParams(params, (c, pt) =>
        tf.tidy(() => {
          const { mu, logvar } = encode(c.cfg, pt, rowsToColumns(x, n, c.cfg.inputSize));
          return { mu: columnsToRows(mu), logvar: columnsToRows(logvar) };
        }),
      );
    },
    async decode(params, z, n) {
      return withParams(params, (c, pt) => tf.tidy(() => columnsToRows(decode(c.cfg, pt, rowsToColumns(z, n, c.cfg.latent)).mean)));
    },
    async memory() {
      const m = tf.memory();
      return { numTensors: m.numTensors, numBytes: m.numBytes };
    },
    async dispose() {
      ctx?.engine.dispose();
      ctx = null;
    },
  };
}
