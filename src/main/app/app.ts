/**
 * The page's controller: one dataset and at most one run, and the user's actions on them
 * (load data, start, pause/resume, reset, save/load checkpoints, export, estimate log p(x)).
 * The pieces it wires each live in their own file: settings_form, run, elbo_chart, stats_panel,
 * explorer, data_source (+ data_worker), run_keeper (IndexedDB), downloads, long_tasks,
 * loglik_estimate, confirm_dialog.
 *
 * Nothing is lost silently: new data, Reset, a loaded checkpoint and restoring the previous run
 * ask first when a run exists, and the run they replace is kept as the previous run.
 *
 * Invariant: a failed action (bad data, bad checkpoint, bad settings) shows its AevbError's
 * message next to the control and changes nothing else; the current model stays as it was.
 */
import { afterNextFrame } from './dom.ts';
import { loadData, subsetFromUrl, type DataSource, type LoadedData } from './data_source.ts';
import { checkpointBytes } from './checkpoints.ts';
import { confirmAction } from './confirm_dialog.ts';
import { LoglikEstimate } from './loglik_estimate.ts';
import type { Saved } from './store.ts';
import { downloadCheckpoint, downloadDecoder, downloadSafetensors } from './downloads.ts';
import { ChartTools } from './chart_tools.ts';
import { ElboChart } from './elbo_chart.ts';
import { Explorer } from './explorer.ts';
import { History } from './history.ts';
import { LongTaskLog } from './long_tasks.ts';
import { Run, type RunPhase } from './run.ts';
import { fieldError, SettingsForm } from './settings_form.ts';
import { pageMessage } from './error_words.ts';
import { StatsPanel } from './stats_panel.ts';
import { SweepFigure } from './sweep_figure.ts';
import { RunKeeper } from './run_keeper.ts';
import { applyUrlSettings, writeUrlSettings } from './url_settings.ts';
import { describeDifferences, linkDifferences } from './link_vs_saved.ts';
import { decodeCheckpoint, readCheckpointMetrics } from '../../shared/formats/checkpoint.ts';
import { comparedLabel, COMPARED_COLOURS, curveOfJsonl, curveOfRows, type ComparedRun } from './compared_runs.ts';
import { pickedFromInput, pickSweep } from './sweep_pick.ts';
import type { TrainConfig } from '../../shared/training/config.ts';
import type { View } from './view.ts';

export class App {
  data: LoadedData | null = null;
  run: Run | null = null;
  busy = false;
  ready = false;
  restoredStep = -1;
  readonly longTasks = new LongTaskLog();
  readonly settings: SettingsForm;
  readonly chart: ElboChart;
  private readonly chartTools: ChartTools;
  readonly explorer: Explorer;
  private readonly stats: StatsPanel;
  readonly keeper = new RunKeeper(() => this.run);
  readonly estimate: LoglikEstimate;
  /** A finished sweep's Figure 2, from files the user picks (independent of the run). */
  readonly sweepFigure: SweepFigure;
  /** Step of the previous run kept in this browser (-1: none). */
  previousStep = -1;
  private unsubscribe: (() => void)[] = [];
  /** Runs drawn beside the current one: the previous run kept in this browser, and files the user loaded. */
  private previousCurve: ComparedRun | null = null;
  private comparedFiles: ComparedRun[] = [];
  /** The address's hash when the page opened with settings in it ('' if none): the link, which wins (link_vs_saved.ts). */
  private readonly link: string;

  constructor(private readonly v: View) {
    this.settings = new SettingsForm(v.settings, 'auto', () => {
      v.linkError.textContent = ''; // the user has taken over from the link
      writeUrlSettings(this.settings);
      this.refreshControls();
    });
    const fromLink = applyUrlSettings(this.settings, location.hash);
    v.linkError.textContent = fromLink.length ? `Not taken from the link: ${fromLink.join(' ')}` : '';
    this.link = new URLSearchParams(location.hash.replace(/^#/, '')).size ? location.hash : '';
    // A link's address is left as it is (never rewritten unasked); a bare address gets the settings.
    if (!this.link) writeUrlSettings(this.settings);
    this.chart = new ElboChart(v.chart, new History());
    this.chartTools = new ChartTools(this.chart, () => this.run?.history ?? null);
    this.stats = new StatsPanel(v.stats, v.workers);
    this.explorer = new Explorer({
      recon: v.recon,
      samples: v.samples,
      manifold: v.manifold,
      manifoldNote: v.manifoldNote,
      latent: v.latent,
      latentAxes: v.latentAxes,
      legend: v.legend,
      decoded: v.zDecoded,
      sliders: v.zSliders,
      from: v.interpFrom,
      to: v.interpTo,
      t: v.interpT,
      strip: v.interpStrip,
    });
    this.estimate = new LoglikEstimate({ result: v.loglikResult, progress: v.loglikProgress, cancel: v.loglikCancel }, () => {
      if (this.estimate.running) this.say(this.estimate.status());
      this.refreshControls();
    });
    this.sweepFigure = new SweepFigure(v.sweep);
    v.isolationBanner.hidden = globalThis.crossOriginIsolated === true;
    this.wire();
    this.stats.show(null);
    this.refreshControls();
  }

  private wire(): void {
    const v = this.v;
    const act = (fn: () => Promise<unknown>) => () => {
      void fn();
    };
    // The buttons that run the training keep the keyboard's focus: a button is disabled while its action
    // runs (which drops focus to the page), so focus comes back to it, or to the one that replaces it
    // (Start → Pause, Reset → Start), when the action ends.
    const keepFocus =
      (pressed: HTMLButtonElement, fn: () => Promise<unknown>, next: () => HTMLButtonElement = () => pressed) =>
      () => {
        const had = document.activeElement === pressed;
        void fn().finally(() => {
          const lost = document.activeElement === null || document.activeElement === document.body || document.activeElement === pressed;
          if (!had || !lost) return;
          const target = [next(), pressed].find((b) => !b.disabled && !b.hidden);
          target?.focus({ preventScroll: true }); // the view stays where the action put it (the chart, on a phone)
        });
      };
    v.start.addEventListener(
      'click',
      keepFocus(
        v.start,
        () => this.start(),
        () => v.pause,
      ),
    );
    v.pause.addEventListener(
      'click',
      keepFocus(v.pause, () => this.pauseOrResume()),
    );
    v.reset.addEventListener(
      'click',
      keepFocus(
        v.reset,
        () => this.reset(),
        () => v.start,
      ),
    );
    // The skip link goes to the Run buttons (the address's hash holds the settings, so no fragment navigation).
    v.skipToRun.addEventListener('click', (e) => {
      e.preventDefault();
      const target = [v.start, v.pause].find((b) => !b.disabled) ?? v.start;
      target.focus();
      target.scrollIntoView({ block: 'nearest' });
    });
    v.restorePrevious.addEventListener(
      'click',
      act(() => this.restorePrevious()),
    );
    v.loglikCancel.addEventListener(
      'click',
      act(() => this.estimate.cancel()),
    );
    v.restoreResume.addEventListener(
      'click',
      act(() => this.pauseOrResume()),
    );
    v.restoreDiscard.addEventListener(
      'click',
      act(() => this.reset()),
    );
    v.dataEmbedded.addEventListener(
      'click',
      act(() => this.useData({ kind: 'embedded', subset: subsetFromUrl(location.search) })),
    );
    v.dataFiles.addEventListener(
      'change',
      act(async () => {
        const files = [...(v.dataFiles.files ?? [])];
        v.dataFiles.value = '';
        if (files.length) await this.useData({ kind: 'files', files });
      }),
    );
    v.dropZone.addEventListener('dragover', (e) => {
      e.preventDefault();
      v.dropZone.classList.add('over');
    });
    v.dropZone.addEventListener('dragleave', () => v.dropZone.classList.remove('over'));
    v.dropZone.addEventListener('drop', (e) => {
      e.preventDefault();
      v.dropZone.classList.remove('over');
      const files = [...(e.dataTransfer?.files ?? [])];
      if (files.length && !this.busy) void this.useData({ kind: 'files', files });
    });
    v.saveCheckpoint.addEventListener(
      'click',
      act(() =>
        this.guarded(v.keepError, async () => {
          const name = await downloadCheckpoint(this.run!.trainer, this.run!.data.fingerprint, this.run!.history);
          this.say(`Saved ${name}.`);
        }),
      ),
    );
    v.exportDecoder.addEventListener(
      'click',
      act(() =>
        this.guarded(v.keepError, async () => {
          await downloadDecoder(this.run!.trainer, this.data?.split.train.imageShape);
          this.say('Exported the decoder as model.json + weights.bin (TF.js weights format).');
        }),
      ),
    );
    v.exportPytorch.addEventListener(
      'click',
      act(() =>
        this.guarded(v.keepError, async () => {
          const name = await downloadSafetensors(this.run!.trainer, this.run!.data.fingerprint);
          this.say(`Exported ${name}: load it with examples/pytorch (docs/safetensors.md).`);
        }),
      ),
    );
    v.loadCheckpoint.addEventListener(
      'change',
      act(async () => {
        const file = v.loadCheckpoint.files?.[0];
        v.loadCheckpoint.value = '';
        if (file) await this.loadCheckpoint(file);
      }),
    );
    v.loglik.addEventListener(
      'click',
      act(() => this.estimateLogLikelihood()),
    );
    v.compareFiles.addEventListener(
      'change',
      act(async () => {
        const files = [...(v.compareFiles.files ?? [])];
        v.compareFiles.value = '';
        if (files.length) await this.compareFiles(files);
      }),
    );
    v.compareSweep.addEventListener(
      'change',
      act(async () => {
        const files = [...(v.compareSweep.files ?? [])];
        v.compareSweep.value = '';
        if (files.length) await this.compareSweep(files);
      }),
    );
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden' && this.run) this.keeper.save(true);
    });
  }

  /**
   * First load: the saved run if there is one, else the embedded digits. A link that asks for other
   * settings than the saved run has wins, or the page asks which to open (link_vs_saved.ts).
   */
  async init(): Promise<void> {
    const saved = await this.keeper.load();
    await this.showPrevious();
    let linkChosen = false;
    if (saved) {
      if (await this.openSavedOverLink(saved)) {
        if (await this.restore(saved)) {
          this.ready = true;
          return;
        }
      } else {
        await this.keeper.keepSavedAsPrevious();
        await this.showPrevious();
        linkChosen = true;
      }
    }
    await this.useData({ kind: 'embedded', subset: subsetFromUrl(location.search) });
    if (linkChosen)
      this.say('The link\'s settings are set: press Start to train. The saved run is kept: "Restore the previous run" opens it.');
    this.ready = true;
  }

  /** With a saved run: open it (true), unless a link asks for other settings and the user picks the link's. */
  private async openSavedOverLink(saved: Saved): Promise<boolean> {
    if (!this.link) return true;
    const diff = await linkDifferences(this.settings, this.link, saved).catch(() => []); // an unreadable run: restore() says so
    if (!diff.length) return true;
    this.say('This link asks for other settings than the run saved in this browser: which one to open?');
    const useLink = await confirmAction(
      `This link asks for ${describeDifferences(diff, 'link')}; the run saved in this browser ` +
        `(step ${saved.run.step.toLocaleString('en')}) has ${describeDifferences(diff, 'saved')}. Starting with the link's settings keeps the ` +
        'saved run: "Restore the previous run" opens it.',
      "Start with the link's settings",
      'Open the saved run',
    );
    return !useLink;
  }

  /** Open a run kept in this browser (the current one after a reload, or the previous one); it becomes current. */
  private async restore(saved: Saved, previous = false): Promise<boolean> {
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

  /** Show (or hide) the button that brings back the previous run, and its curve beside the current one. */
  private async showPrevious(): Promise<void> {
    const prev = await this.keeper.previous();
    this.previousStep = prev ? prev.run.step : -1;
    this.v.restorePrevious.hidden = !prev;
    if (prev) this.v.restorePrevious.textContent = `Restore the previous run (step ${prev.run.step.toLocaleString('en')})`;
    let curve: ComparedRun | null = null;
    if (prev) {
      const h = prev.run.history;
      const pts = h.x.map((x, i) => [x, h.test[i]] as const).filter(([, t]) => t != null);
      const config = await prev.run.checkpoint.arrayBuffer().then(
        (b) => decodeCheckpoint(new Uint8Array(b), 'the previous run').config,
        () => undefined,
      );
      curve = {
        id: 'previous',
        source: `previous run, step ${prev.run.step.toLocaleString('en')}`,
        config,
        x: pts.map(([x]) => x),
        test: pts.map(([, t]) => t),
        shown: this.previousCurve?.shown ?? true,
      };
    }
    this.previousCurve = curve?.x.length ? curve : null;
    this.refreshCompared();
  }

  /** Files to draw beside the current run: metrics.jsonl (a run directory's, or the page's download) or a checkpoint with its metrics. */
  private async compareFiles(files: File[]): Promise<void> {
    await this.guarded(this.v.keepError, async () => {
      for (const f of files) {
        const path = (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name;
        let run: ComparedRun;
        if (/\.aevb$/i.test(f.name)) {
          const bytes = new Uint8Array(await f.arrayBuffer());
          const c = decodeCheckpoint(bytes, f.name);
          const m = readCheckpointMetrics(bytes, f.name);
          if (!m?.rows.length)
            throw new Error(
              `${f.name} carries no metrics history (it was saved before checkpoints carried one, or before its first epoch ended). Compare its run's metrics.jsonl instead.`,
            );
          run = { id: `file:${path}:${this.comparedFiles.length}`, source: f.name, config: c.config, ...curveOfRows(m.rows), shown: true };
        } else {
          run = { id: `file:${path}:${this.comparedFiles.length}`, source: path, ...curveOfJsonl(await f.text(), path), shown: true };
        }
        this.comparedFiles.push(run);
      }
      this.refreshCompared();
      this.say(`Comparing with ${files.map((f) => f.name).join(', ')}.`);
    });
  }

  /** A sweep's runs beside the current one: each run's metrics.jsonl, named and configured as sweep.json says (sweep_pick.ts). */
  private async compareSweep(files: File[]): Promise<void> {
    await this.guarded(this.v.keepError, async () => {
      const picked = await pickSweep(pickedFromInput(files));
      for (const m of picked.metrics) {
        const run = picked.sweep.runs.find((r) => r.dir === m.dir);
        this.comparedFiles.push({
          id: `sweep:${picked.sweepPath}:${m.dir}:${this.comparedFiles.length}`,
          source: run?.name ?? m.dir,
          config: run?.config as Partial<TrainConfig> | undefined,
          ...curveOfJsonl(m.text, m.path),
          shown: true,
        });
      }
      this.refreshCompared();
      this.say(`Comparing with the ${picked.metrics.length} runs of ${picked.sweepPath}.`);
    });
  }

  /** Redraw the compared runs (their labels say how each differs from the current run) and their checkboxes. */
  private refreshCompared(): void {
    const check = this.settings.check();
    const base = this.run?.trainer.config ?? (check.ok ? check.settings.config : undefined);
    const runs = [...(this.previousCurve ? [this.previousCurve] : []), ...this.comparedFiles].map((run) => ({
      run,
      label: comparedLabel(run, base),
    }));
    this.chart.setCompared(runs);
    this.v.chartRuns.replaceChildren(
      ...runs.map(({ run, label }, i) => {
        const box = Object.assign(document.createElement('input'), { type: 'checkbox', checked: run.shown });
        box.addEventListener('change', () => this.chart.showCompared(run.id, box.checked));
        const swatch = Object.assign(document.createElement('span'), { className: 'swatch' });
        swatch.style.color = COMPARED_COLOURS[i % COMPARED_COLOURS.length];
        const l = document.createElement('label');
        l.title = label;
        l.append(box, swatch, ` ${label}`);
        return l;
      }),
    );
  }

  private async restorePrevious(): Promise<void> {
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

  /** Run fn with the controls disabled; its error goes to `errorEl`. */
  private async guarded(errorEl: HTMLElement, fn: () => Promise<void>): Promise<boolean> {
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

  private say(text: string): void {
    this.v.status.textContent = text;
  }

  private setData(data: LoadedData): void {
    this.data = data;
    this.v.dataDesc.textContent = data.description;
    this.explorer.setData(data.split.test);
    this.settings.check(data.split.train.n);
  }

  /** Load a data source; on success it replaces the data and ends the current run. */
  private async useData(source: DataSource): Promise<void> {
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

  private async endRun(): Promise<void> {
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

  private attach(run: Run): void {
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

  private async loadCheckpoint(file: File): Promise<void> {
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

  /**
   * log p(x) with K importance samples, as a task the page watches (loglik_estimate.ts). Training
   * and the estimate take turns on the workers: a running run pauses, and resumes when it ends.
   */
  private async estimateLogLikelihood(): Promise<void> {
    const run = this.run;
    const K = this.v.loglikK.valueAsNumber;
    if (!run || this.busy || this.estimate.running) return;
    if (!Number.isInteger(K) || K < 1 || K > 100_000) {
      this.v.loglikResult.textContent = `K is ${this.v.loglikK.value || 'empty'}; it must be a whole number from 1 to 100000.`;
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
