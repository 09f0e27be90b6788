/**
 * A record of the main thread's long tasks (> 50 ms, the browser's own 'longtask' entries) and of
 * the intervals in which the model was training, so that a test (or a curious user, through
 * window.aevbApp) can check that training never blocks the page.
 */
export interface LongTask {
  start: number;
  duration: number;
}

export class LongTaskLog {
  readonly tasks: LongTask[] = [];
  private readonly intervals: [number, number][] = [];
  private openSince: number | null = null;
  readonly supported: boolean;

  constructor() {
    this.supported = typeof PerformanceObserver !== 'undefined' && PerformanceObserver.supportedEntryTypes.includes('longtask');
    if (!this.supported) return;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.tasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  }

  /** Mark whether training is running now. */
  training(on: boolean): void {
    const now = performance.now();
    if (on && this.openSince === null) this.openSince = now;
    if (!on && this.openSince !== null) {
      this.intervals.push([this.openSince, now]);
      this.openSince = null;
    }
  }

  /** Long tasks that overlapped a training interval. */
  duringTraining(): LongTask[] {
    const spans = this.openSince === null ? this.intervals : [...this.intervals, [this.openSince, Infinity] as [number, number]];
    return this.tasks.filter((t) => spans.some(([a, b]) => t.start < b && t.start + t.duration > a));
  }

  /** Total time spent training so far, in ms. */
  trainingMs(): number {
    const closed = this.intervals.reduce((s, [a, b]) => s + (b - a), 0);
    return closed + (this.openSince === null ? 0 : performance.now() - this.openSince);
  }
}
