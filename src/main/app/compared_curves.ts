/**
 * The runs drawn beside the current one on the chart: the previous run kept in this browser, and
 * files the user picks (a run's metrics.jsonl, a checkpoint with its metrics, a sweep's runs), with
 * a checkbox each; their labels say how each differs from the current run (compared_runs.ts).
 */
import { decodeCheckpoint, readCheckpointMetrics } from '../../shared/formats/checkpoint.ts';
import type { TrainConfig } from '../../shared/training/config.ts';
import type { Controls } from './app_controls.ts';
import { comparedLabel, COMPARED_COLOURS, curveOfJsonl, curveOfRows, type ComparedRun } from './compared_runs.ts';
import type { ElboChart } from './elbo_chart.ts';
import type { Run } from './run.ts';
import type { RunKeeper } from './run_keeper.ts';
import type { SettingsForm } from './settings_form.ts';
import { pickedFromInput, pickSweep } from './sweep_pick.ts';
import type { View } from './view.ts';

export class ComparedCurves {
  /** Step of the previous run kept in this browser (-1: none). */
  previousStep = -1;
  /** Runs drawn beside the current one: the previous run kept in this browser, and files the user loaded. */
  private previousCurve: ComparedRun | null = null;
  private comparedFiles: ComparedRun[] = [];

  constructor(
    private readonly v: View,
    private readonly settings: SettingsForm,
    private readonly chart: ElboChart,
    private readonly keeper: RunKeeper,
    private readonly controls: Controls,
    private readonly current: () => Run | null,
  ) {}

  private get run(): Run | null {
    return this.current();
  }
  private guarded(errorEl: HTMLElement, fn: () => Promise<void>): Promise<boolean> {
    return this.controls.guarded(errorEl, fn);
  }
  private say(text: string): void {
    this.controls.say(text);
  }

  /** Show (or hide) the button that brings back the previous run, and its curve beside the current one. */
  async showPrevious(): Promise<void> {
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
  async compareFiles(files: File[]): Promise<void> {
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
  async compareSweep(files: File[]): Promise<void> {
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
  refreshCompared(): void {
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
}
