/**
 * The public trainer: a pool of workers training one VAE, with a small life cycle
 * (start, pause, resume, stop, dispose), typed events, evaluation, the model's maps
 * (encode, decode, reconstruct, sample) and checkpoints. Platform-free: the entries
 * (index.ts for pages, node/index.ts for Node) supply the way to spawn workers.
 *
 * The loop, per request: K steps on the pool (K adapts so a request takes ~100 ms; a request
 * never crosses an epoch's end) → bookkeeping and events → at an epoch's end, evaluation.
 * Anything that reads or replaces the state (checkpoints, loading) runs between requests.
 */
import { resolveConfig, type TrainConfig } from '../shared/config.ts';
import type { DataSplit } from '../shared/dataset.ts';
import { checkCompatible, datasetFingerprint, decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../shared/checkpoint.ts';
import { stateError, configError } from '../shared/errors.ts';
import { CounterRng, Stream } from '../shared/rng.ts';
import { initialState, type Evaluation, type TrainingState } from './local_trainer.ts';
import { WorkerPool, type PoolFailure, type StepsReport } from './pool/pool.ts';
import type { Spawner } from './pool/spawner.ts';
import type { Transport } from '../shared/protocol.ts';
import { TypedEmitter } from './events.ts';
import { slicedLogLikelihood, type SliceOptions } from './sliced_evaluation.ts';

export interface TrainerOptions {
  /** Settings; unset fields take the paper's defaults, inputSize comes from the data. */
  config?: Partial<TrainConfig>;
  data: DataSplit;
  /** Workers (default: the machine's parallelism). */
  workers?: number;
  /** 'auto' (default): shared memory when available, otherwise messages (slower, same results). */
  transport?: Transport | 'auto';
  /** Start from a checkpoint (bytes of checkpoint.aevb) instead of a fresh initialisation. */
  checkpoint?: Uint8Array;
  /** Compute the minibatch ELBO for progress events every n-th step (default 10). */
  valueEvery?: number;
  /** Evaluate the ELBO on the training set at each epoch's end too (default true). */
  evaluateTrain?: boolean;
}

export interface ProgressEvent {
  step: number;
  epoch: number;
  samplesSeen: number;
  /** Per-datapoint minibatch estimates from the latest step that computed them. */
  elbo?: number;
  recon?: number;
  kl?: number;
  samplesPerSecond: number;
}

export interface EpochEvent extends Partial<Evaluation> {
  epoch: number;
  step: number;
  samplesSeen: number;
  testElbo: number;
  /** Training samples per second over this epoch's steps (evaluation excluded). */
  samplesPerSecond: number;
  trainSeconds: number;
  evalSeconds: number;
  /** Steps of this epoch skipped because a gradient was not finite. */
  failedSteps: number;
}

export type TrainerStatus = 'idle' | 'running' | 'paused' | 'done' | 'disposed';

export interface TrainerEvents {
  progress: ProgressEvent;
  epoch: EpochEvent;
  failure: PoolFailure;
  status: TrainerStatus;
}

export class Trainer extends TypedEmitter<TrainerEvents> {
  private statusValue: TrainerStatus = 'idle';
  private samples = 0;
  private stepValue: number;
  private chunk = 4;
  private stopRequested = false;
  private pauseGate: { promise: Promise<void>; open: () => void } | null = null;
  private loop: Promise<void> | null = null;
  private queue: Array<() => Promise<void>> = [];
  /** Wakes a paused loop so it runs queued work (and stays paused). */
  private wakeQueue: (() => void) | null = null;
  private rate = { samples: 0, ms: 0 };
  private epochTotals = { samples: 0, ms: 0, failed: 0 };

  private constructor(readonly config: TrainConfig, readonly data: DataSplit, private readonly pool: WorkerPool,
    state: TrainingState, private readonly evaluateTrain: boolean) {
    super();
    this.stepValue = state.step;
    this.samples = state.samplesSeen;
  }

  static async create(options: TrainerOptions, spawn: Spawner, defaultWorkers: number,
    wasmPaths?: string | Record<string, string>): Promise<Trainer> {
    const { data } = options;
    let config: TrainConfig, state: TrainingState;
    if (options.checkpoint) {
      const c = decodeCheckpoint(options.checkpoint, 'the checkpoint');
      config = resolveConfig({ ...c.config, ...options.config });
      checkCompatible(c, config, fingerprintOf(data), 'the checkpoint');
      state = { params: c.params, slots: c.optimizer.slots, step: c.step, samplesSeen: c.samplesSeen };
    } else {
      const asked = options.config?.inputSize;
      if (asked !== undefined && asked !== data.train.d) {
        throw configError('inputSize', `is ${asked} but the training data has ${data.train.d} values per datapoint`,
          'Leave inputSize out (it is taken from the data), or give data of that width.');
      }
      config = resolveConfig({ ...options.config, inputSize: data.train.d });
      state = initialState(config);
    }
    const workers = options.workers ?? defaultWorkers;
    const pool = await WorkerPool.create({
      config, data, workers, spawn, state, transport: options.transport ?? 'auto',
      valueEvery: options.valueEvery ?? 10, maxStepsPerRequest: 256, wasmPaths,
    });
    return new Trainer(config, data, pool, state, options.evaluateTrain ?? true);
  }

  get status(): TrainerStatus { return this.statusValue; }
  get step(): number { return this.stepValue; }
  get samplesSeen(): number { return this.samples; }
  get stepsPerEpoch(): number { return Math.floor(this.data.train.n / this.config.batch); }
  get epoch(): number { return Math.floor(this.stepValue / this.stepsPerEpoch); }
  get workers(): number { return this.pool.workers; }
  get transport(): Transport { return this.pool.transport; }
  get workerInfo() { return this.pool.infos; }

  private setStatus(s: TrainerStatus): void {
    this.statusValue = s;
    this.emit('status', s);
  }

  private guard(): void {
    if (this.statusValue === 'disposed') throw stateError('This trainer was disposed.', 'Create a new one.');
  }

  /**
   * Train until config.epochs are done (or stop()). Resolves then. Calling start() while running
   * returns the same promise.
   */
  start(): Promise<void> {
    this.guard();
    if (this.loop) return this.loop;
    this.stopRequested = false;
    this.loop = this.run().finally(() => { this.loop = null; });
    return this.loop;
  }

  /** Finish the current request, then wait until resume(). */
  pause(): void {
    this.guard();
    if (!this.pauseGate && this.loop) {
      let open!: () => void;
      const promise = new Promise<void>((r) => { open = r; });
      this.pauseGate = { promise, open };
      this.setStatus('paused');
    }
  }

  resume(): void {
    this.guard();
    const g = this.pauseGate;
    this.pauseGate = null;
    if (g) { this.setStatus('running'); g.open(); }
  }

  /** End training after the current request; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    this.resume();
    await this.loop;
  }

  /** Run exactly n more steps (whatever config.epochs says), then resolve. */
  async runSteps(n: number): Promise<void> {
    this.guard();
    if (this.loop) throw stateError('The trainer is already running.', 'Pause or stop it first.');
    const end = this.stepValue + n;
    while (this.stepValue < end) await this.request(Math.min(this.chunk, end - this.stepValue, 256));
  }

  private async run(): Promise<void> {
    this.setStatus('running');
    const total = this.config.epochs * this.stepsPerEpoch;
    try {
      while (!this.stopRequested && this.stepValue < total) {
        if (this.pauseGate) {
          // Paused: sleep until resumed, but run queued work (checkpoints, state reads) meanwhile.
          await Promise.race([this.pauseGate.promise, new Promise<void>((r) => { this.wakeQueue = r; })]);
          this.wakeQueue = null;
          await this.drainQueue();
          continue;
        }
        const epochEnd = (Math.floor(this.stepValue / this.stepsPerEpoch) + 1) * this.stepsPerEpoch;
        await this.request(Math.min(this.chunk, epochEnd - this.stepValue, 256));
        if (this.stepValue === epochEnd) await this.endOfEpoch();
        await this.drainQueue();
      }
    } finally {
      await this.drainQueue();
      if (this.statusValue !== 'disposed') this.setStatus(this.stepValue >= total ? 'done' : 'idle');
    }
  }

  /** One request of k steps, then bookkeeping and events. */
  private async request(k: number): Promise<void> {
    const t0 = performance.now();
    const rep: StepsReport = await this.pool.runSteps(this.stepValue, k);
    const ms = performance.now() - t0;
    const M = this.config.batch;
    const ok = rep.outcomes.filter((o) => o.ok).length;
    this.stepValue += rep.outcomes.length;
    this.samples += ok * M;
    this.rate = { samples: this.rate.samples * 0.5 + ok * M, ms: this.rate.ms * 0.5 + ms };
    this.epochTotals.samples += ok * M; this.epochTotals.ms += ms;
    this.epochTotals.failed += rep.outcomes.length - ok;
    // Aim for ~100 ms per request: long enough to amortise the round trip, short enough to pause promptly.
    if (rep.outcomes.length === k && ms > 0) this.chunk = Math.max(1, Math.min(256, Math.round((k * 100) / ms)));
    rep.failures.forEach((f) => this.emit('failure', f));
    const valued = [...rep.outcomes].reverse().find((o) => o.ok && Number.isFinite(o.elbo));
    this.emit('progress', {
      step: this.stepValue, epoch: this.epoch, samplesSeen: this.samples,
      ...(valued ? { elbo: valued.elbo / M, recon: valued.recon / M, kl: valued.kl / M } : {}),
      samplesPerSecond: this.rate.ms > 0 ? (this.rate.samples * 1000) / this.rate.ms : 0,
    });
  }

  private async endOfEpoch(): Promise<void> {
    const t0 = performance.now();
    const ev = await this.evaluate({ train: this.evaluateTrain, logLikelihoodSamples: this.config.evalSamples });
    const { samples, ms, failed } = this.epochTotals;
    this.epochTotals = { samples: 0, ms: 0, failed: 0 };
    this.emit('epoch', {
      ...ev, epoch: this.epoch, step: this.stepValue, samplesSeen: this.samples,
      samplesPerSecond: ms > 0 ? (samples * 1000) / ms : 0, trainSeconds: ms / 1000,
      evalSeconds: (performance.now() - t0) / 1000, failedSteps: failed,
    });
  }

  /** Run fn between requests (now, if no training loop is running). */
  private between<T>(fn: () => Promise<T> | T): Promise<T> {
    this.guard();
    if (!this.loop) return Promise.resolve().then(fn);
    return new Promise<T>((resolve, reject) => {
      this.queue.push(async () => { try { resolve(await fn()); } catch (e) { reject(e); } });
      this.wakeQueue?.(); // a paused loop runs it now and stays paused
    });
  }

  private async drainQueue(): Promise<void> {
    while (this.queue.length) await this.queue.shift()!();
  }

  /**
   * ELBO per datapoint on the test set (and the training set), and log p(x) with K samples if K > 0.
   * With `signal` or `onProgress`, log p(x) goes in slices of the test set (sliced_evaluation.ts):
   * progress after each, and an abort ends it after the current one.
   */
  async evaluate(opts: { train?: boolean; logLikelihoodSamples?: number } & SliceOptions = {}): Promise<Partial<Evaluation> & { testElbo: number }> {
    this.guard();
    const te = await this.pool.evaluateElbo('test');
    const out: Partial<Evaluation> & { testElbo: number } = { testElbo: te.elbo / te.count, testRecon: te.recon / te.count, testKl: te.kl / te.count };
    if (opts.train ?? true) {
      const tr = await this.pool.evaluateElbo('train');
      Object.assign(out, { trainElbo: tr.elbo / tr.count, trainRecon: tr.recon / tr.count, trainKl: tr.kl / tr.count });
    }
    const K = opts.logLikelihoodSamples ?? 0;
    if (K > 0) {
      out.logLikelihood = opts.signal || opts.onProgress
        ? await slicedLogLikelihood((a, b) => this.pool.evaluateLogLikelihood('test', K, a, b), this.data.test.n, K, this.workers, opts)
        : await this.pool.evaluateLogLikelihood('test', K);
    }
    return out;
  }

  /** q(z|x) for n datapoints (rows [n, D]): μ and log σ², rows [n, J]. */
  encode(x: Float32Array, n: number) { this.checkRows(x, n, this.config.inputSize, 'x'); return this.pool.encode(x, n); }
  /** Decoder means for n latent points (rows [n, J]): rows [n, D]. */
  decode(z: Float32Array, n: number) { this.checkRows(z, n, this.config.latent, 'z'); return this.pool.decode(z, n); }
  /** x → μ(x) → decoder mean. */
  async reconstruct(x: Float32Array, n: number): Promise<Float32Array> { return this.decode((await this.encode(x, n)).mu, n); }
  /** n draws z ~ N(0, I) decoded to their means (the paper's Figure 5). */
  sample(n: number, seed = this.config.seed): Promise<Float32Array> {
    const z = new Float32Array(n * this.config.latent);
    const rng = new CounterRng(seed, Stream.SAMPLE);
    for (let i = 0; i < n; i++) rng.normals(0, i, 0, z, i * this.config.latent, this.config.latent);
    return this.decode(z, n);
  }

  private checkRows(a: Float32Array, n: number, width: number, what: string): void {
    this.guard();
    if (!Number.isInteger(n) || n < 1 || a.length !== n * width) {
      throw configError(what, `has ${a.length} values for n = ${n} rows; it must have n × ${width}`, `Pass ${width} values per row.`);
    }
  }

  /** The current state, between requests. */
  state(): Promise<TrainingState> {
    return this.between(() => ({ ...this.pool.readState(), step: this.stepValue, samplesSeen: this.samples }));
  }

  /** checkpoint.aevb bytes of the current state (docs/checkpoint-format.md). */
  async saveCheckpoint(): Promise<Uint8Array> {
    const st = await this.state();
    const t = this.data.train;
    const c: Checkpoint = {
      format: 'aevb-checkpoint', version: 1, config: this.config, step: st.step, samplesSeen: st.samplesSeen,
      params: st.params, optimizer: { kind: this.config.optimizer, slots: st.slots },
      data: { name: t.name, ...fingerprintOf(this.data) }, createdAt: new Date().toISOString(),
    };
    return encodeCheckpoint(c);
  }

  /** Replace the state with a checkpoint of the same model and data (validated before anything changes). */
  async loadCheckpoint(bytes: Uint8Array): Promise<void> {
    const c = decodeCheckpoint(bytes, 'the checkpoint');
    checkCompatible(c, { ...this.config, epochs: c.config.epochs, evalSamples: c.config.evalSamples }, fingerprintOf(this.data), 'the checkpoint');
    return this.between(() => {
      this.pool.writeState({ params: c.params, slots: c.optimizer.slots, step: c.step, samplesSeen: c.samplesSeen });
      this.stepValue = c.step;
      this.samples = c.samplesSeen;
    });
  }

  /** tf.memory() per worker. */
  memory() { return this.pool.memory(); }
  /** Test and diagnostics hooks. */
  get testing() {
    return { terminateWorker: (r: number) => this.pool.terminateWorker(r), injectNonFinite: (r: number, s: number) => this.pool.injectNonFinite(r, s) };
  }

  /** End every worker. The trainer cannot be used afterwards. */
  async dispose(): Promise<void> {
    if (this.statusValue === 'disposed') return;
    this.stopRequested = true;
    this.resume();
    await this.loop?.catch(() => undefined);
    this.setStatus('disposed');
    await this.pool.dispose();
  }
}

function fingerprintOf(data: DataSplit) {
  const t = data.train;
  return { n: t.n, d: t.d, fingerprint: datasetFingerprint(t.x, t.n, t.d) };
}
