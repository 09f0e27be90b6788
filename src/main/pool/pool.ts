/**
 * The worker pool: N workers train one model, synchronously data-parallel.
 *
 * Shared path (SharedArrayBuffer available): the pool copies the datasets and the state into shared
 * memory once, then asks every worker to run K steps; inside those K steps the workers synchronise
 * among themselves with Atomics (worker_core.ts) and no message crosses threads. The coordinator
 * only awaits promises, so a page's main thread never blocks.
 *
 * Message path (a page without cross-origin isolation): per step, the coordinator sends θ to each
 * worker, receives the shard gradients, sums them in worker order and applies the same optimizer
 * code: the same numbers, more copies.
 *
 * Failures: a worker that dies (or throws) aborts the request; the committed state is untouched
 * (workers only ever write the uncommitted copy), a replacement worker is started, the failure is
 * reported, and the caller simply continues from the committed step. A step whose gradient is not
 * finite is skipped by every worker alike and reported.
 *
 * Every other call (evaluation, encode, decode, memory) is a pure read of the committed state, so
 * a death during it, or before it while the pool was idle, is handled by replacing the worker and
 * asking the replacement again (up to MAX_TRIES times); every call races the worker's death, so
 * none waits for a reply that cannot come. A worker that cannot be started again (MAX_STARTS
 * tries) fails the call with an AevbError of code WORKER.
 */
import { wrap, releaseProxy, type Remote } from 'comlink';
import type { TrainConfig } from '../../shared/training/config.ts';
import type { DataSplit } from '../../shared/data/dataset.ts';
import { configError, stateError, workerError } from '../../shared/errors.ts';
import { commitStep, raiseAbort, readCommit, resetBarrier } from '../../shared/runtime/barrier.ts';
import { buildLayout, type ParamLayout } from '../../shared/model/layout.ts';
import { OPTIMIZER_SLOTS } from '../../shared/training/optimizers.ts';
import { addElboSums, addLogLikelihoodSums, type ElboSums, type LogLikelihoodSums } from '../../shared/model/eval_sums.ts';
import type {
  KernelChoice,
  DeathPoint,
  PhaseTimes,
  Split,
  Transport,
  WorkerApi,
  WorkerInfo,
  WorkerInit,
} from '../../shared/runtime/protocol.ts';
import { shardRanges } from '../../shared/training/schedule.ts';
import { allocatePoolMemory, hasSharedMemory, type PoolMemory, Result } from '../../shared/runtime/shared_memory.ts';
import { computesValue, updateAndCheck, writeMirror } from '../../shared/training/step_update.ts';
import { stepLayout, stepScratchBytes } from '../../shared/training/step_plan.ts';
import type { TrainingState } from '../../shared/training/training_state.ts';
import { UpdateKernel } from '../../kernels/update_kernel.ts';
import type { Spawner, SpawnedWorker } from './spawner.ts';
import { useAevbErrorTransfer } from '../../shared/runtime/wire_errors.ts';

// Workers' AevbErrors arrive as AevbErrors (code, fix, field), for the pool's callers to read.
useAevbErrorTransfer();

export interface PoolOptions {
  config: TrainConfig;
  data: DataSplit;
  /** N ≥ 1 workers (a request may train with fewer: see runSteps). */
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

/** One step's outcome as the coordinator sees it. */
export interface StepOutcome {
  step: number;
  ok: boolean;
  /** Σ over the minibatch (NaN when not computed this step). */
  elbo: number;
  recon: number;
  kl: number;
}

/** The pool call that was running when a worker death was noticed ('idle': none; noticed at the next request). */
export type PoolCall = 'steps' | 'idle' | 'evaluate' | 'encode' | 'decode' | 'memory';

export interface PoolFailure {
  kind: 'worker-died' | 'non-finite';
  /** The worker that died, or the first whose gradient was not finite. */
  worker: number;
  /** The step being run (worker-died during steps), skipped (non-finite), or the committed step (other calls). */
  step: number;
  cause: string;
  /** worker-died: the call during which the death was noticed; the call was retried on a new worker. */
  during?: PoolCall;
}

/** A call is tried on at most this many workers in a row (each death replaces the worker). */
const MAX_TRIES = 3;
/** A worker that dies during its start is started again at most this many times. */
const MAX_STARTS = 3;

export interface StepsReport {
  outcomes: StepOutcome[];
  failures: PoolFailure[];
  /** Per worker, ms per phase over this request (shared path). */
  times: PhaseTimes[];
}

/** One worker of the pool: its thread, its comlink proxy, and whether it has died. */
interface Member {
  handle: SpawnedWorker;
  api: Remote<WorkerApi>;
  info: WorkerInfo;
  /** Rejects when the worker dies. */
  death: Promise<never>;
  /** Set when the worker died (the death promise has rejected). */
  dead: boolean;
  /** Set once the pool has let the worker go (proxy released, thread terminated). */
  retired?: boolean;
}

/** Let a worker go, once: release its proxy and end its thread. */
async function retire(member: Member): Promise<void> {
  if (member.retired) return;
  member.retired = true;
  member.api[releaseProxy]();
  await member.handle.terminate().catch(() => undefined);
}

class WorkerDied extends Error {
  /** fix: the spawner's advice when it knows better than the pool's (a worker script that could not load). */
  constructor(
    readonly rank: number,
    readonly why: string,
    readonly fix?: string,
  ) {
    super(`worker ${rank} ${why}`);
  }
}

export class WorkerPool {
  readonly layout: ParamLayout;
  readonly transport: Transport;
  /** The workers, by rank. */
  private members: Member[] = [];
  /**
   * Both state copies and N gradient slots. Shared path: a shared memory that every worker maps (and
   * the datasets). Message path: the coordinator's own, where it sums the replies and updates.
   */
  private readonly mem: PoolMemory;
  /**
   * The kernels on `mem`: the message path's update; on the shared path (where the workers update)
   * only the mirror of a state the coordinator writes.
   */
  private readonly kernel: UpdateKernel;
  /** Message path: datapoints seen (the shared path's caller keeps its own count). */
  private samplesSeen = 0;
  private disposed = false;
  private busy = false;
  /** Replacements in progress, by rank: concurrent calls that saw the same death share one. */
  private replacing = new Map<number, Promise<void>>();
  /** Told of every worker death noticed outside runSteps (those are in the StepsReport). */
  onFailure: (f: PoolFailure) => void = () => undefined;

  private constructor(
    readonly opts: Required<Omit<PoolOptions, 'wasmPaths' | 'kernelBuild'>> & Pick<PoolOptions, 'wasmPaths' | 'kernelBuild'>,
  ) {
    const { config: cfg, data, workers } = opts;
    // Without the mirror where the step's kernels need none (stepLayout): then no state copy holds one.
    this.layout = stepLayout(cfg, opts.kernels, buildLayout(cfg));
    const scratchBytes = stepScratchBytes(cfg, opts.kernels);
    this.transport = opts.transport === 'auto' ? (hasSharedMemory() ? 'shared' : 'message') : opts.transport;
    const slotCount = OPTIMIZER_SLOTS[cfg.optimizer].length;
    if (this.transport === 'shared') {
      if (!hasSharedMemory()) {
        throw stateError(
          'SharedArrayBuffer is not available here (the page is not cross-origin isolated).',
          'Serve the page with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, or use transport "message".',
        );
      }
      this.mem = allocatePoolMemory({
        workers,
        paramCount: this.layout.size,
        slotCount,
        mirrorSize: this.layout.mirrorSize,
        scratchBytes,
        maxSteps: opts.maxStepsPerRequest,
        trainLength: data.train.x.length,
        testLength: data.test.x.length,
      });
      this.mem.train.set(data.train.x);
      this.mem.test.set(data.test.x);
    } else {
      // The same layout and kernel in an ordinary memory: the same arithmetic, so the same bits.
      this.mem = allocatePoolMemory(
        {
          workers,
          paramCount: this.layout.size,
          slotCount,
          mirrorSize: this.layout.mirrorSize,
          maxSteps: 1,
          trainLength: 0,
          testLength: 0,
        },
        hasSharedMemory(),
      );
    }
    this.kernel = new UpdateKernel(this.mem.buffers.memory);
    this.writeState(opts.state);
  }

  static async create(options: PoolOptions): Promise<WorkerPool> {
    const { workers, config, data } = options;
    if (!Number.isInteger(workers) || workers < 1) {
      throw configError(
        'workers',
        `is ${JSON.stringify(workers)}; it must be a whole number ≥ 1`,
        'Use 1 worker or more (by default, one per core).',
        { id: 'workers' },
      );
    }
    if (config.batch < workers) {
      throw configError(
        'batch',
        `is ${config.batch}, smaller than the ${workers} workers (each needs at least one datapoint)`,
        `Use a batch of ${workers} or more, or fewer workers.`,
        { id: 'batch-at-least', value: workers },
      );
    }
    if (data.train.d !== config.inputSize || data.test.d !== config.inputSize) {
      throw configError(
        'inputSize',
        `is ${config.inputSize} but the data has ${data.train.d} values per datapoint (test: ${data.test.d})`,
        "Give data of the model's size, or start a new model for this data.",
      );
    }
    if (data.train.n < config.batch) {
      throw configError(
        'batch',
        `is ${config.batch}, larger than the ${data.train.n} training datapoints`,
        `Use a batch of ${data.train.n} or fewer.`,
        { id: 'batch-at-most', value: data.train.n },
      );
    }
    const pool = new WorkerPool({
      transport: 'auto',
      valueEvery: 10,
      maxStepsPerRequest: 1024,
      cores: workers,
      kernels: 'aevb',
      ...options,
    } as WorkerPool['opts']);
    try {
      pool.members = await Promise.all(Array.from({ length: workers }, (_, r) => pool.start(r)));
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
    return this.members.map((s) => s.info);
  }

  /** Start worker `rank` and initialise it (up to MAX_STARTS tries; then an AevbError WORKER). */
  private async start(rank: number): Promise<Member> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce(rank);
      } catch (e) {
        if (this.disposed) throw stateError('This pool was disposed while a worker was starting.', 'Create a new trainer.');
        if (attempt >= MAX_STARTS) {
          const why = e instanceof WorkerDied ? e.why : ((e as Error)?.message ?? String(e));
          throw workerError(
            `Worker ${rank} could not be started: ${MAX_STARTS} tries failed (last: ${why}).`,
            (e instanceof WorkerDied && e.fix) ||
              'Check that the machine (or the tab) has memory to spare for another worker, use fewer workers, or create the trainer again.',
          );
        }
      }
    }
  }

  private async startOnce(rank: number): Promise<Member> {
    const handle = this.opts.spawn(rank);
    let rejectDeath!: (e: Error) => void;
    const death = new Promise<never>((_, rej) => {
      rejectDeath = rej;
    });
    death.catch(() => undefined); // observed through races only
    const member = { handle, death, dead: false } as Member;
    handle.onDeath((cause, fix) => {
      // A worker died: release everyone waiting at a barrier for it, then fail its calls.
      member.dead = true;
      raiseAbort(this.mem.ctrl);
      rejectDeath(new WorkerDied(rank, cause, fix));
    });
    const api = (member.api = wrap<WorkerApi>(handle.endpoint));
    const { config, data, workers, valueEvery, wasmPaths, kernels, kernelBuild } = this.opts;
    const meta = (d: typeof data.train) => ({ name: d.name, n: d.n, d: d.d });
    const init: WorkerInit = {
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
      ...(this.transport === 'shared'
        ? { memory: { buffers: this.mem.buffers, spec: this.mem.spec } }
        : { trainX: data.train.x, testX: data.test.x }),
    };
    try {
      member.info = await Promise.race([api.init(init), death]);
    } catch (e) {
      await retire(member);
      throw e;
    }
    if (this.disposed) {
      // dispose() ran while this worker started: it must not outlive the pool.
      await retire(member);
      throw stateError('This pool was disposed while a worker was starting.', 'Create a new trainer.');
    }
    return member;
  }

  /**
   * Replace worker `rank`, whose member `failed` died or threw. Callers that saw the same failure
   * share one replacement; a member already replaced is left alone.
   */
  private replace(rank: number, failed: Member): Promise<void> {
    if (this.members[rank] !== failed) return Promise.resolve();
    let pending = this.replacing.get(rank);
    if (!pending) {
      pending = (async () => {
        await retire(failed);
        this.members[rank] = await this.start(rank);
      })().finally(() => this.replacing.delete(rank));
      this.replacing.set(rank, pending);
    }
    return pending;
  }

  /**
   * Replace every worker that died while no call was running; report each (as 'idle'). Returns
   * only when every member is alive at that moment (more may die while replacements start), so a
   * caller that clears ABORT right after, in the same synchronous block, loses no death.
   */
  private async replaceDead(step: number, failures: PoolFailure[]): Promise<void> {
    for (let r = this.members.findIndex((s) => s.dead); r >= 0; r = this.members.findIndex((s) => s.dead)) {
      const s = this.members[r];
      const cause = await s.death.catch((e: unknown) => (e instanceof WorkerDied ? e.why : String(e)));
      failures.push({ kind: 'worker-died', worker: r, step, cause, during: 'idle' });
      await this.replace(r, s);
    }
  }

  /** The committed step (the next step to run). */
  private committedStep(): number {
    return readCommit(this.mem.ctrl).committedSteps;
  }

  /**
   * Call worker `rank` with a pure read of the committed state. If the worker dies (before or
   * during the call), report it, replace it and ask the replacement, up to MAX_TRIES workers.
   * Errors the worker throws (not deaths) go to the caller unchanged.
   */
  private async call<T>(rank: number, during: PoolCall, f: (api: Remote<WorkerApi>) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      this.guard();
      await this.replacing.get(rank);
      const member = this.members[rank];
      try {
        return await Promise.race([f(member.api), member.death]);
      } catch (e) {
        if (!(e instanceof WorkerDied)) throw e;
        this.onFailure({ kind: 'worker-died', worker: rank, step: this.committedStep(), cause: e.why, during });
        if (attempt >= MAX_TRIES) {
          throw workerError(
            `Worker ${rank} died ${MAX_TRIES} times in a row during ${during} (last: ${e.why}).`,
            'Check that the machine (or the tab) has memory to spare, use fewer workers, or create the trainer again; the trained state is kept.',
          );
        }
        await this.replace(rank, member);
      }
    }
  }

  private guard(): void {
    if (this.disposed) throw stateError('This pool was disposed.', 'Create a new trainer.');
  }

  /**
   * Run steps [start, start + count) with workers 0 .. active − 1 (default: all); returns what was
   * committed and what failed. Any active count gives the same model up to float summation order
   * (the shards and slices change; the noise of every datapoint does not).
   */
  async runSteps(start: number, count: number, active = this.workers): Promise<StepsReport> {
    this.guard();
    if (this.busy) throw stateError('The pool is already running steps.', 'Await the previous call first.');
    if (count < 1 || count > this.opts.maxStepsPerRequest) throw new RangeError(`count must be 1..${this.opts.maxStepsPerRequest}`);
    if (!Number.isInteger(active) || active < 1 || active > this.workers || active > this.opts.config.batch) {
      throw new RangeError(`active must be 1..${Math.min(this.workers, this.opts.config.batch)}`);
    }
    this.busy = true;
    try {
      return this.transport === 'shared' ? await this.runShared(start, count, active) : await this.runMessage(start, count, active);
    } finally {
      this.busy = false;
    }
  }

  private async runShared(start: number, count: number, active: number): Promise<StepsReport> {
    const mem = this.mem;
    const failures: PoolFailure[] = [];
    // A worker that died while idle raised ABORT; replace it first, then clear ABORT (no worker is
    // inside a request now, and a death from here on raises it again, after this clear).
    await this.replaceDead(start, failures);
    resetBarrier(mem.ctrl);
    commitStep(mem.ctrl, readCommit(mem.ctrl).cur, start);
    const spin = active <= this.opts.cores;
    const members = this.members.slice(0, active);
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
      if (!ok) failures.push(this.nonFiniteFailure(start + k, Math.max(0, r[row + Result.BAD])));
    }
    const none: PhaseTimes = { shard: 0, upload: 0, gradient: 0, readout: 0, wait1: 0, update: 0, wait2: 0 };
    const times: PhaseTimes[] = settled.map((s) => (s.status === 'fulfilled' ? s.value.times : none));
    await this.replaceFailed(members, settled, start + committed, failures);
    resetBarrier(mem.ctrl);
    return { outcomes, failures, times };
  }

  private async runMessage(start: number, count: number, active: number): Promise<StepsReport> {
    const cfg = this.opts.config,
      mem = this.mem,
      N = active;
    const outcomes: StepOutcome[] = [],
      failures: PoolFailure[] = [];
    await this.replaceDead(start, failures);
    for (let step = start; step < start + count; step++) {
      const { cur } = readCommit(mem.ctrl);
      const params = mem.state(cur).params.slice(); // a copy: the view's memory cannot be transferred
      const members = this.members.slice(0, N);
      const calls = members.map((s) => Promise.race([s.api.gradient(params, step, N), s.death]));
      const settled = await Promise.allSettled(calls);
      if (settled.some((s) => s.status === 'rejected')) {
        await this.replaceFailed(members, settled, step, failures);
        break; // the step was not applied; the caller retries it
      }
      const replies = settled.map((s) => (s as PromiseFulfilledResult<Awaited<ReturnType<WorkerApi['gradient']>>>).value);
      replies.forEach((r, w) => mem.grads[w].set(r.grad));
      // The same update and verdict as a pool worker's (step_update.ts), over the whole vector at once.
      const withValue = computesValue(step, this.opts.valueEvery);
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
      if (bad >= 0) failures.push(this.nonFiniteFailure(step, bad));
      else this.samplesSeen += cfg.batch;
      commitStep(mem.ctrl, bad < 0 ? 1 - cur : cur, step + 1);
    }
    return { outcomes, failures, times: [] };
  }

  private nonFiniteFailure(step: number, worker: number): PoolFailure {
    return {
      kind: 'non-finite',
      worker,
      step,
      cause: `the gradient of worker ${worker}'s shard was not finite (NaN or Inf); the step was skipped and the model is unchanged`,
    };
  }

  /** Replace every worker whose call failed (members[r] made call r); record why. */
  private async replaceFailed(
    members: Member[],
    settled: PromiseSettledResult<unknown>[],
    step: number,
    failures: PoolFailure[],
  ): Promise<void> {
    for (let r = 0; r < settled.length; r++) {
      const s = settled[r];
      if (s.status !== 'rejected') continue;
      const e = s.reason as Error;
      const cause = e instanceof WorkerDied ? e.why : `threw: ${e?.message ?? String(e)}`;
      failures.push({ kind: 'worker-died', worker: r, step, cause, during: 'steps' });
      await this.replace(r, members[r]);
    }
  }

  /** The committed state, copied out (for checkpoints and the caller's bookkeeping). */
  readState(): TrainingState {
    const { cur, committedSteps } = readCommit(this.mem.ctrl);
    return { ...this.mem.copyState(cur), step: committedSteps, samplesSeen: this.samplesSeen };
  }

  /** Replace the state (a loaded checkpoint). Only between requests. */
  writeState(state: TrainingState): void {
    if (this.busy) throw stateError('Cannot load a state while steps are running.', 'Pause first.');
    if (state.params.length !== this.layout.size)
      throw stateError(
        `The state has ${state.params.length} parameters; this model has ${this.layout.size}.`,
        'Load a checkpoint of the same model.',
      );
    const v = this.mem.state(0);
    v.params.set(state.params);
    v.slots.forEach((s, i) => s.set(state.slots[i]));
    writeMirror(this.kernel, this.layout, v.ptr.params, v.ptr.mirror, 0, this.layout.size);
    commitStep(this.mem.ctrl, 0, state.step);
    this.samplesSeen = state.samplesSeen;
  }

  /** Parameters to hand to workers: null means "read the committed shared state". */
  private paramsArg(): Float32Array | null {
    return this.transport === 'shared' ? null : this.mem.state(readCommit(this.mem.ctrl).cur).params.slice();
  }

  /**
   * Σ of ELBO terms (S draws per datapoint) and of their per-datapoint variances over a split, split
   * across the workers: the sums of disjoint ranges add up, so any N gives the same numbers (up to
   * float summation order). `draw` picks the evaluation's noise (evaluate.ts). [from, to): the datapoints
   * (default all), so that an evaluation can go in slices (sliced_evaluation.ts).
   */
  async evaluateElbo(split: Split, samples = 1, draw = 0, from = 0, to?: number): Promise<ElboSums> {
    this.guard();
    const end = to ?? (split === 'train' ? this.opts.data.train : this.opts.data.test).n;
    const ranges = shardRanges(end - from, this.members.length);
    const parts = await Promise.all(
      ranges.map(([lo, hi], r) =>
        this.call(r, 'evaluate', (api) => api.evaluateElbo(this.paramsArg(), split, from + lo, from + hi, samples, draw)),
      ),
    );
    return addElboSums(parts);
  }

  /** Sums of the K-sample importance-sampled log p(x) and its variances over datapoints [from, to) of a split (default: all), split across the workers. */
  async evaluateLogLikelihood(split: Split, k: number, from = 0, to?: number, draw = 0): Promise<LogLikelihoodSums> {
    this.guard();
    const end = to ?? (split === 'train' ? this.opts.data.train : this.opts.data.test).n;
    const ranges = shardRanges(end - from, this.members.length);
    const parts = await Promise.all(
      ranges.map(([lo, hi], r) =>
        this.call(r, 'evaluate', (api) => api.evaluateLogLikelihood(this.paramsArg(), split, from + lo, from + hi, k, draw)),
      ),
    );
    return addLogLikelihoodSums(parts);
  }

  async encode(x: Float32Array, n: number) {
    return this.call(0, 'encode', (api) => api.encode(this.paramsArg(), x, n));
  }
  async decode(z: Float32Array, n: number) {
    return this.call(0, 'decode', (api) => api.decode(this.paramsArg(), z, n));
  }
  async memory() {
    this.guard();
    return Promise.all(this.members.map((_, r) => this.call(r, 'memory', (api) => api.memory())));
  }

  /** Test and diagnostics hook: end worker `rank` now, as a crash would. */
  async terminateWorker(rank: number): Promise<void> {
    await this.members[rank].handle.terminate();
  }
  /** Test hook: worker `rank` produces a NaN gradient at step `step`. */
  async injectNonFinite(rank: number, step: number): Promise<void> {
    await this.members[rank].api.injectNonFinite(step);
  }
  /** Test hook: worker `rank` ends itself at `at` (DeathPoint: a step's update phase, or its next call of a kind). */
  async injectDeath(rank: number, at: DeathPoint): Promise<void> {
    await this.members[rank].api.injectDeath(at);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    raiseAbort(this.mem.ctrl);
    // A replacement that is starting ends itself when it sees `disposed`; wait for that.
    await Promise.allSettled([...this.replacing.values()]);
    await Promise.all(
      this.members.map(async (s) => {
        if (!s.retired && !s.dead) {
          // A worker that does not answer within a second is ended anyway; the timer is cleared so that
          // dispose() resolves as soon as the workers are gone (and keeps no Node process alive).
          let timer: ReturnType<typeof setTimeout> | undefined;
          const late = new Promise((r) => {
            timer = setTimeout(r, 1000);
          });
          await Promise.race([s.api.dispose(), s.death, late]).catch(() => undefined);
          clearTimeout(timer);
        }
        await retire(s);
      }),
    );
    this.members = [];
  }
}
