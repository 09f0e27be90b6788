/**
 * The page's "Figure 2 of a sweep": the user picks a finished sweep's directory (or drops it, or
 * its sweep.json with the runs' metrics.jsonl) and sees the lower bound against training samples,
 * AEVB against wake-sleep, one panel per J: the chart `npm run figures` writes, from the same
 * Vega-Lite spec, laid out to SVG in a worker (figure_worker.ts) and shown in a dialog.
 *
 * The main thread only matches files (sweep_pick.ts), reads the few small texts it needs and
 * inserts the finished SVG; Vega itself never loads on it. A bad pick shows its message under the
 * control and leaves the last figure as it was.
 */
import { releaseProxy, wrap, type Remote } from 'comlink';
import { pageMessage } from './error_words.ts';
import { drawSoon } from './frame.ts';
import type { FigureWorkerApi } from '../../workers/figure_worker.ts';
import { pickedFromDrop, pickedFromInput, pickSweep, type PickedFile } from './sweep_pick.ts';

export interface SweepFigureView {
  input: HTMLInputElement;
  drop: HTMLElement;
  error: HTMLElement;
  again: HTMLButtonElement;
  dialog: HTMLDialogElement;
  title: HTMLElement;
  chart: HTMLElement;
  notes: HTMLElement;
}

export class SweepFigure {
  /** What the dialog shows now (null before the first figure). */
  shown: { sweep: string; series: string[]; panels: number[]; notes: string[] } | null = null;
  /** Picks being read or drawn. */
  pending = 0;
  /** performance.now() of the last pick: asked, the worker's answer, the figure shown (what a responsiveness check needs). */
  times = { asked: 0, answered: 0, shown: 0 };
  private worker: Worker | null = null;
  private api: Remote<FigureWorkerApi> | null = null;

  constructor(private readonly v: SweepFigureView) {
    v.input.addEventListener('change', () => {
      const files = pickedFromInput(v.input.files ?? []);
      v.input.value = '';
      if (files.length) void this.show(files);
    });
    v.drop.addEventListener('dragover', (e) => {
      e.preventDefault();
      v.drop.classList.add('over');
    });
    v.drop.addEventListener('dragleave', () => v.drop.classList.remove('over'));
    v.drop.addEventListener('drop', (e) => {
      e.preventDefault();
      v.drop.classList.remove('over');
      // The items must be taken now: a DataTransfer is emptied when the event ends.
      if (e.dataTransfer) void this.show(pickedFromDrop(e.dataTransfer));
    });
    v.again.addEventListener('click', () => v.dialog.showModal());
  }

  private figures(): Remote<FigureWorkerApi> {
    this.worker ??= new Worker(new URL('../../workers/figure_worker.ts', import.meta.url), { type: 'module', name: 'aevb-figures' });
    this.api ??= wrap<FigureWorkerApi>(this.worker);
    return this.api;
  }

  async show(files: PickedFile[] | Promise<PickedFile[]>): Promise<void> {
    const v = this.v;
    v.error.textContent = '';
    this.pending++;
    this.times = { asked: performance.now(), answered: 0, shown: 0 };
    try {
      const picked = await pickSweep(await files);
      const r = await this.figures().figure2(picked.sweepPath, picked.sweepText, picked.metrics);
      this.times.answered = performance.now();
      if (!r.ok) throw new Error(r.message);
      // Three short tasks, not one long one: parse here, insert in a shared frame (frame.ts), and
      // open the dialog in the next (its layout and the page's turn to inert are the costly part).
      const doc = new DOMParser().parseFromString(r.svg, 'image/svg+xml');
      if (doc.documentElement.nodeName !== 'svg')
        throw new Error('The figure could not be drawn (the SVG did not parse). Please report this.');
      const inFrame = (draw: () => void) =>
        new Promise<void>((resolve) =>
          drawSoon(
            this,
            () => {
              draw();
              resolve();
            },
            true,
          ),
        );
      await inFrame(() => {
        v.chart.replaceChildren(document.importNode(doc.documentElement, true));
        v.title.textContent = `Figure 2 of ${picked.sweepPath.replace(/\/?sweep\.json$/, '') || 'the sweep'}: ${r.series.length / 2} runs`;
        v.notes.replaceChildren(...r.notes.map((n) => Object.assign(document.createElement('li'), { textContent: n })));
        v.notes.hidden = r.notes.length === 0;
        v.again.hidden = false;
      });
      await inFrame(() => {
        if (!v.dialog.open) v.dialog.showModal();
      });
      this.times.shown = performance.now();
      this.shown = { sweep: picked.sweepPath, series: r.series, panels: r.panels, notes: r.notes };
    } catch (e) {
      v.error.textContent = pageMessage(e);
    } finally {
      this.pending--;
    }
  }

  dispose(): void {
    this.api?.[releaseProxy]();
    this.worker?.terminate();
  }
}
