/**
 * The public trainer: a pool of workers training one VAE, with a small life cycle
 * (start, pause, resume, stop, dispose), typed events, evaluation, the model's maps
 * (encode, decode, reconstruct, sample) and checkpoints. Platform-free: the entries
 * (index.ts for pages, node/index.ts for Node) supply the way to spawn workers.
 *
 * This file is the façade: it checks a caller's arguments (api_checks.ts) and hands the work on.
 * The loop (requests of steps, evaluation points, pause and stop) is train_loop.ts; the state to
 * and from checkpoint bytes is trainer_checkpoint.ts; the events are declared in trainer_events.ts.
 * Anything that reads or replaces the state (checkpoints, loading) runs between requests.
 */
import type { TrainConfig } from '../shared/training/config.ts';
import type { DataSplit } from '../shared/data/dataset.ts';
import { encodeCheckpoint, type Checkpoint } from '../shared/formats/checkpoint.ts';
import { exportSafetensors } from '../shared/formats/pytorch_state.ts';
import { stateError } from '../shared/errors.ts';
import { CounterRng, Stream } from '../shared/training/rng.ts';
import type { Evaluation } from './evaluation.ts';
import type { TrainingState } from '../shared/training/training_state.ts';
import { WorkerPool } from './pool/pool.ts';
import type { Spawner } from './pool/spawner.ts';
import type { KernelChoice, Transport, WorkerInfo } from '../shared/runtime/protocol.ts';
import type { KernelsInUse } from '../shared/training/step_plan.ts';
import { TypedEmitter } from './events.ts';
import type { EarlyStopMark } from '../shared/training/early_stop.ts';
import { eventStream } from './event_stream.ts';
import { checkSignalOption } from './signal_option.ts';
import { WorkerCountTuner, type WorkerChoice } from './worker_count_tuner.ts';
import {
  checkCheckpointBytes,
  checkEvaluateOptions,
  checkPoolFits,
  checkRows,
  checkSample,
  checkStepCount,
  checkTrainerOptions,
  maxRowsPerCall,
} from './api_checks.ts';
import { elboSliceRows, slicedElbo, slicedLogLikelihood, type SliceOptions } from './sliced_evaluation.ts';
import { elboReport, logLikelihoodReport } from '../shared/model/eval_sums.ts';
import { EPOCHS_SCHEDULE, type EvalSchedule } from '../shared/training/eval_schedule.ts';
import { TrainLoop } from './train_loop.ts';
import { checkpointRecord, loadableState, startingPoint } from './trainer_checkpoint.ts';
import type { TrainerEvent, TrainerEvents, TrainerStatus } from './trainer_events.ts';

export type {
  DivergedFailure,
  TrainerFailure,
  ProgressEvent,
  EpochEvent,
  TrainerStatus,
  TrainerEvents,
  TrainerEvent,
} from './trainer_events.ts';

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

export class Trainer extends TypedEmitter<TrainerEvents> {
  private statusValue: TrainerStatus = 'idle';
  /** The loop and the position it has reached (step, samples seen). */
  private readonly loop: TrainLoop;
  /** Parameters of the model (sizes the evaluation's slices). */
  private readonly paramCount: number;

  private constructor(
    readonly config: TrainConfig,
    readonly data: DataSplit,
    private readonly pool: WorkerPool,
    state: TrainingState,
    evaluateTrain: boolean,
    private readonly tuner: WorkerCountTuner | null,
    readonly maxSkippedSteps: number,
    readonly evaluateAt: EvalSchedule,
  ) {
    super();
    const trainer = this;
    this.loop = new TrainLoop(
      {
        config,
        pool,
        tuner,
        maxSkippedSteps,
        evaluateAt,
        evaluateTrain,
        get stepsPerEpoch() {
          return trainer.stepsPerEpoch;
        },
        get kernels() {
          return trainer.kernels;
        },
        get disposed() {
          return trainer.statusValue === 'disposed';
        },
        emit: (type, event) => this.emit(type, event),
        setStatus: (s) => this.setStatus(s),
        evaluate: (opts) => this.evaluateChecked(opts),
      },
      state,
    );
    this.paramCount = state.params.length;
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
    const { config, state } = startingPoint(data, options.config, options.checkpoint);
    const auto = (options.workers ?? 'auto') === 'auto';
    // auto: one worker per core (never more than the minibatch can feed); the tuner picks how many train.
    const workers = auto ? Math.max(1, Math.min(defaultWorkers, config.batch)) : (options.workers as number);
    checkPoolFits(workers, config.batch, data.train.n);
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
    return this.loop.step;
  }
  get samplesSeen(): number {
    return this.loop.samples;
  }
  get stepsPerEpoch(): number {
    return Math.floor(this.data.train.n / this.config.batch);
  }
  get epoch(): number {
    return Math.floor(this.loop.step / this.stepsPerEpoch);
  }
  /** Workers in the pool. */
  get workers(): number {
    return this.pool.workers;
  }
  /** Workers that trained the latest request (with workers: 'auto', the tuner's count). */
  get activeWorkers(): number {
    return this.loop.active;
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
    return this.loop.start(signal);
  }

  /** Finish the current request, then wait until resume(). */
  pause(): void {
    this.guard();
    this.loop.pause();
  }

  resume(): void {
    this.guard();
    this.loop.resume();
  }

  /**
   * End training after the current request (or the current slice of an evaluation point, which the
   * next start() then does first); resolves when the loop has ended. `evaluation: 'finish'` lets an
   * evaluation point that is due finish first (its 'epoch' event is emitted), as a command-line run
   * that saves and exits on a signal wants: its checkpoint then never skips a metrics line.
   */
  async stop(options: { evaluation?: 'abort' | 'finish' } = {}): Promise<void> {
    this.guard(); // as resume() does
    await this.loop.stop(options);
  }

  /**
   * Run exactly n more steps (whatever config.epochs says), then resolve. Aborting `signal` ends it
   * after the current request (≤ ~100 ms of steps) and rejects with signal.reason; the model is then
   * at a committed step (`step` says which) and training can go on from it.
   */
  async runSteps(n: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    this.guard();
    checkStepCount(n);
    if (this.loop.running) throw stateError('The trainer is already running.', 'Pause or stop it first.');
    const signal = checkSignalOption(options, 'runSteps(n, options)');
    await this.loop.runSteps(n, signal);
  }

  /** An evaluation point has been reached but not evaluated (a stop interrupted it): start() evaluates it first. */
  get evaluationPending(): boolean {
    return this.loop.evaluationPending;
  }

  /** Early stopping ended training (status 'done'): at which evaluation, and the best one. Undefined otherwise. */
  get stoppedEarly(): EarlyStopMark | undefined {
    return this.loop.stoppedEarly;
  }

  /** checkpoint.aevb bytes of the best state so far (the best test ELBO) with config.earlyStop > 0; undefined before the first evaluation or when it is off. */
  async saveBestCheckpoint(): Promise<Uint8Array | undefined> {
    const best = this.loop.bestState;
    return best && encodeCheckpoint(checkpointRecord(this.config, this.data, best));
  }

  /** Run fn between requests (now, if no training loop is running). */
  private between<T>(fn: () => Promise<T> | T): Promise<T> {
    this.guard();
    return this.loop.between(fn);
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
  ): Promise<Evaluation> {
    this.guard();
    checkEvaluateOptions(opts);
    return this.evaluateChecked(opts);
  }

  /** evaluate() once its options are checked; the loop's evaluation points call it directly (their options are its own). */
  private async evaluateChecked(
    opts: { train?: boolean; logLikelihoodSamples?: number; elboSamples?: number; draw?: number } & SliceOptions,
  ): Promise<Evaluation> {
    const S = opts.elboSamples ?? this.config.evalElboSamples,
      draw = opts.draw ?? this.loop.step;
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
    const out: Evaluation = {
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
    // μ(x) goes straight to the pool: x was checked by encode(), and μ is the model's, not a caller's.
    return this.pool.decode((await this.encode(x, n)).mu, n);
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
    const x = await this.pool.decode(z, n); // z is drawn here: nothing of the caller's to check again
    signal?.throwIfAborted();
    return x;
  }

  /** The current state, between requests. */
  state(): Promise<TrainingState> {
    return this.between(() => ({ ...this.pool.readState(), step: this.loop.step, samplesSeen: this.loop.samples }));
  }

  /** checkpoint.aevb bytes of the current state (docs/checkpoint-format.md). */
  async saveCheckpoint(): Promise<Uint8Array> {
    return encodeCheckpoint(await this.checkpointRecord());
  }

  /** model.safetensors bytes of the current state: the state_dict of examples/pytorch's module (docs/safetensors.md). */
  async saveSafetensors(): Promise<Uint8Array> {
    return exportSafetensors(await this.checkpointRecord());
  }

  private async checkpointRecord(): Promise<Checkpoint> {
    return checkpointRecord(this.config, this.data, await this.state());
  }

  /** Replace the state with a checkpoint of the same model and data (validated before anything changes). */
  async loadCheckpoint(bytes: Uint8Array): Promise<void> {
    this.guard();
    checkCheckpointBytes(bytes);
    const state = loadableState(bytes, this.config, this.data);
    return this.between(() => {
      this.pool.writeState(state);
      this.loop.step = state.step;
      this.loop.samples = state.samplesSeen;
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
    await this.loop.end();
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
