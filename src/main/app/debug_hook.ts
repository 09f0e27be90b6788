/**
 * window.aevbApp: a read-only view of the app's state for tests and the curious (in the console:
 * aevbApp.phase, aevbApp.epochs, aevbApp.longTasks). Getters only; nothing here changes the app.
 */
import type { EpochEvent } from '../trainer.ts';
import type { App } from './app.ts';
import type { LongTask } from './long_tasks.ts';
import type { Evaluated, RunPhase } from './run.ts';

export interface AevbAppDebug {
  /** The first load (saved run or embedded data) has finished. */
  readonly ready: boolean;
  readonly busy: boolean;
  readonly isolated: boolean;
  readonly phase: RunPhase | 'none';
  /** Training has reached an epoch's end and its evaluation is under way (no 'epoch' event for it yet). */
  readonly inEvaluation: boolean;
  /** A pause interrupted an epoch's evaluation: the next Resume does it first. */
  readonly evaluationPending: boolean;
  readonly step: number;
  readonly samplesSeen: number;
  readonly transport: string | null;
  readonly workerInfo: { rank: number; backend: string; simd: boolean; threads: boolean }[];
  readonly config: Readonly<Record<string, unknown>> | null;
  readonly epochs: EpochEvent[];
  readonly evaluation: Evaluated | null;
  readonly data: { name: string; train: number; test: number; description: string } | null;
  readonly errors: { data: string; run: string; keep: string; settings: Record<string, string> };
  readonly status: string;
  readonly lastSavedStep: number;
  /** Chart points in that save. */
  readonly lastSavedHistory: number;
  /** Step of the previous run kept in this browser (-1: none). */
  readonly previousStep: number;
  /** The log p(x) estimate task. */
  readonly estimating: { running: boolean; resumeAfter: boolean; progress: number };
  /** The confirm-before-loss dialog is open. */
  readonly asking: boolean;
  /** The hand-picked z (latent_explorer.ts): the z shown, its decoded mean, and the scatter's view. */
  readonly picked: { z: number[]; decoded: number[] | null; decodes: number; latentView: number[] | null };
  /** The current model's decoder mean at z (for comparing with what the page shows). */
  readonly decode: (z: number[]) => Promise<number[]>;
  /** The encoder mean μ of test digit i. */
  readonly encodeTest: (i: number) => Promise<number[]>;
  readonly restoredStep: number;
  readonly explorerRefreshes: number;
  readonly shownStep: number;
  readonly chartDraws: number;
  /** The chart's scales now, and whether the user zoomed. */
  readonly chartScales: { xMin: number; xMax: number; yMin: number; yMax: number; zoomed: boolean };
  /** The chart's readout (its lines, '\n'-joined; '' when hidden) and the first and last x of its data. */
  readonly chartReadout: string;
  readonly chartData: { xFirst: number; xLast: number; points: number };
  /** Runs drawn beside the current one: label, shown, points. */
  readonly chartCompared: { label: string; shown: boolean; points: number }[];
  /** log p(x) estimates on the chart (points). */
  readonly chartLoglikPoints: number;
  /** Epoch metrics rows of the current run's history (what the metrics download holds). */
  readonly metricsRows: number;
  readonly historyLength: number;
  readonly longTasks: { supported: boolean; all: LongTask[]; duringTraining: LongTask[]; trainingMs: number };
  /** The sweep's Figure 2 view: what it shows (series are "run (split)"), picks in progress, its error line. */
  readonly sweepFigure: {
    shown: { sweep: string; series: string[]; panels: number[]; notes: string[] } | null;
    pending: number;
    error: string;
    open: boolean;
    times: { asked: number; answered: number; shown: number };
  };
}

export function installDebugHook(app: App): AevbAppDebug {
  const text = (id: string) => document.getElementById(id)?.textContent ?? '';
  const hook: AevbAppDebug = Object.freeze({
    get ready() {
      return app.ready;
    },
    get busy() {
      return app.busy;
    },
    get isolated() {
      return globalThis.crossOriginIsolated === true;
    },
    get phase() {
      return app.run?.phase ?? 'none';
    },
    get inEvaluation() {
      const r = app.run;
      if (r?.phase !== 'running') return false;
      const step = r.trainer.step;
      return step > 0 && step % r.trainer.stepsPerEpoch === 0 && r.lastEpoch?.step !== step;
    },
    get evaluationPending() {
      return app.run?.trainer.evaluationPending ?? false;
    },
    get step() {
      return app.run?.trainer.step ?? 0;
    },
    get samplesSeen() {
      return app.run?.trainer.samplesSeen ?? 0;
    },
    get transport() {
      return app.run?.trainer.transport ?? null;
    },
    get workerInfo() {
      return (app.run?.trainer.workerInfo ?? []).map((i) => ({ ...i }));
    },
    get config() {
      return app.run ? { ...app.run.trainer.config } : null;
    },
    get epochs() {
      return app.run ? app.run.epochs.map((e) => ({ ...e })) : [];
    },
    get evaluation() {
      return app.run?.evaluation ? { ...app.run.evaluation } : null;
    },
    get data() {
      const d = app.data;
      return d ? { name: d.split.train.name, train: d.split.train.n, test: d.split.test.n, description: d.description } : null;
    },
    get errors() {
      const settings: Record<string, string> = {};
      document.querySelectorAll<HTMLElement>('.field-error').forEach((el) => {
        if (el.textContent) settings[el.id.replace(/^setting-|-error$/g, '')] = el.textContent;
      });
      return { data: text('data-error'), run: text('run-error'), keep: text('keep-error'), settings };
    },
    get status() {
      return text('status-line');
    },
    get lastSavedStep() {
      return app.keeper.lastSavedStep;
    },
    get lastSavedHistory() {
      return app.keeper.lastSavedHistory;
    },
    get previousStep() {
      return app.previousStep;
    },
    get estimating() {
      const bar = document.getElementById('loglik-progress') as HTMLProgressElement;
      return { running: app.estimate.running, resumeAfter: app.estimate.resumeAfter, progress: bar.value };
    },
    get picked() {
      const p = app.explorer.picker;
      return { z: [...p.shownZ], decoded: p.decoded && [...p.decoded], decodes: p.decodes, latentView: p.latentView && [...p.latentView] };
    },
    decode: async (z: number[]) => [...(await app.run!.trainer.decode(Float32Array.from(z), 1))],
    encodeTest: async (i: number) => {
      const t = app.data!.split.test;
      return [...(await app.run!.trainer.encode(t.x.slice(i * t.d, (i + 1) * t.d), 1)).mu];
    },
    get asking() {
      return (document.getElementById('confirm') as HTMLDialogElement).open;
    },
    get restoredStep() {
      return app.restoredStep;
    },
    get explorerRefreshes() {
      return app.explorer.refreshes;
    },
    get shownStep() {
      return app.explorer.shownStep;
    },
    get chartDraws() {
      return app.chart.draws;
    },
    get chartScales() {
      return { ...app.chart.scales, zoomed: app.chart.zoomed };
    },
    get chartReadout() {
      return app.chart.readoutText;
    },
    get chartData() {
      return app.chart.dataExtent;
    },
    get chartCompared() {
      return app.chart.comparedShown;
    },
    get chartLoglikPoints() {
      return (app.run?.history.loglik ?? []).filter((v) => v != null).length;
    },
    get metricsRows() {
      return app.run?.history.epochs.length ?? 0;
    },
    get historyLength() {
      return app.run?.history.length ?? 0;
    },
    get longTasks() {
      const l = app.longTasks;
      return { supported: l.supported, all: [...l.tasks], duringTraining: l.duringTraining(), trainingMs: l.trainingMs() };
    },
    get sweepFigure() {
      const f = app.sweepFigure;
      return {
        shown: f.shown && { ...f.shown },
        pending: f.pending,
        error: text('sweep-error'),
        open: (document.getElementById('sweep-dialog') as HTMLDialogElement).open,
        times: { ...f.times },
      };
    },
  });
  Object.defineProperty(globalThis, 'aevbApp', { value: hook, writable: false, configurable: false });
  return hook;
}
