/**
 * The run's curves, as columns that uPlot draws directly: training samples seen (x) against the
 * minibatch ELBO estimate (from 'progress') and the ELBO on the training and test sets (from
 * 'epoch'). Minibatch points are thinned on the log x-axis (a point is kept when x grew by 1 %),
 * so the history stays ~1,000 points however long the run, and fits in IndexedDB. Every epoch's
 * metrics are kept too (the rows of the metrics download, as the CLI's metrics.jsonl), and so is
 * every log p(x) estimate asked for (a row with point 'estimate', and a point on the chart).
 * A checkpoint carries the same rows and the minibatch curve (toMetrics / fromMetrics), so that a
 * loaded checkpoint brings its curves.
 */
import type { CheckpointMetrics } from '../../shared/formats/checkpoint.ts';
import type { EpochEvent, ProgressEvent } from '../trainer.ts';
import type { EpochRecord } from '../evaluation.ts';

/**
 * A row of the metrics: an epoch's (or a grid point's) record, or a log p(x) estimate asked for
 * (point 'estimate': the fields of the estimate, the step and samples seen it was made at).
 */
export type MetricsRow = Omit<Partial<EpochRecord>, 'point'> &
  Pick<EpochRecord, 'step' | 'samplesSeen'> & { point?: EpochEvent['point'] | 'estimate' };

export interface HistoryJson {
  x: number[];
  minibatch: (number | null)[];
  train: (number | null)[];
  test: (number | null)[];
  /** Absent in runs saved before it existed. */
  epochs?: MetricsRow[];
  /** log p(x) estimates at x (absent in runs saved before it existed). */
  loglik?: (number | null)[];
}

/** Keep a minibatch point when samples seen grew by this factor since the last one kept. */
const LOG_SPACING = 1.01;

export class History {
  x: number[] = [];
  minibatch: (number | null)[] = [];
  train: (number | null)[] = [];
  test: (number | null)[] = [];
  /** The log p(x) estimates (IS, K samples), at the x of the state they were made for. */
  loglik: (number | null)[] = [];
  epochs: MetricsRow[] = [];
  /** Bumped on every change (the chart redraws when it moved). */
  version = 0;

  static fromJSON(j: HistoryJson | undefined): History {
    const h = new History();
    if (j && j.x.length === j.minibatch.length && j.x.length === j.train.length && j.x.length === j.test.length) {
      const loglik = j.loglik?.length === j.x.length ? [...j.loglik] : j.x.map(() => null);
      Object.assign(h, {
        x: [...j.x],
        minibatch: [...j.minibatch],
        train: [...j.train],
        test: [...j.test],
        loglik,
        epochs: [...(j.epochs ?? [])],
      });
    }
    return h;
  }

  /** The history a checkpoint carries (its metrics section): the rows' evaluations and estimates, and the minibatch curve. */
  static fromMetrics(m: CheckpointMetrics): History {
    const h = new History();
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
    const points = [...m.minibatch.map(([x, y]) => ({ x, mb: y })), ...m.rows.map((r) => ({ x: r.samplesSeen as number, row: r }))].sort(
      (a, b) => a.x - b.x,
    );
    for (const p of points) {
      if ('mb' in p) {
        h.addProgressPoint(p.x, p.mb!);
        continue;
      }
      const r = p.row!;
      const test = num(r.testElbo),
        loglik = num(r.logLikelihood);
      if (r.point === 'estimate') {
        if (loglik !== undefined) h.addEstimate(r as unknown as MetricsRow);
        continue;
      }
      if (test !== undefined) h.addEvaluation(p.x, num(r.trainElbo), test);
      if (loglik !== undefined) h.setLoglik(p.x, loglik);
      h.epochs.push({ ...r } as unknown as MetricsRow);
    }
    return h;
  }

  /** The metrics section for a checkpoint of this run at `upTo` samples seen (all by default). */
  toMetrics(upTo = Infinity): CheckpointMetrics {
    const rows = this.epochs
      .filter((e) => e.samplesSeen <= upTo)
      .map((e) => JSON.parse(JSON.stringify(e)) as CheckpointMetrics['rows'][number]);
    const minibatch: [number, number][] = [];
    this.x.forEach((x, i) => {
      const y = this.minibatch[i];
      if (x <= upTo && y != null && Number.isFinite(y)) minibatch.push([x, y]);
    });
    return { rows, minibatch };
  }

  /** The points up to `upTo` samples seen (all by default): what a checkpoint of that moment had drawn. */
  toJSON(upTo = Infinity): HistoryJson {
    let n = this.x.length;
    while (n > 0 && this.x[n - 1] > upTo) n--;
    return {
      x: this.x.slice(0, n),
      minibatch: this.minibatch.slice(0, n),
      train: this.train.slice(0, n),
      test: this.test.slice(0, n),
      loglik: this.loglik.slice(0, n),
      epochs: this.epochs.filter((e) => e.samplesSeen <= upTo),
    };
  }

  private push(x: number, mb: number | null, train: number | null, test: number | null): void {
    this.x.push(x);
    this.minibatch.push(mb);
    this.train.push(train);
    this.test.push(test);
    this.loglik.push(null);
    this.version++;
  }

  addProgress(p: ProgressEvent): void {
    if (p.elbo === undefined || !Number.isFinite(p.elbo)) return;
    this.addProgressPoint(p.samplesSeen, p.elbo);
  }

  private addProgressPoint(x: number, elbo: number): void {
    if (x <= 0) return;
    const last = this.x.length ? this.x[this.x.length - 1] : 0;
    if (x < last * LOG_SPACING) return;
    this.push(x, elbo, null, null);
  }

  /** The row of x (added with nulls after the last if x is new and later; -1 if x lies before the last). */
  private rowAt(x: number): number {
    const i = this.x.length - 1;
    if (i >= 0 && this.x[i] === x) return i;
    if (i >= 0 && this.x[i] > x) return this.x.lastIndexOf(x);
    this.push(x, null, null, null);
    return this.x.length - 1;
  }

  private setLoglik(x: number, v: number): void {
    if (x <= 0) return;
    const i = this.rowAt(x);
    if (i < 0) return;
    this.loglik[i] = v;
    this.version++;
  }

  /** A log p(x) estimate asked for (a row of the metrics with point 'estimate', and a point on the chart). */
  addEstimate(row: MetricsRow): void {
    if (row.logLikelihood === undefined || !Number.isFinite(row.logLikelihood)) return;
    this.epochs.push({ ...row, point: 'estimate' });
    this.setLoglik(row.samplesSeen, row.logLikelihood);
  }

  /** An evaluation of the whole sets (an epoch's end, or a loaded checkpoint). */
  addEvaluation(samplesSeen: number, trainElbo: number | undefined, testElbo: number): void {
    if (samplesSeen <= 0) return; // a log axis has no 0; an untrained model is not plotted
    const i = this.x.length - 1;
    if (i >= 0 && this.x[i] === samplesSeen) {
      this.train[i] = trainElbo ?? null;
      this.test[i] = testElbo;
      this.version++;
    } else if (i < 0 || this.x[i] < samplesSeen) {
      this.push(samplesSeen, null, trainElbo ?? null, testElbo);
    }
  }

  addEpoch(e: EpochEvent, workers: number): void {
    this.epochs.push({ ...e, workers });
    this.addEvaluation(e.samplesSeen, e.trainElbo, e.testElbo);
    if (e.logLikelihood !== undefined && Number.isFinite(e.logLikelihood)) this.setLoglik(e.samplesSeen, e.logLikelihood);
  }

  get length(): number {
    return this.x.length;
  }
}
