/**
 * The log p(x) estimate as a task the page can watch and end: it runs in slices of the test set
 * (sliced_evaluation.ts), shows how far it got and the time left, and Cancel ends it after the
 * current slice (about a second). Training and the estimate share the workers, so they take
 * turns: an estimate asked for while training pauses the training and resumes it when it ends;
 * Resume pressed during an estimate queues the training after it (`resumeAfter`).
 */
import type { EvaluationProgress } from '../sliced_evaluation.ts';
import { pageMessage } from './error_words.ts';
import type { Evaluated, Run } from './run.ts';

export interface EstimateElements {
  result: HTMLElement;
  progress: HTMLProgressElement;
  cancel: HTMLButtonElement;
}

/** "about 3 min left" from the time so far and the share done. */
export function timeLeft(elapsedMs: number, done: number, total: number): string {
  if (done <= 0) return 'working out the time left';
  const s = ((elapsedMs / done) * (total - done)) / 1000;
  if (s < 1) return 'almost done';
  if (s < 90) return `about ${Math.ceil(s)} s left`;
  if (s < 90 * 60) return `about ${Math.round(s / 60)} min left`;
  return `about ${(s / 3600).toFixed(1)} h left`;
}

export class LoglikEstimate {
  private abort: AbortController | null = null;
  private task: Promise<unknown> | null = null;
  private started = 0;
  private at: EvaluationProgress = { done: 0, total: 0 };
  private K = 0;
  /** Train on once the estimate ends (it paused training, or Resume was pressed meanwhile). */
  resumeAfter = false;

  constructor(
    private readonly el: EstimateElements,
    private readonly onChange: () => void,
  ) {}

  get running(): boolean {
    return this.abort !== null;
  }

  /** One line for the page's status: what runs, how far, what comes next. */
  status(): string {
    const pct = this.at.total ? Math.floor((100 * this.at.done) / this.at.total) : 0;
    const left = timeLeft(performance.now() - this.started, this.at.done, this.at.total);
    return `Estimating log p(x), K = ${this.K.toLocaleString('en')}: ${pct} %, ${left}. Training ${this.resumeAfter ? 'waits and resumes after it' : 'is paused'}.`;
  }

  /** Run the estimate; resolves when it has ended (done, cancelled or failed) with its result, if any. */
  async run(run: Run, K: number, resumeAfter: boolean): Promise<Evaluated | null> {
    const abort = new AbortController();
    this.abort = abort;
    this.resumeAfter = resumeAfter;
    this.K = K;
    this.started = performance.now();
    this.at = { done: 0, total: run.data.split.test.n };
    this.el.progress.value = 0;
    this.el.progress.hidden = this.el.cancel.hidden = false;
    this.el.result.textContent = '';
    this.onChange();
    const task = run.evaluate({
      samples: K,
      signal: abort.signal,
      onProgress: (p) => {
        this.at = p;
        this.el.progress.value = p.done / p.total;
        this.onChange();
      },
    });
    this.task = task.catch(() => undefined);
    try {
      const ev = await task;
      const se = (v: number | null | undefined) => (v === null || v === undefined ? '' : ` ± ${v.toFixed(2)}`);
      this.el.result.textContent =
        `log p(x) ≥ ${ev.logLikelihood!.toFixed(2)}${se(ev.logLikelihoodSe)} nats per test datapoint: the importance-sampled estimate ` +
        `(K = ${K}, a stochastic lower bound; ± its standard error), step ${ev.step.toLocaleString('en')}; the ELBO there is ${ev.testElbo.toFixed(2)}${se(ev.testElboSe)}.`;
      return ev;
    } catch (e) {
      this.el.result.textContent = abort.signal.aborted
        ? `Cancelled the estimate at ${this.at.done} of ${this.at.total} test datapoints.`
        : pageMessage(e);
      return null;
    } finally {
      this.abort = null;
      this.task = null;
      this.el.progress.hidden = this.el.cancel.hidden = true;
      this.onChange();
    }
  }

  /** End the estimate after its current slice; resolves once it has ended. */
  async cancel(): Promise<void> {
    this.abort?.abort();
    await this.task;
  }

  /** Forget the last result (its run is gone). */
  clear(): void {
    this.el.result.textContent = '';
  }
}
