/**
 * The public trainer: a pool of workers training one VAE, with a small life cycle
 * (start, pause, resume, stop, dispose), typed events, evaluation, the model's maps
 * (encode, decode, reconstruct, sample) and checkpoints. Platform-free: the entries
 * (index.ts for pages, node/index.ts for Node) supply the way to spawn workers.
 *
 * The loop, per request: K steps on the pool (K adapts so a request takes ~100 ms; a request
 * never crosses an epoch's end or an evaluation point) → bookkeeping and events → at an evaluation
 * point (each epoch's end, or a log grid of samples seen: evaluateAt), evaluation.
 * Anything that reads or replaces the state (checkpoints, loading) runs between requests.
 */
import { resolveConfig, type TrainConfig } from '../shared/training/config.ts';
import type { DataSplit } from '../shared/data/dataset.ts';
import { datasetFingerprint, encodeCheckpoint, type Checkpoint } from '../shared/formats/checkpoint.ts';
import { checkLoadable, exportSafetensors, readCheckpointBytes } from '../shared/formats/pytorch_state.ts';
import { stateError, configError, numericError, type AevbError } from '../shared/errors.ts';
import { CounterRng, Stream } from '../shared/training/rng.ts';
import type { Evaluation } from './local_trainer.ts';
import { initialState, type TrainingState } from '../shared/training/training_state.ts';
import { EarlyStop, type EarlyStopMark } from '../shared/training/early_stop.ts';
import { WorkerPool, type PoolFailure, type StepsReport } from './pool/pool.ts';
import type { Spawner } from './pool/spawner.ts';
import type { DeathPoint, KernelChoice, Transport, WorkerInfo } from '../shared/runtime/protocol.ts';
import type { KernelsInUse } from '../shared/training/step_plan.ts';
import { TypedEmitter } from './events.ts';
import { eventStream, type EventOf } from './event_stream.ts';
import { checkSignalOption } from './signal_option.ts';
import { WorkerCountTuner, type WorkerChoice } from './worker_count_tuner.ts';
import {
  checkCheckpointBytes,
  checkEvaluateOptions,
  checkRows,
  checkSample,
  checkStepCount,
  checkTrainerData,
  checkTrainerOptions,
  maxRowsPerCall,
} from './api_checks.ts';
import { elboSliceRows, slicedElbo, slicedLogLikelihood, type SliceOptions } from './sliced_evaluation.ts';
import { elboReport, logLikelihoodReport } from '../shared/model/eval_sums.ts';
import { EPOCHS_SCHEDULE, nextEvalStep, type EvalSchedule } from '../shared/training/eval_schedule.ts';

export interface TrainerOptions {
  /** Settings; unset fields take the paper's defaults, inputSize comes from the data. */
  config?: Partial<TrainConfig>;
  data: DataSplit;
  /**
   * Workers: a count N (exactly N train), or 'auto' (the default): the pool has one worker per core
   * and the trainer measures which count trains fastest, re-checking every minute (see
   * worker_count_tuner.ts). Any count trains the same model up to float rounding; for bit-exact
   * reproducibility across runs, give a count.
   */
  workers?: number | 'auto';
  /** 'auto' (default): shared memory when available, otherwise messages (slower, same results). */
  transport?: Transport | 'auto';
  /** The kernels of a step's gradient: 'aevb' (default, aevb's own WASM SIMD kernels) or 'tfjs' (the reference). */
  kernels?: KernelChoice;
  /** Start from a checkpoint (bytes of checkpoint.aevb, or a model.safetensors: docs/safetensors.md) instead of a fresh initialisation. */
  checkpoint?: Uint8Array;
  /** Compute the minibatch ELBO for progress events every n-th step (default 10). */
  valueEvery?: number;
  /** Evaluate the ELBO on the training set at each epoch's end too (default true). */
  evaluateTrain?: boolean;
  /**
   * Training stops (a 'diverged' failure, status 'failed', start()/runSteps() reject with an
   * AevbError NUMERIC) after this many consecutive steps skipped because their gradient was not
   * finite: the run has diverged and more steps cannot help (default 50; Infinity: never stop).
   */
  maxSkippedSteps?: number;
  /**
   * When start() stops to evaluate (an 'epoch' event): at every epoch's end (default), or on a
   * log grid of samples seen, as in the paper's Figure 2 (eval_schedule.ts).
   */
  evaluateAt?: EvalSchedule;
}

/** Consecutive skipped steps after which training stops, unless the caller says otherwise. */
export const DEFAULT_MAX_SKIPPED_STEPS = 50;

/**
 * Training stopped because maxSkippedSteps steps in a row were skipped (their gradient was NaN
 * or Inf): the run diverged. The model is the one of the last applied update.
 */
export interface DivergedFailure {
  kind: 'diverged';
  /** Not one worker's fault: −1. */
  worker: -1;
  /** The last skipped step; training stopped after it. */
  step: number;
  /** The first step of the run of skipped steps. */
  firstSkipped: number;
  /** Steps skipped in a row (= maxSkippedSteps). */
  skipped: number;
  /** The problem, the likely cause and the fix, in words (= error.message). */
  cause: string;
  /** The error start() / runSteps() reject with (code NUMERIC). */
  error: AevbError;
}

/** What the 'failure' event carries: a worker death or skipped step (PoolFailure), or the stop of a diverged run. */
export type TrainerFailure = PoolFailure | DivergedFailure;

export interface ProgressEvent {
  step: number;
  /** Workers that trained the latest request. */
  workers: number;
  epoch: number;
  samplesSeen: number;
  /** Per-datapoint minibatch estimates from the latest step that computed them. */
  elbo?: number;
  recon?: number;
  kl?: number;
  samplesPerSecond: number;
  /** What computed the step's gradients: aevb's kernels and their build ('aevb-relaxed' | 'aevb-simd128'), or 'tfjs'. */
  kernels: KernelsInUse;
}

export interface EpochEvent extends Partial<Evaluation> {
  /** Epochs completed (with evaluateAt log, a point may lie inside the next epoch). */
  epoch: number;
  step: number;
  /** 'epoch': at an epoch's end; 'grid': a point of the log grid inside an epoch. */
  point: 'epoch' | 'grid';
  samplesSeen: number;
  testElbo: number;
  /** Training samples per second over the steps since the previous point (evaluation excluded). */
  samplesPerSecond: number;
  trainSeconds: number;
  evalSeconds: number;
  /** Steps since the previous point skipped because a gradient was not finite. */
  failedSteps: number;
  /** With config.earlyStop N > 0: where early stopping stands after this evaluation (early_stop.ts). */
  earlyStop?: EarlyStopMark;
}

/** 'failed': training stopped on an error (a diverged run, a worker that could not be restarted); the state is kept and start() may be called again. */
export type TrainerStatus = 'idle' | 'running' | 'paused' | 'done' | 'failed' | 'disposed';

export interface TrainerEvents {
  progress: ProgressEvent;
  /** workers: 'auto' chose (or re-chose) a count, with the samples/s it measured for each. */
  workers: WorkerChoice;
  epoch: EpochEvent;
  failure: TrainerFailure;
  status: TrainerStatus;
}

/** One item of trainer.events(): `{ type: 'epoch', data: EpochEvent }` and so on, discriminated by `type`. */
export type TrainerEvent = EventOf<TrainerEvents>;

export class Trainer extends TypedEmitter<TrainerEvents> {
  private statusValue: TrainerStatus = 'idle';
  private samples = 0;
  private stepValue: number;
  private chunk = 4;
  private stopRequested = false;
  /** stop({ evaluation: 'finish' }): an evaluation point in progress (or about to start) runs to its end first. */
  private finishEvaluationOnStop = false;
  private pauseGate: { promise: Promise<void>; open: () => void } | null = null;
  private loop: Promise<void> | null = null;
  private queue: Array<() => Promise<void>> = [];
  /** Wakes a paused loop so it runs queued work (and stays paused). */
  private wakeQueue: (() => void) | null = null;
  private rate = { samples: 0, ms: 0 };
  private epochTotals = { samples: 0, ms: 0, failed: 0 };
  /** Steps skipped in a row up to now (reset by every applied step). */
  private skippedInARow = 0;
  /** Ends the evaluation point under way when stop() is called (it goes in slices: the stop waits for one). */
  private evalAbort: AbortController | null = null;
  /** The step whose evaluation point a stop interrupted (-1: none): the next start() evaluates it first. */
  private evaluationOwed = -1;
  /** Parameters of the model (sizes the evaluation's slices). */
  private readonly paramCount: number;

  /** The count that trained the latest request. */
  private active: number;
  /** config.earlyStop > 0: the best test ELBO so far and the state it was reached at. */
  private readonly early: EarlyStop<TrainingState> | undefined;

  private constructor(
    readonly config: TrainConfig,
    readonly data: DataSplit,
    private readonly pool: WorkerPool,
    state: TrainingState,
    private readonly evaluateTrain: boolean,
    private readonly tuner: WorkerCountTuner | null,
    readonly maxSkippedSteps: number,
    readonly evaluateAt: EvalSchedule,
  ) {
    super();
    this.active = tuner?.next() ?? pool.workers;
    this.stepValue = state.step;
    this.samples = state.samplesSeen;
    this.paramCount = state.params.length;
    this.early = EarlyStop.of(config.earlyStop);
    // Deaths noticed by evaluation, encode/decode and the like (those of steps come with their report).
    pool.onFailure = (f) => this.emit('failure', f);
  }

  /** @internal The entries' createTrainer (and the CLI, tests, benchmarks) supply how workers are spawned. */
  static async create(
    options: TrainerOptions,
    spawn: Spawner,
    defaultWorkers: number,
    wasmPaths?: string | Record<string, string>,
  ): Promise<Trainer> {
    // Every option and both datasets' shapes first: a bad call gets an AevbError, never a TypeError.
    const data = checkTrainerOptions(options);
    let config: TrainConfig, state: TrainingState;
    if (options.checkpoint) {
      const loaded = readCheckpointBytes(options.checkpoint, 'the checkpoint', options.config); // .aevb or .safetensors
      const c = loaded.checkpoint;
      config = resolveConfig({ ...c.config, ...options.config });
      checkTrainerData(data, config); // the values (as below), before the fingerprint reads them
      checkLoadable(loaded, config, fingerprintOf(data), 'the checkpoint');
      state = { params: c.params, slots: c.optimizer.slots, step: c.step, samplesSeen: c.samplesSeen };
    } else {
      const asked = options.config?.inputSize;
      if (asked !== undefined && asked !== data.train.d) {
        throw configError(
          'inputSize',
          `is ${asked} but the training data has ${data.train.d} values per datapoint`,
          'Leave inputSize out (it is taken from the data), or give data of that width.',
        );
      }
      config = resolveConfig({ ...options.config, inputSize: data.train.d });
      // The values, against the model that will train on them (NaN, a pixel outside [0, 1] for a
      // Bernoulli decoder, x.length ≠ n·d, an empty set): before any worker starts.
      checkTrainerData(data, config);
      state = initialState(config);
    }
    const auto = (options.workers ?? 'auto') === 'auto';
    // auto: one worker per core (never more than the minibatch can feed); the tuner picks how many train.
    const workers = auto ? Math.max(1, Math.min(defaultWorkers, config.batch)) : (options.workers as number);
    const pool = await WorkerPool.create({
      config,
      data,
      workers,
      spawn,
      state,
      transport: options.transport ?? 'auto',
      cores: defaultWorkers,
      valueEvery: options.valueEvery ?? 10,
      maxStepsPerRequest: 256,
      wasmPaths,
      kernels: options.kernels ?? 'aevb',
    });
    const tuner = auto ? new WorkerCountTuner(workers, config.batch) : null;
    return new Trainer(
      config,
      data,
      pool,
      state,
      options.evaluateTrain ?? true,
      tuner,
      options.maxSkippedSteps ?? DEFAULT_MAX_SKIPPED_STEPS,
      options.evaluateAt ?? EPOCHS_SCHEDULE,
    );
  }

  get status(): TrainerStatus {
    return this.statusValue;
  }
  get step(): number {
    return this.stepValue;
  }
  get samplesSeen(): number {
    return this.samples;
  }
  get stepsPerEpoch(): number {
    return Math.floor(this.data.train.n / this.config.batch);
  }
  get epoch(): number {
    return Math.floor(this.stepValue / this.stepsPerEpoch);
  }
  /** Workers in the pool. */
  get workers(): number {
    return this.pool.workers;
  }
  /** Workers that trained the latest request (with workers: 'auto', the tuner's count). */
  get activeWorkers(): number {
    return this.active;
  }
  /** Whether the count is chosen by measurement (workers: 'auto'). */
  get autoWorkers(): boolean {
    return this.tuner !== null;
  }
  /** The auto choice and what it measured (null before the first probe ends, or with a fixed count). */
  get workerChoice(): WorkerChoice | null {
    return this.tuner?.choice ?? null;
  }
  get transport(): Transport {
    return this.pool.transport;
  }
  /** What each worker runs on (backend, SIMD, the step's kernels). */
  get workerInfo(): WorkerInfo[] {
    return this.pool.infos;
  }
  /** What computes the step's gradients (every worker detects the same build on one engine). */
  get kernels(): KernelsInUse {
    return this.pool.infos[0]?.kernels ?? 'tfjs';
  }

  private setStatus(s: TrainerStatus): void {
    this.statusValue = s;
    this.emit('status', s);
  }

  private guard(): void {
    if (this.statusValue === 'disposed') throw stateError('This trainer was disposed.', 'Create a new one.');
  }

  /**
   * Train until config.epochs are done (or stop()). Resolves then. Calling start() while running
   * returns the same promise. Aborting `signal` stops training after the current request (as stop())
   * and rejects with signal.reason; the model stays at the last committed step.
   */
  start(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.guard();
    const signal = checkSignalOption(options, 'start()');
    signal?.throwIfAborted();
    if (!this.loop) {
      this.stopRequested = false;
      this.finishEvaluationOnStop = false;
      this.loop = this.run().finally(() => {
        this.loop = null;
      });
    }
    if (!signal) return this.loop;
    const loop = this.loop;
    const onAbort = () => {
      void this.stop();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    return loop
      .then(() => {
        signal.throwIfAborted();
      })
      .finally(() => signal.removeEventListener('abort', onAbort));
  }

  /** Finish the current request, then wait until resume(). */
  pause(): void {
    this.guard();
    if (!this.pauseGate && this.loop) {
      let open!: () => void;
      const promise = new Promise<void>((r) => {
        open = r;
      });
      this.pauseGate = { promise, open };
      this.setStatus('paused');
    }
  }

  resume(): void {
    this.guard();
    const g = this.pauseGate;
    this.pauseGate = null;
    if (g) {
      this.setStatus('running');
      g.open();
    }
  }

  /**
   * End training after the current request (or the current slice of an evaluation point, which the
   * next start() then does first); resolves when the loop has ended. `evaluation: 'finish'` lets an
   * evaluation point that is due finish first (its 'epoch' event is emitted), as a command-line run
   * that saves and exits on a signal wants: its checkpoint then never skips a metrics line.
   */
  async stop(options: { evaluation?: 'abort' | 'finish' } = {}): Promise<void> {
    this.stopRequested = true;
    if (options.evaluation === 'finish') this.finishEvaluationOnStop = true;
    else this.evalAbort?.abort(new Error('stopped'));
    this.resume();
    // How the loop ended (e.g. a diverged run) is start()'s to report; stop() only waits for the end.
    await this.loop?.catch(() => undefined);
  }

  /**
   * Run exactly n more steps (whatever config.epochs says), then resolve. Aborting `signal` ends it
   * after the current request (≤ ~100 ms of steps) and rejects with signal.reason; the model is then
   * at a committed step (`step` says which) and training can go on from it.
   */
  async runSteps(n: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    this.guard();
    checkStepCount(n);
    if (this.loop) throw stateError('The trainer is already running.', 'Pause or stop it first.');
    const signal = checkSignalOption(options, 'runSteps(n, options)');
    const end = this.stepValue + n;
    signal?.throwIfAborted();
    while (this.stepValue < end) {
      await this.request(Math.min(this.chunk, end - this.stepValue, 256));
      signal?.throwIfAborted();
    }
  }

  private async run(): Promise<void> {
    this.setStatus('running');
    const total = this.config.epochs * this.stepsPerEpoch;
    let failed = false;
    try {
      if (this.evaluationOwed === this.stepValue) await this.evaluationPoint();
      while (!this.stopRequested && this.stepValue < total && !this.early?.stopped) {
        if (this.pauseGate) {
          // Paused: sleep until resumed, but run queued work (checkpoints, state reads) meanwhile.
          await Promise.race([
            this.pauseGate.promise,
            new Promise<void>((r) => {
              this.wakeQueue = r;
            }),
          ]);
          this.wakeQueue = null;
          await this.drainQueue();
          continue;
        }
        // A request never crosses an epoch's end nor an evaluation point.
        const epochEnd = (Math.floor(this.stepValue / this.stepsPerEpoch) + 1) * this.stepsPerEpoch;
        const point = nextEvalStep(this.evaluateAt, this.stepValue, this.stepsPerEpoch, this.config.batch, total);
        await this.request(Math.min(this.chunk, epochEnd - this.stepValue, point - this.stepValue, 256));
        if (this.stepValue === point) await this.evaluationPoint();
        await this.drainQueue();
      }
    } catch (e) {
      failed = true;
      throw e;
    } finally {
      await this.drainQueue();
      if (this.statusValue !== 'disposed')
        this.setStatus(failed ? 'failed' : (this.stepValue >= total && !this.evaluationPending) || this.early?.stopped ? 'done' : 'idle');
    }
  }

  /** One request of k steps, then bookkeeping and events; throws NUMERIC when the run diverged. */
  private async request(k: number): Promise<void> {
    // While steps are being skipped, ask for no more than it takes to reach the limit.
    if (this.skippedInARow > 0) k = Math.max(1, Math.min(k, this.maxSkippedSteps - this.skippedInARow));
    const active = this.tuner?.next() ?? this.pool.workers;
    const t0 = performance.now();
    const rep: StepsReport = await this.pool.runSteps(this.stepValue, k, active);
    const ms = performance.now() - t0;
    this.active = active;
    const M = this.config.batch;
    const ok = rep.outcomes.filter((o) => o.ok).length;
    // A request with a failure is no measure of speed.
    const choice = rep.failures.length ? null : this.tuner?.record(active, ok * M, ms);
    if (choice) this.emit('workers', choice);
    this.stepValue += rep.outcomes.length;
    this.samples += ok * M;
    this.rate = { samples: this.rate.samples * 0.5 + ok * M, ms: this.rate.ms * 0.5 + ms };
    this.epochTotals.samples += ok * M;
    this.epochTotals.ms += ms;
    this.epochTotals.failed += rep.outcomes.length - ok;
    // Aim for ~100 ms per request: long enough to amortise the round trip, short enough to pause promptly.
    if (rep.outcomes.length === k && ms > 0) this.chunk = Math.max(1, Math.min(256, Math.round((k * 100) / ms)));
    rep.failures.forEach((f) => this.emit('failure', f));
    const valued = [...rep.outcomes].reverse().find((o) => o.ok && Number.isFinite(o.elbo));
    this.emit('progress', {
      step: this.stepValue,
      workers: active,
      epoch: this.epoch,
      samplesSeen: this.samples,
      ...(valued ? { elbo: valued.elbo / M, recon: valued.recon / M, kl: valued.kl / M } : {}),
      samplesPerSecond: this.rate.ms > 0 ? (this.rate.samples * 1000) / this.rate.ms : 0,
      kernels: this.kernels,
    });
    for (const o of rep.outcomes) this.skippedInARow = o.ok ? 0 : this.skippedInARow + 1;
    if (this.skippedInARow >= this.maxSkippedSteps) this.diverged();
  }

  /** maxSkippedSteps steps in a row were skipped: say so (event) and stop (throw NUMERIC). */
  private diverged(): never {
    const n = this.skippedInARow,
      last = this.stepValue - 1,
      first = this.stepValue - n;
    const { optimizer, lr } = this.config;
    this.skippedInARow = 0; // a later start() tries again from the kept state
    const error = numericError(
      `Training diverged: ${n} steps in a row (steps ${first} to ${last}) were skipped because their gradient was not finite (NaN or Inf), so training stopped at step ${this.stepValue}. ` +
        `The model is kept as it was after its last applied update${first > 0 ? ` (before step ${first})` : ' (its initial state)'}. The likely cause: the learning rate (${optimizer}, lr ${lr}) is too large for this model and data.`,
      `Start a new run with a smaller learning rate, e.g. lr ${Number((lr / 10).toPrecision(3))}${optimizer === 'sgd' ? ' (or use optimizer adam or adagrad)' : ''}.`,
    );
    this.emit('failure', { kind: 'diverged', worker: -1, step: last, firstSkipped: first, skipped: n, cause: error.message, error });
    throw error;
  }

  /** An evaluation point has been reached but not evaluated (a stop interrupted it): start() evaluates it first. */
  get evaluationPending(): boolean {
    return this.evaluationOwed === this.stepValue;
  }

  /**
   * The evaluation at an epoch's end (or a point of the log grid), in slices: a stop() ends it after
   * the current slice and leaves it owed (evaluationPending), so that a pause never waits for a whole
   * evaluation of the training set.
   */
  private async evaluationPoint(): Promise<void> {
    const t0 = performance.now();
    this.evaluationOwed = this.stepValue;
    if (this.stopRequested && !this.finishEvaluationOnStop) return;
    const abort = (this.evalAbort = new AbortController());
    let ev: Awaited<ReturnType<Trainer['evaluate']>>;
    try {
      ev = await this.evaluate({ train: this.evaluateTrain, logLikelihoodSamples: this.config.evalSamples, signal: abort.signal });
    } catch (e) {
      if (abort.signal.aborted) return; // stopped: owed to the next start()
      throw e;
    } finally {
      this.evalAbort = null;
    }
    this.evaluationOwed = -1;
    const { samples, ms, failed } = this.epochTotals;
    this.epochTotals = { samples: 0, ms: 0, failed: 0 };
    const early = this.early?.observe(ev.testElbo, this.stepValue, () => ({
      ...this.pool.readState(),
      step: this.stepValue,
      samplesSeen: this.samples,
    }));
    this.emit('epoch', {
      ...ev,
      epoch: this.epoch,
      step: this.stepValue,
      point: this.stepValue % this.stepsPerEpoch === 0 ? 'epoch' : 'grid',
      samplesSeen: this.samples,
      samplesPerSecond: ms > 0 ? (samples * 1000) / ms : 0,
      trainSeconds: ms / 1000,
      evalSeconds: (performance.now() - t0) / 1000,
      failedSteps: failed,
      ...(early ? { earlyStop: early } : {}),
    });
  }

  /** Early stopping ended training (status 'done'): at which evaluation, and the best one. Undefined otherwise. */
  get stoppedEarly(): EarlyStopMark | undefined {
    return this.early?.stopped;
  }

  /** checkpoint.aevb bytes of the best state so far (the best test ELBO) with config.earlyStop > 0; undefined before the first evaluation or when it is off. */
  async saveBestCheckpoint(): Promise<Uint8Array | undefined> {
    const best = this.early?.best;
    return best && encodeCheckpoint(await this.checkpointRecord(best));
  }

  /** Run fn between requests (now, if no training loop is running). */
  private between<T>(fn: () => Promise<T> | T): Promise<T> {
    this.guard();
    if (!this.loop) return Promise.resolve().then(fn);
    return new Promise<T>((resolve, reject) => {
      this.queue.push(async () => {
        try {
          resolve(await fn());
        } catch (e) {
          reject(e);
        }
      });
      this.wakeQueue?.(); // a paused loop runs it now and stays paused
    });
  }

  private async drainQueue(): Promise<void> {
    while (this.queue.length) await this.queue.shift()!();
  }

  /**
   * ELBO per datapoint on the test set (and the training set) with S draws of ε per datapoint and
   * its standard error, and the K-sample importance-sampled log p(x) with its standard error if K > 0.
   * `elboSamples` is S (default config.evalElboSamples); `draw` picks the noise (default: the current
   * step, so every evaluation of a run draws afresh and the same state always gets the same numbers).
   * With `signal` or `onProgress`, log p(x) goes in slices of the test set (sliced_evaluation.ts):
   * progress after each, and an abort ends it after the current one; with `signal`, so do the ELBOs
   * (slices of a fixed size for the model: the same sums every time); the promise then rejects with
   * signal.reason.
   */
  async evaluate(
    opts: { train?: boolean; logLikelihoodSamples?: number; elboSamples?: number; draw?: number } & SliceOptions = {},
  ): Promise<Partial<Evaluation> & { testElbo: number }> {
    this.guard();
    checkEvaluateOptions(opts);
    const S = opts.elboSamples ?? this.config.evalElboSamples,
      draw = opts.draw ?? this.stepValue;
    const sums = (split: 'train' | 'test') =>
      opts.signal
        ? slicedElbo(
            (a, b) => this.pool.evaluateElbo(split, S, draw, a, b),
            this.data[split].n,
            elboSliceRows(this.paramCount, S),
            this.workers,
            opts.signal,
          )
        : this.pool.evaluateElbo(split, S, draw);
    opts.signal?.throwIfAborted();
    const te = elboReport(await sums('test'));
    const out: Partial<Evaluation> & { testElbo: number } = {
      testElbo: te.elbo,
      testRecon: te.recon,
      testKl: te.kl,
      testElboSe: te.se,
      elboSamples: S,
    };
    if (opts.train ?? true) {
      opts.signal?.throwIfAborted();
      const tr = elboReport(await sums('train'));
      Object.assign(out, { trainElbo: tr.elbo, trainRecon: tr.recon, trainKl: tr.kl, trainElboSe: tr.se });
    }
    const K = opts.logLikelihoodSamples ?? 0;
    opts.signal?.throwIfAborted();
    if (K > 0) {
      const sums =
        opts.signal || opts.onProgress
          ? await slicedLogLikelihood(
              (a, b) => this.pool.evaluateLogLikelihood('test', K, a, b, draw),
              this.data.test.n,
              K,
              this.workers,
              opts,
            )
          : await this.pool.evaluateLogLikelihood('test', K, 0, undefined, draw);
      const ll = logLikelihoodReport(sums);
      Object.assign(out, { logLikelihood: ll.logLikelihood, logLikelihoodK: K, logLikelihoodSe: ll.se });
    }
    return out;
  }

  /** q(z|x) for n datapoints (rows [n, D]): μ and log σ², rows [n, J]. */
  async encode(x: Float32Array, n: number): Promise<{ mu: Float32Array; logvar: Float32Array }> {
    this.guard();
    checkRows(x, n, this.config.inputSize, this.maxRows, 'encode(x, n)', 'x');
    return this.pool.encode(x, n);
  }
  /** Decoder means for n latent points (rows [n, J]): rows [n, D]. */
  async decode(z: Float32Array, n: number): Promise<Float32Array> {
    this.guard();
    checkRows(z, n, this.config.latent, this.maxRows, 'decode(z, n)', 'z');
    return this.pool.decode(z, n);
  }
  /** x → μ(x) → decoder mean. */
  async reconstruct(x: Float32Array, n: number): Promise<Float32Array> {
    return this.decode((await this.encode(x, n)).mu, n);
  }
  /** Rows one encode/decode/sample call may ask for (a bound on a worker's memory). */
  get maxRows(): number {
    return maxRowsPerCall(this.config);
  }
  /** n draws z ~ N(0, I) decoded to their means (the paper's Figure 5); 1 ≤ n ≤ maxRows. An aborted `signal` rejects with its reason. */
  async sample(n: number, seed = this.config.seed, options: { signal?: AbortSignal } = {}): Promise<Float32Array> {
    this.guard();
    checkSample(n, seed, this.maxRows);
    const signal = checkSignalOption(options, 'sample(n, seed, options)');
    signal?.throwIfAborted();
    const z = new Float32Array(n * this.config.latent);
    const rng = new CounterRng(seed, Stream.SAMPLE);
    for (let i = 0; i < n; i++) rng.normals(0, i, 0, z, i * this.config.latent, this.config.latent);
    const x = await this.decode(z, n);
    signal?.throwIfAborted();
    return x;
  }

  /** The current state, between requests. */
  state(): Promise<TrainingState> {
    return this.between(() => ({ ...this.pool.readState(), step: this.stepValue, samplesSeen: this.samples }));
  }

  /** checkpoint.aevb bytes of the current state (docs/checkpoint-format.md). */
  async saveCheckpoint(): Promise<Uint8Array> {
    return encodeCheckpoint(await this.checkpointRecord());
  }

  /** model.safetensors bytes of the current state: the state_dict of examples/pytorch's module (docs/safetensors.md). */
  async saveSafetensors(): Promise<Uint8Array> {
    return exportSafetensors(await this.checkpointRecord());
  }

  private async checkpointRecord(state?: TrainingState): Promise<Checkpoint> {
    const st = state ?? (await this.state());
    const t = this.data.train;
    return {
      format: 'aevb-checkpoint',
      version: 1,
      config: this.config,
      step: st.step,
      samplesSeen: st.samplesSeen,
      params: st.params,
      optimizer: { kind: this.config.optimizer, slots: st.slots },
      data: { name: t.name, ...fingerprintOf(this.data) },
      createdAt: new Date().toISOString(),
    };
  }

  /** Replace the state with a checkpoint of the same model and data (validated before anything changes). */
  async loadCheckpoint(bytes: Uint8Array): Promise<void> {
    this.guard();
    checkCheckpointBytes(bytes);
    const loaded = readCheckpointBytes(bytes, 'the checkpoint', this.config); // .aevb or .safetensors
    const c = loaded.checkpoint;
    checkLoadable(
      loaded,
      { ...this.config, epochs: c.config.epochs, evalSamples: c.config.evalSamples, evalElboSamples: c.config.evalElboSamples },
      fingerprintOf(this.data),
      'the checkpoint',
    );
    return this.between(() => {
      this.pool.writeState({ params: c.params, slots: c.optimizer.slots, step: c.step, samplesSeen: c.samplesSeen });
      this.stepValue = c.step;
      this.samples = c.samplesSeen;
    });
  }

  /** tf.memory() per worker. */
  memory(): Promise<WorkerMemory[]> {
    return this.pool.memory();
  }

  /**
   * The events as an async iterator (`for await (const e of trainer.events())`), each
   * `{ type, data }` as on(type) would get it. It ends when the trainer is disposed, when `signal`
   * aborts, or when the loop breaks; events are buffered until read.
   */
  events(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<TrainerEvent> {
    const signal = checkSignalOption(options, 'events(options)');
    return eventStream<TrainerEvents>(
      (listener) => {
        const off = (['progress', 'workers', 'epoch', 'failure', 'status'] as const).map((type) =>
          this.on(type, (data) => listener(type, data)),
        );
        return () => off.forEach((f) => f());
      },
      () => this.statusValue === 'disposed',
      signal,
    );
  }

  /** End every worker; resolves when they are gone. The trainer cannot be used afterwards. */
  async dispose(): Promise<void> {
    if (this.statusValue === 'disposed') return;
    this.stopRequested = true;
    this.resume();
    await this.loop?.catch(() => undefined);
    this.setStatus('disposed');
    await this.pool.dispose();
  }

  /** `await using trainer = await createTrainer(…)` disposes it at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/** tf.memory() of one worker. */
export interface WorkerMemory {
  numTensors: number;
  numBytes: number;
}

/**
 * Test and diagnostics hooks, outside the public API (the entries do not export this; tests reach
 * it through test/helpers/trainer_hooks.ts): end a worker as a crash would, inject a NaN gradient,
 * or make a worker end itself at a point of a step or call.
 */
export function testHooks(t: Trainer) {
  // biome-ignore lint/complexity/useLiteralKeys: the private pool, reached for tests only
  const pool = t['pool'];
  return {
    terminateWorker: (r: number) => pool.terminateWorker(r),
    injectNonFinite: (r: number, s: number) => pool.injectNonFinite(r, s),
    injectDeath: (r: number, at: DeathPoint) => pool.injectDeath(r, at),
  };
}

function fingerprintOf(data: DataSplit) {
  const t = data.train;
  return { n: t.n, d: t.d, fingerprint: datasetFingerprint(t.x, t.n, t.d) };
}
