/**
 * The page's run through its life: created (Start), trained, paused and resumed (an estimate of
 * log p(x) takes its turn on the workers), given new epochs (a new pool from its checkpoint), and
 * ended. It holds the current run and data; replacing them (new data, Reset, a loaded checkpoint,
 * a run restored from this browser) is run_replacement.ts's, through endRun, attach and setData.
 *
 * Invariant: a failed action (bad settings) shows its AevbError's message next to the control and
 * changes nothing else; the current model stays as it was.
 */
import { afterNextFrame } from './dom.ts';
import type { LoadedData } from './data_source.ts';
import { checkpointBytes } from './checkpoints.ts';
import type { LoglikEstimate } from './loglik_estimate.ts';
import type { ChartTools } from './chart_tools.ts';
import type { ElboChart } from './elbo_chart.ts';
import type { Explorer } from './explorer.ts';
import { History } from './history.ts';
import type { LongTaskLog } from './long_tasks.ts';
import { Run, type RunPhase } from './run.ts';
import { fieldError, type SettingsForm } from './settings_form.ts';
import type { StatsPanel } from './stats_panel.ts';
import type { RunKeeper } from './run_keeper.ts';
import { writeUrlSettings } from './url_settings.ts';
import { fieldRow } from '../../shared/training/config_fields.ts';
import { ControlledPart, type Controls } from './app_controls.ts';
import type { ComparedCurves } from './compared_curves.ts';
import type { View } from './view.ts';

/** The page's parts a run is shown in and saved by (app.ts builds them). */
export interface RunParts {
  v: View;
  settings: SettingsForm;
  chart: ElboChart;
  chartTools: ChartTools;
  explorer: Explorer;
  stats: StatsPanel;
  keeper: RunKeeper;
  estimate: LoglikEstimate;
  longTasks: LongTaskLog;
  controls: Controls;
  compared: ComparedCurves;
}

export class RunLifecycle extends ControlledPart {
  data: LoadedData | null = null;
  run: Run | null = null;
  /** The step of the run restored at load (-1: none). */
  restoredStep = -1;
  private unsubscribe: (() => void)[] = [];
  private readonly v: View;
  private readonly settings: SettingsForm;
  private readonly chart: ElboChart;
  private readonly chartTools: ChartTools;
  private readonly explorer: Explorer;
  private readonly stats: StatsPanel;
  private readonly keeper: RunKeeper;
  private readonly estimate: LoglikEstimate;
  private readonly longTasks: LongTaskLog;
  private readonly compared: ComparedCurves;

  constructor(parts: RunParts) {
    super(parts.controls);
    ({
      v: this.v,
      settings: this.settings,
      chart: this.chart,
      chartTools: this.chartTools,
      explorer: this.explorer,
      stats: this.stats,
      keeper: this.keeper,
      estimate: this.estimate,
      longTasks: this.longTasks,
      compared: this.compared,
    } = parts);
  }

  private refreshCompared(): void {
    this.compared.refreshCompared();
  }

  /** The page's data is `data` (run_replacement.ts calls it when it replaces the data). */
  setData(data: LoadedData): void {
    this.data = data;
    this.v.dataDesc.textContent = data.description;
    this.explorer.setData(data.split.test);
    this.settings.check(data.split.train.n);
  }

  async start(): Promise<void> {
    const data = this.data;
    if (!data || this.run) return;
    const check = this.settings.check(data.split.train.n);
    if (!check.ok) {
      this.say('Fix the setting marked in red, then press Start.');
      return;
    }
    const { config, workers, kernels } = check.settings;
    if (data.bernoulliProblem && config.decoder === 'bernoulli') {
      this.settings.showError('decoder', data.bernoulliProblem);
      return;
    }
    await this.guarded(this.v.runError, async () => {
      this.say(
        workers === 'auto'
          ? 'Starting one worker per core (auto: the count that trains fastest is measured)…'
          : `Starting ${workers} worker${workers === 1 ? '' : 's'}…`,
      );
      let run: Run;
      try {
        run = await Run.create({ data, config, workers, kernels });
      } catch (e) {
        const f = fieldError(e);
        if (f) {
          this.settings.showError(f.key, f.message);
          this.say('Fix the setting marked in red, then press Start.');
          return;
        }
        throw e;
      }
      this.attach(run);
      await this.keeper.begin(run);
      await this.beforeTraining();
      this.showProgress();
      run.play();
    });
  }

  async pauseOrResume(): Promise<void> {
    const run = this.run;
    if (!run || this.busy) return;
    if (this.estimate.running) {
      // The workers are estimating: training is queued after the estimate (or unqueued).
      this.estimate.resumeAfter = !this.estimate.resumeAfter;
      this.say(this.estimate.status());
      this.refreshControls();
      return;
    }
    if (run.phase === 'running') {
      this.busy = true;
      this.refreshControls();
      try {
        await run.pause();
      } finally {
        this.busy = false;
        this.refreshControls();
      }
      return;
    }
    this.v.restoreBanner.hidden = true;
    const epochs = this.settings.epochs();
    if (epochs !== undefined && epochs !== run.trainer.config.epochs) {
      const ok = await this.guarded(this.v.runError, () => this.changeEpochs(run, epochs));
      if (!ok) return;
    }
    if (this.run!.finished) {
      this.say(`All ${this.run!.trainer.config.epochs} epochs are done: raise Epochs to train more.`);
      return;
    }
    this.busy = true;
    this.refreshControls();
    try {
      await this.beforeTraining();
    } finally {
      this.busy = false;
    }
    this.run?.play();
    this.refreshControls();
  }

  /**
   * Let the page settle before the workers take every core: the pictures of the model as it is
   * (which also gets the drawing code compiled), and one rendered frame with the controls in their
   * new state. Frames rendered while training then carry only small changes.
   */
  private async beforeTraining(): Promise<void> {
    this.say('Starting to train…');
    await this.explorer.refreshNow();
    await afterNextFrame();
  }

  /**
   * In one column (a phone, a narrow window) the chart is below the controls, out of sight after
   * Start: bring the chart and the numbers into view, as the run begins.
   */
  private showProgress(): void {
    const watch = this.v.chart.closest('.watch');
    if (!watch || !matchMedia('(max-width: 1100px)').matches) return;
    const box = this.v.chart.getBoundingClientRect();
    if (box.top < 0 || box.bottom > innerHeight) watch.scrollIntoView({ block: 'start' });
  }

  /** A trainer's config is fixed: a new pool continues from this one's checkpoint with other epochs. */
  private async changeEpochs(old: Run, epochs: number): Promise<void> {
    this.say(`Setting epochs to ${epochs}…`);
    const { bytes: checkpoint } = await checkpointBytes(old.trainer, old.data.fingerprint);
    const run = await Run.create({
      data: old.data,
      config: { epochs },
      workers: old.trainer.autoWorkers ? 'auto' : old.trainer.workers,
      kernels: this.settings.kernels(),
      checkpoint,
      history: old.history,
    });
    Object.assign(run, {
      lastProgress: old.lastProgress,
      lastValued: old.lastValued,
      lastEpoch: old.lastEpoch,
      evaluation: old.evaluation,
      lastEstimate: old.lastEstimate,
    });
    await this.endRun();
    this.attach(run);
  }

  /** End the current run: its events, its workers, what the page shows of it (run_replacement.ts, before a replacement). */
  async endRun(): Promise<void> {
    const run = this.run;
    if (!run) return;
    this.unsubscribe.forEach((u) => u());
    this.unsubscribe = [];
    this.run = null;
    this.longTasks.training(false);
    this.explorer.setTrainer(null);
    this.stats.show(null);
    this.chart.setHistory(new History());
    this.settings.lock(false);
    this.v.restoreBanner.hidden = true;
    this.v.runError.textContent = '';
    this.v.keepError.textContent = '';
    await this.estimate.cancel();
    this.estimate.clear();
    await run.dispose().catch(() => undefined);
  }

  /** `run` becomes the current run: shown, saved, listened to (run_replacement.ts, a replacement's new run). */
  attach(run: Run): void {
    this.run = run;
    this.settings.set(run.trainer.config, run.trainer.autoWorkers ? 'auto' : run.trainer.workers);
    this.settings.lock(true);
    writeUrlSettings(this.settings);
    this.chart.samplesPerStep = run.trainer.config.batch;
    this.chart.setHistory(run.history);
    this.refreshCompared();
    this.stats.show(run);
    this.explorer.setTrainer(run.trainer);
    this.v.runError.textContent = '';
    this.unsubscribe = [
      run.on('progress', () => {
        this.stats.update();
        this.chart.scheduleRedraw();
        this.explorer.request();
        this.keeper.save(false);
      }),
      run.on('epoch', () => {
        this.stats.update();
        this.chart.scheduleRedraw();
        this.chartTools.refresh();
        this.explorer.request();
        this.keeper.save(false);
      }),
      run.on('phase', (p) => this.onPhase(p)),
      run.on('failure', (f) => {
        this.v.runError.textContent = `Worker ${f.worker} failed at step ${f.step} (${f.cause}); the model was kept and training went on.`;
      }),
      run.on('error', (m) => {
        this.v.runError.textContent = m; // in the page's words already (run.ts)
      }),
    ];
  }

  private onPhase(p: RunPhase): void {
    const run = this.run!;
    this.longTasks.training(p === 'running' || p === 'pausing');
    this.stats.update();
    this.refreshControls();
    if (p === 'running') this.say('Training…');
    if (p === 'paused') this.say(run.stoppedBecause ?? `Paused at step ${run.trainer.step.toLocaleString('en')}.`);
    if (p === 'done')
      this.say(run.stoppedBecause ?? `Done: ${run.trainer.config.epochs} epochs. Raise Epochs and press Resume to train more.`);
    if (p === 'paused' || p === 'done') {
      this.keeper.save(true);
      this.explorer.request(true);
    }
  }

  /**
   * log p(x) with K importance samples, as a task the page watches (loglik_estimate.ts). Training
   * and the estimate take turns on the workers: a running run pauses, and resumes when it ends.
   */
  async estimateLogLikelihood(): Promise<void> {
    const run = this.run;
    const K = this.v.loglikK.valueAsNumber;
    // At most as many importance samples as training's evalSamples (its row of the field table).
    const maxK = fieldRow('evalSamples')!.max!;
    if (!run || this.busy || this.estimate.running) return;
    if (!Number.isInteger(K) || K < 1 || K > maxK) {
      this.v.loglikResult.textContent = `K is ${this.v.loglikK.value || 'empty'}; it must be a whole number from 1 to ${maxK}.`;
      return;
    }
    const wasTraining = run.phase === 'running' || run.phase === 'pausing';
    if (wasTraining) {
      this.say('Pausing training for the estimate…');
      await run.pause();
    }
    const ev = await this.estimate.run(run, K, wasTraining);
    if (this.run !== run) return;
    if (ev?.logLikelihood !== undefined) {
      // A point on the chart and a row of the metrics (point 'estimate'), at the state it was made for.
      const t = run.trainer;
      run.history.addEstimate({
        epoch: t.epoch,
        step: t.step,
        point: 'estimate',
        samplesSeen: t.samplesSeen,
        testElbo: ev.testElbo,
        testElboSe: ev.testElboSe ?? undefined,
        elboSamples: ev.elboSamples,
        logLikelihood: ev.logLikelihood,
        logLikelihoodK: K,
        logLikelihoodSe: ev.logLikelihoodSe ?? undefined,
        workers: t.workers,
      });
      this.chart.scheduleRedraw();
      this.chartTools.refresh();
    }
    this.stats.update();
    if (this.estimate.resumeAfter && !run.finished) await this.pauseOrResume();
    else if (run.phase === 'done')
      this.say(ev ? `Done: ${run.trainer.config.epochs} epochs; log p(x) estimated.` : `Done: ${run.trainer.config.epochs} epochs.`);
    else if (run.phase === 'paused')
      this.say(
        ev
          ? `Paused at step ${run.trainer.step.toLocaleString('en')}; log p(x) estimated.`
          : `Paused at step ${run.trainer.step.toLocaleString('en')}.`,
      );
  }
}
