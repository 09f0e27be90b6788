/**
 * The training loop behind Trainer.start() and runSteps(), and the position it has reached (step,
 * samples seen). Per request: K steps on the pool (K adapts so a request takes ~100 ms; a request
 * never crosses an epoch's end or an evaluation point) → bookkeeping and events → at an evaluation
 * point (each epoch's end, or a log grid of samples seen: evaluateAt), evaluation, in slices so that
 * a stop waits for one slice. Pause, resume and stop; work that reads or replaces the state
 * (checkpoints, loading) is queued and runs between requests.
 */
import type { TrainConfig } from '../shared/training/config.ts';
import { numericError } from '../shared/errors.ts';
import { ADAPTIVE_OPTIMIZERS, optimizerSpec, orList } from '../shared/training/optimizers.ts';
import type { KernelsInUse } from '../shared/training/step_plan.ts';
import { nextEvalStep, type EvalSchedule } from '../shared/training/eval_schedule.ts';
import type { StepsReport, WorkerPool } from './pool/pool.ts';
import type { WorkerCountTuner } from './worker_count_tuner.ts';
import type { Evaluation } from './evaluation.ts';
import type { TrainerEvents, TrainerStatus } from './trainer_events.ts';
import { EarlyStop, type EarlyStopMark } from '../shared/training/early_stop.ts';
import type { TrainingState } from '../shared/training/training_state.ts';

/** What the loop needs of its Trainer: the run's settings, the pool, and the way to speak (events, status). */
export interface LoopHost {
  readonly config: TrainConfig;
  readonly pool: WorkerPool;
  readonly tuner: WorkerCountTuner | null;
  readonly maxSkippedSteps: number;
  readonly evaluateAt: EvalSchedule;
  /** Evaluate the ELBO on the training set at each point too. */
  readonly evaluateTrain: boolean;
  readonly stepsPerEpoch: number;
  readonly kernels: KernelsInUse;
  readonly disposed: boolean;
  emit<K extends keyof TrainerEvents>(type: K, event: TrainerEvents[K]): void;
  setStatus(s: TrainerStatus): void;
  /** The evaluation of an evaluation point (its options are the loop's own, not a caller's). */
  evaluate(opts: { train: boolean; logLikelihoodSamples: number; signal: AbortSignal }): Promise<Evaluation>;
}

export class TrainLoop {
  /** Steps committed and training samples seen (the model's position). */
  step: number;
  samples: number;
  /** The count that trained the latest request. */
  active: number;
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
  /** config.earlyStop > 0: the best test ELBO so far and the state it was reached at. */
  private readonly early: EarlyStop<TrainingState> | undefined;

  constructor(
    private readonly host: LoopHost,
    start: { step: number; samplesSeen: number },
  ) {
    this.step = start.step;
    this.samples = start.samplesSeen;
    this.active = host.tuner?.next() ?? host.pool.workers;
    this.early = EarlyStop.of(host.config.earlyStop);
  }

  /** Early stopping ended training: at which evaluation, and the best one. Undefined otherwise. */
  get stoppedEarly(): EarlyStopMark | undefined {
    return this.early?.stopped;
  }

  /** The state of the best test ELBO so far (config.earlyStop > 0), undefined before the first evaluation or when it is off. */
  get bestState(): TrainingState | undefined {
    return this.early?.best;
  }

  /** Whether start()'s loop is running (possibly paused). */
  get running(): boolean {
    return this.loop !== null;
  }

  private get epoch(): number {
    return Math.floor(this.step / this.host.stepsPerEpoch);
  }

  /** Trainer.start(): the loop's promise (the same one while it runs), ending as stop() or an abort of `signal` says. */
  start(signal: AbortSignal | undefined): Promise<void> {
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
    if (!this.pauseGate && this.loop) {
      let open!: () => void;
      const promise = new Promise<void>((r) => {
        open = r;
      });
      this.pauseGate = { promise, open };
      this.host.setStatus('paused');
    }
  }

  resume(): void {
    const g = this.pauseGate;
    this.pauseGate = null;
    if (g) {
      this.host.setStatus('running');
      g.open();
    }
  }

  /** Trainer.stop(): end after the current request (or evaluation slice, unless 'finish'); resolves when the loop has ended. */
  async stop(options: { evaluation?: 'abort' | 'finish' } = {}): Promise<void> {
    this.stopRequested = true;
    if (options.evaluation === 'finish') this.finishEvaluationOnStop = true;
    else this.evalAbort?.abort(new Error('stopped'));
    this.resume();
    // How the loop ended (e.g. a diverged run) is start()'s to report; stop() only waits for the end.
    await this.loop?.catch(() => undefined);
  }

  /** Trainer.dispose(): end after the current request (an evaluation under way ends first); resolves when the loop has ended. */
  async end(): Promise<void> {
    this.stopRequested = true;
    this.resume();
    await this.loop?.catch(() => undefined);
  }

  /** Trainer.runSteps(n) once checked: exactly n more steps, or until `signal` aborts. */
  async runSteps(n: number, signal: AbortSignal | undefined): Promise<void> {
    const end = this.step + n;
    signal?.throwIfAborted();
    while (this.step < end) {
      await this.request(Math.min(this.chunk, end - this.step, 256));
      signal?.throwIfAborted();
    }
  }

  private async run(): Promise<void> {
    this.host.setStatus('running');
    const total = this.host.config.epochs * this.host.stepsPerEpoch;
    let failed = false;
    try {
      if (this.evaluationOwed === this.step) await this.evaluationPoint();
      while (!this.stopRequested && this.step < total && !this.early?.stopped) {
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
        const stepsPerEpoch = this.host.stepsPerEpoch;
        const epochEnd = (Math.floor(this.step / stepsPerEpoch) + 1) * stepsPerEpoch;
        const point = nextEvalStep(this.host.evaluateAt, this.step, stepsPerEpoch, this.host.config.batch, total);
        await this.request(Math.min(this.chunk, epochEnd - this.step, point - this.step, 256));
        if (this.step === point) await this.evaluationPoint();
        await this.drainQueue();
      }
    } catch (e) {
      failed = true;
      throw e;
    } finally {
      await this.drainQueue();
      if (!this.host.disposed)
        this.host.setStatus(failed ? 'failed' : (this.step >= total && !this.evaluationPending) || this.early?.stopped ? 'done' : 'idle');
    }
  }

  /** One request of k steps, then bookkeeping and events; throws NUMERIC when the run diverged. */
  private async request(k: number): Promise<void> {
    const { pool, tuner, config } = this.host;
    // While steps are being skipped, ask for no more than it takes to reach the limit.
    if (this.skippedInARow > 0) k = Math.max(1, Math.min(k, this.host.maxSkippedSteps - this.skippedInARow));
    const active = tuner?.next() ?? pool.workers;
    const t0 = performance.now();
    const rep: StepsReport = await pool.runSteps(this.step, k, active);
    const ms = performance.now() - t0;
    this.active = active;
    const M = config.batch;
    const ok = rep.outcomes.filter((o) => o.ok).length;
    // A request with a failure is no measure of speed.
    const choice = rep.failures.length ? null : tuner?.record(active, ok * M, ms);
    if (choice) this.host.emit('workers', choice);
    this.step += rep.outcomes.length;
    this.samples += ok * M;
    this.rate = { samples: this.rate.samples * 0.5 + ok * M, ms: this.rate.ms * 0.5 + ms };
    this.epochTotals.samples += ok * M;
    this.epochTotals.ms += ms;
    this.epochTotals.failed += rep.outcomes.length - ok;
    // Aim for ~100 ms per request: long enough to amortise the round trip, short enough to pause promptly.
    if (rep.outcomes.length === k && ms > 0) this.chunk = Math.max(1, Math.min(256, Math.round((k * 100) / ms)));
    rep.failures.forEach((f) => this.host.emit('failure', f));
    const valued = [...rep.outcomes].reverse().find((o) => o.ok && Number.isFinite(o.elbo));
    this.host.emit('progress', {
      step: this.step,
      workers: active,
      epoch: this.epoch,
      samplesSeen: this.samples,
      ...(valued ? { elbo: valued.elbo / M, recon: valued.recon / M, kl: valued.kl / M } : {}),
      samplesPerSecond: this.rate.ms > 0 ? (this.rate.samples * 1000) / this.rate.ms : 0,
      kernels: this.host.kernels,
    });
    for (const o of rep.outcomes) this.skippedInARow = o.ok ? 0 : this.skippedInARow + 1;
    if (this.skippedInARow >= this.host.maxSkippedSteps) this.diverged();
  }

  /** maxSkippedSteps steps in a row were skipped: say so (event) and stop (throw NUMERIC). */
  private diverged(): never {
    const n = this.skippedInARow,
      last = this.step - 1,
      first = this.step - n;
    const { optimizer, lr } = this.host.config;
    const smaller = Number((lr / 10).toPrecision(3)),
      adaptive = optimizerSpec(optimizer).adaptive;
    this.skippedInARow = 0; // a later start() tries again from the kept state
    const error = numericError(
      `Training diverged: ${n} steps in a row (steps ${first} to ${last}) were skipped because their gradient was not finite (NaN or Inf), so training stopped at step ${this.step}. ` +
        `The model is kept as it was after its last applied update${first > 0 ? ` (before step ${first})` : ' (its initial state)'}. The likely cause: the learning rate (${optimizer}, lr ${lr}) is too large for this model and data.`,
      `Start a new run with a smaller learning rate, e.g. lr ${smaller}${adaptive ? '' : ` (or use optimizer ${orList(ADAPTIVE_OPTIMIZERS)})`}.`,
      { id: 'diverged-run', fields: adaptive ? ['lr'] : ['lr', 'optimizer'], value: smaller },
    );
    this.host.emit('failure', { kind: 'diverged', worker: -1, step: last, firstSkipped: first, skipped: n, cause: error.message, error });
    throw error;
  }

  /** An evaluation point has been reached but not evaluated (a stop interrupted it): start() evaluates it first. */
  get evaluationPending(): boolean {
    return this.evaluationOwed === this.step;
  }

  /**
   * The evaluation at an epoch's end (or a point of the log grid), in slices: a stop() ends it after
   * the current slice and leaves it owed (evaluationPending), so that a pause never waits for a whole
   * evaluation of the training set.
   */
  private async evaluationPoint(): Promise<void> {
    const t0 = performance.now();
    this.evaluationOwed = this.step;
    if (this.stopRequested && !this.finishEvaluationOnStop) return;
    const abort = (this.evalAbort = new AbortController());
    let ev: Awaited<ReturnType<LoopHost['evaluate']>>;
    try {
      ev = await this.host.evaluate({
        train: this.host.evaluateTrain,
        logLikelihoodSamples: this.host.config.evalSamples,
        signal: abort.signal,
      });
    } catch (e) {
      if (abort.signal.aborted) return; // stopped: owed to the next start()
      throw e;
    } finally {
      this.evalAbort = null;
    }
    this.evaluationOwed = -1;
    const { samples, ms, failed } = this.epochTotals;
    this.epochTotals = { samples: 0, ms: 0, failed: 0 };
    const early = this.early?.observe(ev.testElbo, this.step, () => ({
      ...this.host.pool.readState(),
      step: this.step,
      samplesSeen: this.samples,
    }));
    this.host.emit('epoch', {
      ...ev,
      epoch: this.epoch,
      step: this.step,
      point: this.step % this.host.stepsPerEpoch === 0 ? 'epoch' : 'grid',
      samplesSeen: this.samples,
      samplesPerSecond: ms > 0 ? (samples * 1000) / ms : 0,
      trainSeconds: ms / 1000,
      evalSeconds: (performance.now() - t0) / 1000,
      failedSteps: failed,
      ...(early ? { earlyStop: early } : {}),
    });
  }

  /** Run fn between requests (now, if no training loop is running). */
  between<T>(fn: () => Promise<T> | T): Promise<T> {
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
}
