/**
 * The run's curves, as columns that uPlot draws directly: training samples seen (x) against the
 * minibatch ELBO estimate (from 'progress') and the ELBO on the training and test sets (from
 * 'epoch'). Minibatch points are thinned on the log x-axis (a point is kept when x grew by 1 %),
 * so the history stays ~1,000 points however long the run, and fits in IndexedDB. Every epoch's
 * metrics are kept too (the rows of the metrics download, as the CLI's metrics.jsonl).
 */
import type { EpochEvent, ProgressEvent } from '../trainer.ts';

/** One epoch's metrics: the trainer's epoch event and the worker count (the CLI's metrics.jsonl line). */
export type EpochRecord = EpochEvent & { workers: number };

export interface HistoryJson {
  x: number[];
  minibatch: (number | null)[];
  train: (number | null)[];
  test: (number | null)[];
  /** Absent in runs saved before it existed. */
  epochs?: EpochRecord[];
}

/** Keep a minibatch point when samples seen grew by this factor since the last one kept. */
const LOG_SPACING = 1.01;

export class History {
  x: number[] = [];
  minibatch: (number | null)[] = [];
  train: (number | null)[] = [];
  test: (number | null)[] = [];
  epochs: EpochRecord[] = [];
  /** Bumped on every change (the chart redraws when it moved). */
  version = 0;

  static fromJSON(j: HistoryJson | undefined): History {
    const h = new History();
    if (j && j.x.length === j.minibatch.length && j.x.length === j.train.length && j.x.length === j.test.length) {
      Object.assign(h, { x: [...j.x], minibatch: [...j.minibatch], train: [...j.train], test: [...j.test], epochs: [...(j.epochs ?? [])] });
    }
    return h;
  }

  /** The points up to `upTo` samples seen (all by default): what a checkpoint of that moment had drawn. */
  toJSON(upTo = Infinity): HistoryJson {
    let n = this.x.length;
    while (n > 0 && this.x[n - 1] > upTo) n--;
    return { x: this.x.slice(0, n), minibatch: this.minibatch.slice(0, n), train: this.train.slice(0, n), test: this.test.slice(0, n),
      epochs: this.epochs.filter((e) => e.samplesSeen <= upTo) };
  }

  private push(x: number, mb: number | null, train: number | null, test: number | null): void {
    this.x.push(x); this.minibatch.push(mb); this.train.push(train); this.test.push(test);
    this.version++;
  }

  addProgress(p: ProgressEvent): void {
    if (p.elbo === undefined || !Number.isFinite(p.elbo) || p.samplesSeen <= 0) return;
    const last = this.x.length ? this.x[this.x.length - 1] : 0;
    if (p.samplesSeen < last * LOG_SPACING) return;
    this.push(p.samplesSeen, p.elbo, null, null);
  }

  /** An evaluation of the whole sets (an epoch's end, or a loaded checkpoint). */
  addEvaluation(samplesSeen: number, trainElbo: number | undefined, testElbo: number): void {
    if (samplesSeen <= 0) return; // a log axis has no 0; an untrained model is not plotted
    const i = this.x.length - 1;
    if (i >= 0 && this.x[i] === samplesSeen) {
      this.train[i] = trainElbo ?? null; this.test[i] = testElbo;
      this.version++;
    } else if (i < 0 || this.x[i] < samplesSeen) {
      this.push(samplesSeen, null, trainElbo ?? null, testElbo);
    }
  }

  addEpoch(e: EpochEvent, workers: number): void {
    this.epochs.push({ ...e, workers });
    this.addEvaluation(e.samplesSeen, e.trainElbo, e.testElbo);
  }

  get length(): number { return this.x.length; }
}
