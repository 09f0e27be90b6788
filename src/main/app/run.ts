/**
 * One training run: a Trainer on the page's data, its curves, and a phase the page can show.
 *
 * Pausing ends the trainer's loop (stop()) and resuming starts it again from the same step, instead
 * of the trainer's pause()/resume(): while paused by pause(), anything that reads or writes the
 * state between requests (state(), saveCheckpoint(), loadCheckpoint()) resumes the loop for a
 * request, so saving on pause would quietly train on. A stopped loop runs those at once.
 */
import { createTrainer } from '../index.ts';
import type { EpochEvent, ProgressEvent, Trainer } from '../trainer.ts';
import type { Evaluation } from '../evaluation.ts';
import type { PoolFailure } from '../pool/pool.ts';
import type { SliceOptions } from '../sliced_evaluation.ts';
import type { TrainConfig } from '../../shared/training/config.ts';
import type { EarlyStopMark } from '../../shared/training/early_stop.ts';
import type { KernelChoice } from '../../shared/runtime/protocol.ts';
import { TypedEmitter } from '../events.ts';
import type { LoadedData } from './data_source.ts';
import { pageMessage } from './error_words.ts';
import { History } from './history.ts';

export type RunPhase = 'running' | 'pausing' | 'paused' | 'done';

export interface RunEvents {
  phase: RunPhase;
  progress: ProgressEvent;
  epoch: EpochEvent;
  failure: PoolFailure;
  error: string;
}

/** The latest evaluation of the model on the whole sets (an epoch's end, or one asked for) and the step it was made at. */
export type Evaluated = Evaluation & { step: number };

export interface RunOptions {
  data: LoadedData;
  config?: Partial<TrainConfig>;
  workers: number | 'auto';
  /** The step's kernels (the settings' Kernels); undefined: the library's default. */
  kernels?: KernelChoice;
  checkpoint?: Uint8Array;
  history?: History;
}

export class Run extends TypedEmitter<RunEvents> {
  private phaseValue: RunPhase;
  private loop: Promise<void> | null = null;
  private readonly unsubscribe: (() => void)[];
  lastProgress?: ProgressEvent;
  /** The latest progress event that carried the minibatch ELBO (every valueEvery-th step does). */
  lastValued?: ProgressEvent;
  lastEpoch?: EpochEvent;
  evaluation?: Evaluated;
  /** The latest evaluation with a log p(x) estimate (it stays shown after the next epoch's evaluation, which has none). */
  lastEstimate?: Evaluated;
  /** Every epoch event of this trainer. */
  readonly epochs: EpochEvent[] = [];
  /** Why training last stopped on its own (a diverged run: the trainer's message), until the next play(). */
  stoppedBecause?: string;

  private constructor(
    readonly trainer: Trainer,
    readonly data: LoadedData,
    readonly history: History,
  ) {
    super();
    this.phaseValue = this.finished ? 'done' : 'paused';
    this.unsubscribe = [
      trainer.on('progress', (p) => {
        this.lastProgress = p;
        if (p.elbo !== undefined) this.lastValued = p;
        this.history.addProgress(p);
        this.emit('progress', p);
      }),
      trainer.on('epoch', (e) => {
        this.lastEpoch = e;
        this.epochs.push(e);
        // The evaluation record at this step: the event less what only the event carries (evaluation.ts).
        const { epoch, point, samplesSeen, samplesPerSecond, trainSeconds, evalSeconds, failedSteps, earlyStop, ...evaluation } = e;
        this.evaluation = evaluation;
        this.history.addEpoch(e, trainer.workers);
        if (e.earlyStop?.stop) this.stoppedBecause = earlyStopWords(e.earlyStop);
        this.emit('epoch', e);
      }),
      trainer.on('failure', (f) => {
        // A diverged run stops training: the page shows why in its status line (see stoppedBecause).
        if (f.kind === 'diverged') this.stoppedBecause = pageMessage(f.error);
        else this.emit('failure', f);
      }),
    ];
  }

  /** Start the workers (a fresh model, or the checkpoint's). Rejects with the AevbError of bad settings. */
  static async create(o: RunOptions): Promise<Run> {
    const trainer = await createTrainer({
      data: o.data.split,
      config: o.config,
      workers: o.workers,
      checkpoint: o.checkpoint,
      ...(o.kernels ? { kernels: o.kernels } : {}),
    });
    return new Run(trainer, o.data, o.history ?? new History());
  }

  /**
   * Evaluate the current model (between training requests when it trains): the ELBO on the test
   * set, on the training set if `train`, and log p(x) by importance sampling with K samples if K > 0
   * (in slices with progress, cancellable, when given `onProgress` or `signal`).
   */
  async evaluate(opts: { train?: boolean; samples?: number } & SliceOptions = {}): Promise<Evaluated> {
    const step = this.trainer.step,
      seen = this.trainer.samplesSeen;
    const { train, samples, ...slicing } = opts;
    const ev = await this.trainer.evaluate({ train: train ?? false, logLikelihoodSamples: samples ?? 0, ...slicing });
    // Keep what an earlier evaluation of this same step knew (e.g. the training-set ELBO).
    const before = this.evaluation?.step === step ? this.evaluation : {};
    const out: Evaluated = { ...before, step, ...ev };
    this.evaluation = out;
    if (out.logLikelihood !== undefined) this.lastEstimate = out;
    if (opts.train) this.history.addEvaluation(seen, ev.trainElbo, ev.testElbo);
    return out;
  }

  get phase(): RunPhase {
    return this.phaseValue;
  }
  get totalSteps(): number {
    return this.trainer.config.epochs * this.trainer.stepsPerEpoch;
  }
  /** All steps done and evaluated (a pause during the last epoch's evaluation leaves it to the next play()), or stopped early. */
  get finished(): boolean {
    return (this.trainer.step >= this.totalSteps && !this.trainer.evaluationPending) || this.trainer.stoppedEarly !== undefined;
  }

  private setPhase(p: RunPhase): void {
    if (p === this.phaseValue) return;
    this.phaseValue = p;
    this.emit('phase', p);
  }

  /** Train on from the current step until the epochs are done or pause(). */
  play(): void {
    if (this.loop || this.finished) return;
    this.stoppedBecause = undefined;
    this.setPhase('running');
    this.loop = this.trainer
      .start()
      .catch((e) => this.emit('error', pageMessage(e)))
      .finally(() => {
        this.loop = null;
        this.setPhase(this.finished ? 'done' : 'paused');
      });
  }

  /** End the loop after its current request, or after the current slice of an epoch's evaluation (the trainer finishes it on the next play()). */
  async pause(): Promise<void> {
    if (!this.loop) return;
    this.setPhase('pausing');
    await this.trainer.stop();
    await this.loop;
  }

  async dispose(): Promise<void> {
    this.unsubscribe.forEach((u) => u());
    await this.trainer.dispose();
    await this.loop;
  }
}

/** The status line of a run that early stopping ended. */
export function earlyStopWords(m: EarlyStopMark): string {
  return (
    `Stopped early at evaluation ${m.evaluation}: no better test ELBO in ${m.sinceBest} evaluation${m.sinceBest === 1 ? '' : 's'}. ` +
    `The best was evaluation ${m.bestEvaluation} (step ${m.bestStep.toLocaleString('en')}, test ELBO ${m.bestElbo.toFixed(2)}).`
  );
}
