/**
 * The page's controller: one dataset and at most one run, and the user's actions on them
 * (load data, start, pause/resume, reset, save/load checkpoints, export, estimate log p(x)).
 * This file builds the page's parts and wires the DOM's events to them; the parts each live in
 * their own file: run_lifecycle (the run: created, trained, paused, ended), run_replacement (new
 * data, Reset, a loaded checkpoint, a restored run), app_controls
 * (which controls are enabled, the status line), compared_curves (runs drawn beside the current
 * one), settings_form, run, elbo_chart, stats_panel, explorer, data_source (+ data_worker),
 * run_keeper (IndexedDB), downloads, long_tasks, loglik_estimate, confirm_dialog.
 */
import { subsetFromUrl } from './data_source.ts';
import { confirmAction } from './confirm_dialog.ts';
import { LoglikEstimate } from './loglik_estimate.ts';
import type { LoadedData } from './data_source.ts';
import type { Saved } from './store.ts';
import { downloadCheckpoint, downloadDecoder, downloadSafetensors } from './downloads.ts';
import { ChartTools } from './chart_tools.ts';
import { ElboChart } from './elbo_chart.ts';
import { Explorer } from './explorer.ts';
import { History } from './history.ts';
import { LongTaskLog } from './long_tasks.ts';
import type { Run } from './run.ts';
import { SettingsForm } from './settings_form.ts';
import { StatsPanel } from './stats_panel.ts';
import { SweepFigure } from './sweep_figure.ts';
import { RunKeeper } from './run_keeper.ts';
import { applyUrlSettings, writeUrlSettings } from './url_settings.ts';
import { describeDifferences, linkDifferences } from './link_vs_saved.ts';
import { Controls } from './app_controls.ts';
import { ComparedCurves } from './compared_curves.ts';
import { RunLifecycle } from './run_lifecycle.ts';
import { RunReplacement } from './run_replacement.ts';
import type { View } from './view.ts';

export class App {
  ready = false;
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
  private readonly controls: Controls;
  private readonly compared: ComparedCurves;
  /** The data and the run, and everything that creates, trains, pauses or ends the run. */
  readonly runs: RunLifecycle;
  /** What replaces the data or the run: new data, Reset, a loaded checkpoint, a restored run. */
  private readonly replace: RunReplacement;
  /** The address's hash when the page opened with settings in it ('' if none): the link, which wins (link_vs_saved.ts). */
  private readonly link: string;

  get data(): LoadedData | null {
    return this.runs.data;
  }
  get run(): Run | null {
    return this.runs.run;
  }
  /** An action is running (its controls are disabled). */
  get busy(): boolean {
    return this.controls.busy;
  }
  get restoredStep(): number {
    return this.runs.restoredStep;
  }
  /** Step of the previous run kept in this browser (-1: none). */
  get previousStep(): number {
    return this.compared.previousStep;
  }

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
    this.controls = new Controls(v, this.settings, this.estimate, this.chartTools, () => this.runs);
    this.compared = new ComparedCurves(v, this.settings, this.chart, this.keeper, this.controls, () => this.run);
    const parts = {
      v,
      settings: this.settings,
      chart: this.chart,
      chartTools: this.chartTools,
      explorer: this.explorer,
      stats: this.stats,
      keeper: this.keeper,
      estimate: this.estimate,
      longTasks: this.longTasks,
      controls: this.controls,
      compared: this.compared,
    };
    this.runs = new RunLifecycle(parts);
    this.replace = new RunReplacement(this.runs, parts);
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
        () => this.runs.start(),
        () => v.pause,
      ),
    );
    v.pause.addEventListener(
      'click',
      keepFocus(v.pause, () => this.runs.pauseOrResume()),
    );
    v.reset.addEventListener(
      'click',
      keepFocus(
        v.reset,
        () => this.replace.reset(),
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
      act(() => this.replace.restorePrevious()),
    );
    v.loglikCancel.addEventListener(
      'click',
      act(() => this.estimate.cancel()),
    );
    v.restoreResume.addEventListener(
      'click',
      act(() => this.runs.pauseOrResume()),
    );
    v.restoreDiscard.addEventListener(
      'click',
      act(() => this.replace.reset()),
    );
    v.dataEmbedded.addEventListener(
      'click',
      act(() => this.replace.useData({ kind: 'embedded', subset: subsetFromUrl(location.search) })),
    );
    v.dataFiles.addEventListener(
      'change',
      act(async () => {
        const files = [...(v.dataFiles.files ?? [])];
        v.dataFiles.value = '';
        if (files.length) await this.replace.useData({ kind: 'files', files });
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
      if (files.length && !this.busy) void this.replace.useData({ kind: 'files', files });
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
        if (file) await this.replace.loadCheckpoint(file);
      }),
    );
    v.loglik.addEventListener(
      'click',
      act(() => this.runs.estimateLogLikelihood()),
    );
    v.compareFiles.addEventListener(
      'change',
      act(async () => {
        const files = [...(v.compareFiles.files ?? [])];
        v.compareFiles.value = '';
        if (files.length) await this.compared.compareFiles(files);
      }),
    );
    v.compareSweep.addEventListener(
      'change',
      act(async () => {
        const files = [...(v.compareSweep.files ?? [])];
        v.compareSweep.value = '';
        if (files.length) await this.compared.compareSweep(files);
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
    await this.compared.showPrevious();
    let linkChosen = false;
    if (saved) {
      if (await this.openSavedOverLink(saved)) {
        if (await this.replace.restore(saved)) {
          this.ready = true;
          return;
        }
      } else {
        await this.keeper.keepSavedAsPrevious();
        await this.compared.showPrevious();
        linkChosen = true;
      }
    }
    await this.replace.useData({ kind: 'embedded', subset: subsetFromUrl(location.search) });
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

  private guarded(errorEl: HTMLElement, fn: () => Promise<void>): Promise<boolean> {
    return this.controls.guarded(errorEl, fn);
  }
  private say(text: string): void {
    this.controls.say(text);
  }
  /** Enable what makes sense now; label Pause/Resume. */
  refreshControls(): void {
    this.controls.refreshControls();
  }
}
