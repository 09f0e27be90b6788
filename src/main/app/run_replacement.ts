/**
 * The page's run replaced: new data, Reset, a loaded checkpoint, a run restored from this browser
 * (the last one after a reload, or the previous one). Nothing is lost silently: a replacement asks
 * first when a run exists, and the run it replaces is kept as the previous run (run_keeper.ts).
 * The run's own life (created, trained, paused, ended) is run_lifecycle.ts's, which holds the
 * current run and data; a replacement ends that run and attaches its new one through it.
 *
 * Invariant: a failed replacement (bad data, a bad checkpoint) shows its AevbError's message next
 * to the control and changes nothing else; the current model stays as it was.
 */
import { pageMessage } from './error_words.ts';
import { loadData, type DataSource, type LoadedData } from './data_source.ts';
import { confirmAction } from './confirm_dialog.ts';
import type { LoglikEstimate } from './loglik_estimate.ts';
import type { Saved } from './store.ts';
import { History } from './history.ts';
import { Run } from './run.ts';
import type { SettingsForm } from './settings_form.ts';
import type { StatsPanel } from './stats_panel.ts';
import type { RunKeeper } from './run_keeper.ts';
import { readCheckpointMetrics } from '../../shared/formats/checkpoint.ts';
import { ControlledPart } from './app_controls.ts';
import type { ComparedCurves } from './compared_curves.ts';
import type { RunLifecycle, RunParts } from './run_lifecycle.ts';
import type { View } from './view.ts';

export class RunReplacement extends ControlledPart {
  private readonly v: View;
  private readonly settings: SettingsForm;
  private readonly stats: StatsPanel;
  private readonly keeper: RunKeeper;
  private readonly estimate: LoglikEstimate;
  private readonly compared: ComparedCurves;

  constructor(
    private readonly life: RunLifecycle,
    parts: RunParts,
  ) {
    super(parts.controls);
    ({
      v: this.v,
      settings: this.settings,
      stats: this.stats,
      keeper: this.keeper,
      estimate: this.estimate,
      compared: this.compared,
    } = parts);
  }

  // The current run and data, and what changes them, are the lifecycle's.
  private get run(): Run | null {
    return this.life.run;
  }
  private get data(): LoadedData | null {
    return this.life.data;
  }
  private set restoredStep(step: number) {
    this.life.restoredStep = step;
  }
  private endRun(): Promise<void> {
    return this.life.endRun();
  }
  private attach(run: Run): void {
    this.life.attach(run);
  }
  private setData(data: LoadedData): void {
    this.life.setData(data);
  }

  private showPrevious(): Promise<void> {
    return this.compared.showPrevious();
  }

  /** Open a run kept in this browser (the current one after a reload, or the previous one); it becomes current. */
  async restore(saved: Saved, previous = false): Promise<boolean> {
    const what = previous ? 'the previous run' : 'your last run';
    this.say(`Restoring ${what}…`);
    this.busy = true;
    this.refreshControls();
    try {
      const data = await loadData(saved.source);
      const checkpoint = new Uint8Array(await saved.run.checkpoint.arrayBuffer());
      const run = await Run.create({
        data,
        workers: saved.run.workers,
        kernels: this.settings.kernels(),
        checkpoint,
        history: History.fromJSON(saved.run.history),
      });
      if (previous) {
        await this.keeper.retire();
        await this.endRun();
      } // the two runs swap (or the previous one becomes the only one)
      this.setData(data);
      this.attach(run);
      if (previous) await this.keeper.begin(run);
      else this.keeper.lastSavedStep = run.trainer.step;
      this.restoredStep = run.trainer.step;
      const when = new Date(saved.run.savedAt).toLocaleString();
      this.v.restoreText.textContent = `Restored ${what} from ${when}: step ${run.trainer.step.toLocaleString('en')}, epoch ${run.trainer.epoch} of ${run.trainer.config.epochs}.`;
      this.v.restoreBanner.hidden = false;
      this.say(`Restored ${what}. Press Resume to train on.`);
      void run.evaluate().then(
        () => this.stats.update(),
        () => undefined,
      );
      return true;
    } catch (e) {
      this.v.runError.textContent = `Could not restore ${what}: ${pageMessage(e)}`;
      if (!previous) await this.keeper.forget();
      return false;
    } finally {
      await this.showPrevious(); // before busy ends: the page is settled when the controls come back
      this.busy = false;
      this.refreshControls();
    }
  }

  async restorePrevious(): Promise<void> {
    if (this.busy) return;
    const prev = await this.keeper.previous();
    if (!prev) {
      await this.showPrevious();
      return;
    }
    if (!(await this.askToReplace(`Restore the previous run (step ${prev.run.step.toLocaleString('en')})?`, 'Restore it'))) return;
    await this.restore(prev, true);
  }

  /**
   * Before the current run is replaced: ask (when one exists), end a running estimate, and keep the
   * run as the previous run. False: the user kept it.
   */
  private async askToReplace(what: string, action: string): Promise<boolean> {
    const run = this.run;
    if (!run) return true;
    this.say('Waiting for your answer: replace the current run?');
    const ok = await confirmAction(
      `${what} It replaces the current run (step ${run.trainer.step.toLocaleString('en')}), which is kept in this browser: "Restore the previous run" brings it back.`,
      action,
    );
    if (!ok) {
      this.say('Kept the current run.');
      return false;
    }
    await this.estimate.cancel();
    return true;
  }

  /** Load a data source; on success it replaces the data and ends the current run. */
  async useData(source: DataSource): Promise<void> {
    await this.guarded(this.v.dataError, async () => {
      this.say(
        source.kind === 'embedded' ? 'Loading the embedded MNIST digits…' : `Reading ${source.files.map((f) => f.name).join(', ')}…`,
      );
      let data: LoadedData;
      try {
        data = await loadData(source);
      } catch (e) {
        this.say(this.run ? 'That data could not be used; the current run is unchanged.' : 'That data could not be used.');
        throw e;
      }
      const hadRun = this.run !== null;
      if (!(await this.askToReplace(`Use ${data.description}`, 'Use the new data'))) return;
      if (hadRun) await this.keeper.retire();
      await this.endRun();
      this.setData(data);
      if (data.bernoulliProblem && this.settings.check().ok) this.settings.showError('decoder', data.bernoulliProblem);
      this.say(`${hadRun ? 'The previous run ended (restorable). ' : ''}Data ready: press Start to train.`);
      await this.showPrevious();
    });
  }

  async reset(): Promise<void> {
    if (this.busy || !this.run) return;
    if (!(await this.askToReplace('Reset?', 'Reset'))) return;
    await this.guarded(this.v.runError, async () => {
      await this.keeper.retire();
      await this.endRun();
      await this.showPrevious();
      this.say('Reset: change the settings and press Start. The run you reset is kept as the previous run.');
    });
  }

  async loadCheckpoint(file: File): Promise<void> {
    const data = this.data;
    if (!data) return;
    await this.guarded(this.v.keepError, async () => {
      this.say(`Loading ${file.name}…`);
      const checkpoint = new Uint8Array(await file.arrayBuffer());
      const check = this.settings.check();
      const workers = this.run
        ? this.run.trainer.autoWorkers
          ? 'auto'
          : this.run.trainer.workers
        : check.ok
          ? check.settings.workers
          : 'auto';
      let run: Run;
      try {
        // The file's metrics history (if it carries one) is the loaded run's curve.
        const metrics = readCheckpointMetrics(checkpoint, file.name);
        run = await Run.create({
          data,
          workers,
          kernels: this.settings.kernels(),
          checkpoint,
          history: metrics ? History.fromMetrics(metrics) : undefined,
        });
        await run.evaluate({ train: true });
      } catch (e) {
        this.say(this.run ? 'That checkpoint could not be loaded; the current run is unchanged.' : 'That checkpoint could not be loaded.');
        throw e;
      }
      if (!(await this.askToReplace(`Load ${file.name} (step ${run.trainer.step.toLocaleString('en')})?`, 'Load it'))) {
        await run.dispose();
        return;
      }
      if (this.run) await this.keeper.retire();
      await this.endRun();
      await this.showPrevious();
      this.attach(run);
      await this.keeper.begin(run);
      this.say(
        `Loaded ${file.name}: step ${run.trainer.step.toLocaleString('en')}, test ELBO ${run.evaluation!.testElbo.toFixed(2)}. Press Resume to train on.`,
      );
    });
  }
}
