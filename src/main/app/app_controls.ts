/**
 * The page's control state: which buttons are enabled and what Pause/Resume says, from the data,
 * the run's phase, an estimate under way and `busy` (an action is running: its controls are off
 * until it ends); the status line; and guarded(), which runs an action with the controls off and
 * shows its error beside the control.
 */
import { pageMessage } from './error_words.ts';
import type { ChartTools } from './chart_tools.ts';
import type { LoadedData } from './data_source.ts';
import type { LoglikEstimate } from './loglik_estimate.ts';
import type { Run } from './run.ts';
import type { SettingsForm } from './settings_form.ts';
import type { View } from './view.ts';

export class Controls {
  /** An action is running: the controls that could start another are disabled. */
  busy = false;

  constructor(
    private readonly v: View,
    private readonly settings: SettingsForm,
    private readonly estimate: LoglikEstimate,
    private readonly chartTools: ChartTools,
    /** The page's data and run now (run_lifecycle.ts owns them). */
    private readonly current: () => { data: LoadedData | null; run: Run | null },
  ) {}

  private get data(): LoadedData | null {
    return this.current().data;
  }
  private get run(): Run | null {
    return this.current().run;
  }

  /** Run fn with the controls disabled; its error goes to `errorEl`. */
  async guarded(errorEl: HTMLElement, fn: () => Promise<void>): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    errorEl.textContent = '';
    this.refreshControls();
    try {
      await fn();
      return true;
    } catch (e) {
      errorEl.textContent = pageMessage(e);
      return false;
    } finally {
      this.busy = false;
      this.refreshControls();
    }
  }

  say(text: string): void {
    this.v.status.textContent = text;
  }

  /** More workers than cores take turns on them: each step then waits for the slowest. */
  private warnWorkers(): void {
    const n = Number(this.settings.entries().find(([k]) => k === 'workers')![1]);
    const cores = navigator.hardwareConcurrency || 1;
    const text =
      Number.isInteger(n) && n > cores
        ? `${n} workers on ${cores} core${cores === 1 ? '' : 's'}: they take turns on the cores and every step waits for the slowest, so ${cores} is usually faster.`
        : '';
    if (this.v.workersWarning.textContent !== text) this.v.workersWarning.textContent = text;
  }

  /** Enable what makes sense now; label Pause/Resume. */
  refreshControls(): void {
    const v = this.v,
      run = this.run,
      busy = this.busy;
    const phase = run?.phase;
    v.start.disabled = busy || !this.data || run !== null;
    const estimating = this.estimate.running;
    v.pause.textContent = !run
      ? 'Pause / Resume'
      : estimating
        ? this.estimate.resumeAfter
          ? 'Stay paused after it'
          : 'Train after the estimate'
        : phase === 'running' || phase === 'pausing'
          ? 'Pause'
          : 'Resume';
    v.pause.title = run ? '' : 'Start a run first';
    const epochs = this.settings.epochs();
    const canResume = run !== null && (!run.finished || (epochs !== undefined && epochs !== run.trainer.config.epochs));
    v.pause.disabled = busy || !run || phase === 'pausing' || (phase !== 'running' && !canResume);
    v.reset.disabled = busy || !run;
    v.restorePrevious.disabled = busy;
    v.saveCheckpoint.disabled = v.exportDecoder.disabled = v.exportPytorch.disabled = busy || !run;
    v.loglik.disabled = busy || !run || estimating;
    v.loadCheckpoint.disabled = busy || !this.data;
    v.dataFiles.disabled = v.dataEmbedded.disabled = busy;
    v.restoreResume.disabled = v.pause.disabled;
    this.warnWorkers();
    this.chartTools.refresh();
  }
}

/** A part of the page that acts through the controls: `busy`, guarded actions, the status line (run_lifecycle.ts, run_replacement.ts). */
export abstract class ControlledPart {
  constructor(protected readonly controls: Controls) {}

  protected get busy(): boolean {
    return this.controls.busy;
  }
  protected set busy(b: boolean) {
    this.controls.busy = b;
  }
  protected guarded(errorEl: HTMLElement, fn: () => Promise<void>): Promise<boolean> {
    return this.controls.guarded(errorEl, fn);
  }
  protected say(text: string): void {
    this.controls.say(text);
  }
  protected refreshControls(): void {
    this.controls.refreshControls();
  }
}
