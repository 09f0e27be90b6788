/**
 * The worker pool, as the coordinator: N workers train one model, synchronously data-parallel.
 * Three parts, one file each:
 *   supervisor.ts         the workers: start, notice a death, replace, dispose
 *   shared_transport.ts   a request of K steps over one shared memory (SharedArrayBuffer available):
 *                         the workers synchronise among themselves, no message inside the K steps
 *   message_transport.ts  a step's θ and gradients as messages (a page without cross-origin
 *                         isolation): the coordinator updates, the same numbers with more copies
 * This file chooses the transport, lays out the state, and answers the trainer's calls: steps,
 * the committed state's reads and writes, and the evaluation, encode and decode calls split
 * across the workers.
 *
 * Failures: a worker that dies (or throws) aborts the request; the committed state is untouched
 * (workers only ever write the uncommitted copy), a replacement worker is started, the failure is
 * reported, and the caller simply continues from the committed step. A step whose gradient is not
 * finite is skipped by every worker alike and reported.
 *
 * The options are checked once, at the entry (api_checks.ts and config.ts, from Trainer.create):
 * the pool trusts its caller for the worker count, the minibatch and the data's shape.
 */
import type { Remote } from 'comlink';
import type { TrainConfig } from '../../shared/training/config.ts';
import type { DataSplit } from '../../shared/data/dataset.ts';
import { stateError } from '../../shared/errors.ts';
import { commitStep, raiseAbort, readCommit } from '../../shared/runtime/barrier.ts';
import { buildLayout, type ParamLayout } from '../../shared/model/layout.ts';
import { OPTIMIZER_SLOTS } from '../../shared/training/optimizers.ts';
import { addElboSums, addLogLikelihoodSums, type ElboSums, type LogLikelihoodSums } from '../../shared/model/eval_sums.ts';
import type { KernelChoice, Split, Transport, WorkerApi, WorkerInfo, WorkerInit } from '../../shared/runtime/protocol.ts';
import { shardRanges } from '../../shared/training/schedule.ts';
import { hasSharedMemory } from '../../shared/runtime/shared_memory.ts';
import { writeMirror } from '../../shared/training/step_update.ts';
import { stepLayout, stepScratchBytes } from '../../shared/training/step_plan.ts';
import type { TrainingState } from '../../shared/training/training_state.ts';
import type { Spawner } from './spawner.ts';
import { useAevbErrorTransfer } from '../../shared/runtime/wire_errors.ts';
import type { StepsReport } from './pool_report.ts';
import type { StateSizes, StepTransport } from './step_transport.ts';
import { Supervisor } from './supervisor.ts';
import { SharedTransport } from './shared_transport.ts';
import { MessageTransport } from './message_transport.ts';

export type { PoolCall, PoolFailure, StepOutcome, StepsReport } from './pool_report.ts';

// Workers' AevbErrors arrive as AevbErrors (code, fix, field), for the pool's callers to read.
useAevbErrorTransfer();

export interface PoolOptions {
  config: TrainConfig;
  /** The data, of the config's inputSize, with at least `config.batch` training datapoints. */
  data: DataSplit;
  /** N ≥ 1 workers, at most config.batch (a request may train with fewer: see runSteps). */
  workers: number;
  /** Cores of this machine (default: N): workers spin briefly at barriers only when active ≤ cores. */
  cores?: number;
  spawn: Spawner;
  /** 'auto': shared memory when the environment has it, else messages. */
  transport?: Transport | 'auto';
  /** Starting state (default: the config's fresh initialisation, supplied by the caller). */
  state: TrainingState;
  /** Compute the minibatch ELBO on every valueEvery-th step (it costs a log per pixel). */
  valueEvery?: number;
  /** Largest K of one request. */
  maxStepsPerRequest?: number;
  wasmPaths?: string | Record<string, string>;
  /** The kernels of the step's gradient (default 'aevb'). */
  kernels?: KernelChoice;
  /** aevb's kernels: force a build (default: each worker detects the best); for benchmarks and tests. */
  kernelBuild?: WorkerInit['kernelBuild'];
}

export class WorkerPool {
  readonly layout: ParamLayout;
  readonly transport: Transport;
  /** The state's memory and how a request reaches the workers. */
  private readonly steps: StepTransport;
  /** The workers. */
  private readonly crew: Supervisor;
  /** Message path: datapoints seen (the shared path's caller keeps its own count). */
  private samplesSeen = 0;
  private busy = false;

  private constructor(
    readonly opts: Required<Omit<PoolOptions, 'wasmPaths' | 'kernelBuild'>> & Pick<PoolOptions, 'wasmPaths' | 'kernelBuild'>,
  ) {
    const { config: cfg, data, workers } = opts;
    // Without the mirror where the step's kernels need none (stepLayout): then no state copy holds one.
    this.layout = stepLayout(cfg, opts.kernels, buildLayout(cfg));
    this.transport = opts.transport === 'auto' ? (hasSharedMemory() ? 'shared' : 'message') : opts.transport;
    const sizes: StateSizes = {
      workers,
      paramCount: this.layout.size,
      slotCount: OPTIMIZER_SLOTS[cfg.optimizer].length,
      mirrorSize: this.layout.mirrorSize,
    };
    this.steps =
      this.transport === 'shared'
        ? new SharedTransport(sizes, stepScratchBytes(cfg, opts.kernels), opts.maxStepsPerRequest, data, opts.cores)
        : new MessageTransport(sizes, cfg, this.layout, opts.valueEvery, data.train.x, data.test.x);
    const ctrl = this.steps.mem.ctrl;
    this.crew = new Supervisor({
      spawn: opts.spawn,
      init: (rank) => this.workerInit(rank),
      abort: () => raiseAbort(ctrl),
      committedStep: () => readCommit(ctrl).committedSteps,
    });
    this.writeState(opts.state);
  }

  static async create(options: PoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool({
      transport: 'auto',
      valueEvery: 10,
      maxStepsPerRequest: 1024,
      cores: options.workers,
      kernels: 'aevb',
      ...options,
    } as WorkerPool['opts']);
    try {
      await pool.crew.startAll(options.workers);
    } catch (e) {
      await pool.dispose();
      throw e;
    }
    return pool;
  }

  get workers(): number {
    return this.opts.workers;
  }
  get infos(): WorkerInfo[] {
    return this.crew.members.map((s) => s.info);
  }
  /** Told of every worker death noticed outside runSteps (those are in the StepsReport). */
  set onFailure(f: Supervisor['onFailure']) {
    this.crew.onFailure = f;
  }

  /** What worker `rank` starts with: the config, the datasets' shapes, and its transport's memory or data. */
  private workerInit(rank: number): WorkerInit {
    const { config, data, workers, valueEvery, wasmPaths, kernels, kernelBuild } = this.opts;
    const meta = (d: typeof data.train) => ({ name: d.name, n: d.n, d: d.d });
    return {
      rank,
      workers,
      config,
      transport: this.transport,
      train: meta(data.train),
      test: meta(data.test),
      valueEvery,
      wasmPaths,
      kernels,
      kernelBuild,
      ...this.steps.workerData,
    };
  }

  /**
   * Run steps [start, start + count) with workers 0 .. active − 1 (default: all); returns what was
   * committed and what failed. Any active count gives the same model up to float summation order
   * (the shards and slices change; the noise of every datapoint does not). count and active are the
   * trainer's own choices, not a caller's: the range checks guard the results table and the shards.
   */
  async runSteps(start: number, count: number, active = this.workers): Promise<StepsReport> {
    this.crew.guard();
    if (this.busy) throw stateError('The pool is already running steps.', 'Await the previous call first.');
    if (count < 1 || count > this.opts.maxStepsPerRequest) throw new RangeError(`count must be 1..${this.opts.maxStepsPerRequest}`);
    if (!Number.isInteger(active) || active < 1 || active > this.workers || active > this.opts.config.batch) {
      throw new RangeError(`active must be 1..${Math.min(this.workers, this.opts.config.batch)}`);
    }
    this.busy = true;
    try {
      const report = await this.steps.runSteps(this.crew, start, count, active);
      if (this.transport === 'message') this.samplesSeen += this.opts.config.batch * report.outcomes.filter((o) => o.ok).length;
      return report;
    } finally {
      this.busy = false;
    }
  }

  /** The committed state, copied out (for checkpoints and the caller's bookkeeping). */
  readState(): TrainingState {
    const mem = this.steps.mem;
    const { cur, committedSteps } = readCommit(mem.ctrl);
    return { ...mem.copyState(cur), step: committedSteps, samplesSeen: this.samplesSeen };
  }

  /** Replace the state (a loaded checkpoint, already checked against this model). Only between requests. */
  writeState(state: TrainingState): void {
    if (this.busy) throw stateError('Cannot load a state while steps are running.', 'Pause first.');
    const { mem, kernel } = this.steps;
    const v = mem.state(0);
    v.params.set(state.params);
    v.slots.forEach((s, i) => s.set(state.slots[i]));
    writeMirror(kernel, this.layout, v.ptr.params, v.ptr.mirror, 0, this.layout.size);
    commitStep(mem.ctrl, 0, state.step);
    this.samplesSeen = state.samplesSeen;
  }

  /**
   * Σ of ELBO terms (S draws per datapoint) and of their per-datapoint variances over a split, split
   * across the workers: the sums of disjoint ranges add up, so any N gives the same numbers (up to
   * float summation order). `draw` picks the evaluation's noise (evaluate.ts). [from, to): the datapoints
   * (default all), so that an evaluation can go in slices (sliced_evaluation.ts).
   */
  async evaluateElbo(split: Split, samples = 1, draw = 0, from = 0, to?: number): Promise<ElboSums> {
    const parts = await this.acrossWorkers(split, from, to, (api, lo, hi) =>
      api.evaluateElbo(this.steps.paramsArg(), split, lo, hi, samples, draw),
    );
    return addElboSums(parts);
  }

  /** Sums of the K-sample importance-sampled log p(x) and its variances over datapoints [from, to) of a split (default: all), split across the workers. */
  async evaluateLogLikelihood(split: Split, k: number, from = 0, to?: number, draw = 0): Promise<LogLikelihoodSums> {
    const parts = await this.acrossWorkers(split, from, to, (api, lo, hi) =>
      api.evaluateLogLikelihood(this.steps.paramsArg(), split, lo, hi, k, draw),
    );
    return addLogLikelihoodSums(parts);
  }

  /** Datapoints [from, to) of a split (default: to its end) in contiguous ranges, one per worker, each asked as an evaluation call. */
  private acrossWorkers<T>(
    split: Split,
    from: number,
    to: number | undefined,
    f: (api: Remote<WorkerApi>, lo: number, hi: number) => Promise<T>,
  ): Promise<T[]> {
    this.crew.guard();
    const end = to ?? (split === 'train' ? this.opts.data.train : this.opts.data.test).n;
    const ranges = shardRanges(end - from, this.crew.members.length);
    return Promise.all(ranges.map(([lo, hi], r) => this.crew.call(r, 'evaluate', (api) => f(api, from + lo, from + hi))));
  }

  async encode(x: Float32Array, n: number) {
    return this.crew.call(0, 'encode', (api) => api.encode(this.steps.paramsArg(), x, n));
  }
  async decode(z: Float32Array, n: number) {
    return this.crew.call(0, 'decode', (api) => api.decode(this.steps.paramsArg(), z, n));
  }
  async memory() {
    this.crew.guard();
    return Promise.all(this.crew.members.map((_, r) => this.crew.call(r, 'memory', (api) => api.memory())));
  }

  async dispose(): Promise<void> {
    await this.crew.dispose();
  }
}
