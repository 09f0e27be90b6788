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
 */
import { wrap, releaseProxy, type Remote } from 'comlink';
import type { TrainConfig } from '../../shared/config.ts';
import type { DataSplit } from '../../shared/dataset.ts';
import { configError, stateError } from '../../shared/errors.ts';
import { commitStep, raiseAbort, readCommit, resetBarrier } from '../../shared/barrier.ts';
import { buildLayout, type ParamLayout } from '../../shared/layout.ts';
import { applyUpdate, firstNonFinite, OPTIMIZER_SLOTS, sumGradientSlots } from '../../shared/optimizers.ts';
import type { ElboSums, PhaseTimes, Split, Transport, WorkerApi, WorkerInfo, WorkerInit } from '../../shared/protocol.ts';
import { shardRanges } from '../../shared/schedule.ts';
import { allocatePoolMemory, hasSharedMemory, PoolMemory, RESULT_FIELDS } from '../../shared/shared_memory.ts';
import type { TrainingState } from '../local_trainer.ts';
import type { Spawner, SpawnedWorker } from './spawner.ts';

export interface PoolOptions {
  config: TrainConfig;
  data: DataSplit;
  /** N ≥ 1 workers. */
  workers: number;
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

export interface PoolFailure {
  kind: 'worker-died' | 'non-finite';
  /** The worker that died, or the first whose gradient was not finite. */
  worker: number;
  step: number;
  cause: string;
}

export interface StepsReport {
  outcomes: StepOutcome[];
  failures: PoolFailure[];
  /** Per worker, ms per phase over this request (shared path). */
  times: PhaseTimes[];
}

interface Slot {
  handle: SpawnedWorker;
  api: Remote<WorkerApi>;
  info: WorkerInfo;
  /** Rejects when the worker dies. */
  death: Promise<never>;
}

class WorkerDied extends Error {
  constructor(readonly rank: number, readonly why: string) { super(`worker ${rank} ${why}`); }
}

export class WorkerPool {
  readonly layout: ParamLayout;
  readonly transport: Transport;
  private slots: Slot[] = [];
  private readonly mem: PoolMemory | null;
  /** Message path: the state lives here, on the coordinator. */
  private local: TrainingState | null = null;
  private disposed = false;
  private busy = false;

  private constructor(readonly opts: Required<Omit<PoolOptions, 'wasmPaths'>> & Pick<PoolOptions, 'wasmPaths'>) {
    const { config: cfg, data, workers } = opts;
    this.layout = buildLayout(cfg);
    this.transport = opts.transport === 'auto' ? (hasSharedMemory() ? 'shared' : 'message') : opts.transport;
    if (this.transport === 'shared') {
      if (!hasSharedMemory()) {
        throw stateError('SharedArrayBuffer is not available here (the page is not cross-origin isolated).',
          'Serve the page with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, or use transport "message".');
      }
      this.mem = allocatePoolMemory({
        workers, paramCount: this.layout.size, slotCount: OPTIMIZER_SLOTS[cfg.optimizer].length,
        maxSteps: opts.maxStepsPerRequest, trainLength: data.train.x.length, testLength: data.test.x.length,
      });
      this.mem.train.set(data.train.x);
      this.mem.test.set(data.test.x);
    } else {
      this.mem = null;
    }
    this.writeState(opts.state);
  }

  static async create(options: PoolOptions): Promise<WorkerPool> {
    const { workers, config, data } = options;
    if (!Number.isInteger(workers) || workers < 1) {
      throw configError('workers', `is ${JSON.stringify(workers)}; it must be a whole number ≥ 1`, 'Pass --workers N with N ≥ 1 (default: the number of cores).');
    }
    if (config.batch < workers) {
      throw configError('batch', `is ${config.batch}, smaller than the ${workers} workers (each needs at least one datapoint)`,
        `Use --batch ${workers} or more, or fewer --workers.`);
    }
    if (data.train.d !== config.inputSize || data.test.d !== config.inputSize) {
      throw configError('inputSize', `is ${config.inputSize} but the data has ${data.train.d} values per datapoint (test: ${data.test.d})`,
        'Give data of the model\'s size, or start a new model for this data.');
    }
    if (data.train.n < config.batch) {
      throw configError('batch', `is ${config.batch}, larger than the ${data.train.n} training datapoints`, `Use --batch ${data.train.n} or fewer.`);
    }
    const pool = new WorkerPool({
      transport: 'auto', valueEvery: 10, maxStepsPerRequest: 1024, ...options,
    } as WorkerPool['opts']);
    try {
      pool.slots = await Promise.all(Array.from({ length: workers }, (_, r) => pool.start(r)));
    } catch (e) {
      await pool.dispose();
      throw e;
    }
    return pool;
  }

  get workers(): number { return this.opts.workers; }
  get infos(): WorkerInfo[] { return this.slots.map((s) => s.info); }

  /** Start worker `rank` and initialise it. */
  private async start(rank: number): Promise<Slot> {
    const handle = this.opts.spawn(rank);
    let rejectDeath!: (e: Error) => void;
    const death = new Promise<never>((_, rej) => { rejectDeath = rej; });
    death.catch(() => undefined); // observed through races only
    handle.onDeath((cause) => {
      // A worker died: release everyone waiting at a barrier for it, then fail its calls.
      if (this.mem) raiseAbort(this.mem.ctrl);
      rejectDeath(new WorkerDied(rank, cause));
    });
    const api = wrap<WorkerApi>(handle.endpoint);
    const { config, data, workers, valueEvery, wasmPaths } = this.opts;
    const meta = (d: typeof data.train) => ({ name: d.name, n: d.n, d: d.d });
    const init: WorkerInit = {
      rank, workers, config, transport: this.transport, train: meta(data.train), test: meta(data.test), valueEvery, wasmPaths,
      ...(this.mem ? { memory: { buffers: this.mem.buffers, spec: this.mem.spec } } : { trainX: data.train.x, testX: data.test.x }),
    };
    const info = await Promise.race([api.init(init), death]);
    return { handle, api, info, death };
  }

  private guard(): void {
    if (this.disposed) throw stateError('This pool was disposed.', 'Create a new trainer.');
  }

  /** Run steps [start, start + count); returns what was committed and what failed. */
  async runSteps(start: number, count: number): Promise<StepsReport> {
    this.guard();
    if (this.busy) throw stateError('The pool is already running steps.', 'Await the previous call first.');
    if (count < 1 || count > this.opts.maxStepsPerRequest) throw new RangeError(`count must be 1..${this.opts.maxStepsPerRequest}`);
    this.busy = true;
    try {
      return this.transport === 'shared' ? await this.runShared(start, count) : await this.runMessage(start, count);
    } finally {
      this.busy = false;
    }
  }

  private async runShared(start: number, count: number): Promise<StepsReport> {
    const mem = this.mem!;
    commitStep(mem.ctrl, readCommit(mem.ctrl).cur, start);
    const calls = this.slots.map((s) => Promise.race([s.api.runSteps(start, count), s.death]));
    // Any failure must release the others from the barrier.
    calls.forEach((c) => c.catch(() => raiseAbort(mem.ctrl)));
    const settled = await Promise.allSettled(calls);
    const committed = readCommit(mem.ctrl).committedSteps - start;
    const outcomes: StepOutcome[] = [];
    const failures: PoolFailure[] = [];
    for (let k = 0; k < committed; k++) {
      const row = k * RESULT_FIELDS, r = mem.results;
      outcomes.push({ step: start + k, ok: r[row] === 1, elbo: r[row + 1], recon: r[row + 2], kl: r[row + 3] });
      if (r[row] !== 1) failures.push(this.nonFiniteFailure(start + k, Math.max(0, r[row + 4])));
    }
    const none: PhaseTimes = { shard: 0, upload: 0, gradient: 0, readout: 0, wait1: 0, reduce: 0, optimizer: 0, wait2: 0 };
    const times: PhaseTimes[] = settled.map((s) => (s.status === 'fulfilled' ? s.value.times : none));
    await this.replaceFailed(settled, start + committed, failures);
    resetBarrier(mem.ctrl);
    return { outcomes, failures, times };
  }

  private async runMessage(start: number, count: number): Promise<StepsReport> {
    const cfg = this.opts.config, st = this.local!;
    const outcomes: StepOutcome[] = [], failures: PoolFailure[] = [];
    const sum = new Float32Array(this.layout.size);
    for (let step = start; step < start + count; step++) {
      const calls = this.slots.map((s) => Promise.race([s.api.gradient(st.params, step), s.death]));
      const settled = await Promise.allSettled(calls);
      if (settled.some((s) => s.status === 'rejected')) {
        await this.replaceFailed(settled, step, failures);
        break; // the step was not applied; the caller retries it
      }
      const replies = settled.map((s) => (s as PromiseFulfilledResult<Awaited<ReturnType<WorkerApi['gradient']>>>).value);
      const withValue = step % this.opts.valueEvery === 0;
      const bad = replies.findIndex((r) => firstNonFinite(r.grad) >= 0 || (withValue && !Number.isFinite(r.elbo)));
      const value = (f: 'elbo' | 'recon' | 'kl') => replies.reduce((a, r) => a + r[f], 0);
      if (bad < 0) {
        sumGradientSlots(replies.map((r) => r.grad), sum, 0, sum.length);
        applyUpdate({ kind: cfg.optimizer, params: st.params, slots: st.slots, gradSum: sum, gradScale: -1 / cfg.batch,
          lr: cfg.lr, weightDecay: cfg.weightDecay, t: step + 1, start: 0, end: sum.length });
      }
      outcomes.push({ step, ok: bad < 0, elbo: value('elbo'), recon: value('recon'), kl: value('kl') });
      if (bad >= 0) failures.push(this.nonFiniteFailure(step, bad));
      st.step = step + 1;
    }
    return { outcomes, failures, times: [] };
  }

  private nonFiniteFailure(step: number, worker: number): PoolFailure {
    return { kind: 'non-finite', worker, step,
      cause: `the gradient of worker ${worker}'s shard was not finite (NaN or Inf); the step was skipped and the model is unchanged` };
  }

  /** Replace every worker whose call failed; record why. */
  private async replaceFailed(settled: PromiseSettledResult<unknown>[], step: number, failures: PoolFailure[]): Promise<void> {
    for (let r = 0; r < settled.length; r++) {
      const s = settled[r];
      if (s.status !== 'rejected') continue;
      const e = s.reason as Error;
      const cause = e instanceof WorkerDied ? e.why : `threw: ${e?.message ?? String(e)}`;
      failures.push({ kind: 'worker-died', worker: r, step, cause });
      const old = this.slots[r];
      old.api[releaseProxy]();
      await old.handle.terminate().catch(() => undefined);
      this.slots[r] = await this.start(r);
    }
  }

  /** The committed state, copied out (for checkpoints and the caller's bookkeeping). */
  readState(): TrainingState {
    if (this.local) return { params: this.local.params.slice(), slots: this.local.slots.map((s) => s.slice()), step: this.local.step, samplesSeen: this.local.samplesSeen };
    const { cur, committedSteps } = readCommit(this.mem!.ctrl);
    const v = this.mem!.state(cur);
    return { params: v.params.slice(), slots: v.slots.map((s) => s.slice()), step: committedSteps, samplesSeen: 0 };
  }

  /** Replace the state (a loaded checkpoint). Only between requests. */
  writeState(state: TrainingState): void {
    if (this.busy) throw stateError('Cannot load a state while steps are running.', 'Pause first.');
    if (state.params.length !== this.layout.size) throw stateError(`The state has ${state.params.length} parameters; this model has ${this.layout.size}.`, 'Load a checkpoint of the same model.');
    if (this.mem) {
      const v = this.mem.state(0);
      v.params.set(state.params);
      v.slots.forEach((s, i) => s.set(state.slots[i]));
      commitStep(this.mem.ctrl, 0, state.step);
    } else {
      this.local = { params: state.params.slice(), slots: state.slots.map((s) => s.slice()), step: state.step, samplesSeen: state.samplesSeen };
    }
  }

  /** Parameters to hand to workers: null means "read the committed shared state". */
  private paramsArg(): Float32Array | null {
    return this.local ? this.local.params : null;
  }

  /** Σ of ELBO terms over a split, split across the workers. */
  async evaluateElbo(split: Split): Promise<ElboSums> {
    this.guard();
    const n = (split === 'train' ? this.opts.data.train : this.opts.data.test).n;
    const ranges = shardRanges(n, this.slots.length);
    const parts = await Promise.all(this.slots.map((s, r) => Promise.race([s.api.evaluateElbo(this.paramsArg(), split, ranges[r][0], ranges[r][1]), s.death])));
    return parts.reduce((a, p) => ({ count: a.count + p.count, elbo: a.elbo + p.elbo, recon: a.recon + p.recon, kl: a.kl + p.kl }),
      { count: 0, elbo: 0, recon: 0, kl: 0 });
  }

  /** Mean K-sample importance-sampled log p(x) over datapoints [from, to) of a split (default: all), split across the workers. */
  async evaluateLogLikelihood(split: Split, k: number, from = 0, to?: number): Promise<number> {
    this.guard();
    const end = to ?? (split === 'train' ? this.opts.data.train : this.opts.data.test).n;
    const ranges = shardRanges(end - from, this.slots.length);
    const parts = await Promise.all(this.slots.map((s, r) => Promise.race([s.api.evaluateLogLikelihood(this.paramsArg(), split, from + ranges[r][0], from + ranges[r][1], k), s.death])));
    return parts.reduce((a, b) => a + b, 0) / (end - from);
  }

  async encode(x: Float32Array, n: number) { this.guard(); return this.slots[0].api.encode(this.paramsArg(), x, n); }
  async decode(z: Float32Array, n: number) { this.guard(); return this.slots[0].api.decode(this.paramsArg(), z, n); }
  async memory() { this.guard(); return Promise.all(this.slots.map((s) => s.api.memory())); }

  /** Test and diagnostics hook: end worker `rank` now, as a crash would. */
  async terminateWorker(rank: number): Promise<void> { await this.slots[rank].handle.terminate(); }
  /** Test hook: worker `rank` produces a NaN gradient at step `step`. */
  async injectNonFinite(rank: number, step: number): Promise<void> { await this.slots[rank].api.injectNonFinite(step); }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.mem) raiseAbort(this.mem.ctrl);
    await Promise.all(this.slots.map(async (s) => {
      await Promise.race([s.api.dispose(), s.death, new Promise((r) => setTimeout(r, 1000))]).catch(() => undefined);
      s.api[releaseProxy]();
      await s.handle.terminate().catch(() => undefined);
    }));
    this.slots = [];
  }
}
