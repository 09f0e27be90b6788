/**
 * The live chart (uPlot): ELBO against training samples seen, on a log axis as in the paper's
 * Figure 2 (or linear), and used as people use TensorBoard: the y-range follows the data in view
 * (ignoring outliers if asked: chart_math.ts), drag to zoom, wheel to zoom, Shift+drag to pan,
 * touch pan and pinch (chart_gestures.ts), a readout of the values at the pointer or at the point
 * picked with the arrow keys (chart_readout.ts), double-click or "Reset zoom" to see everything
 * again, and a smoothing weight for the noisy minibatch estimate (the raw estimate stays as a
 * faint line). The x-range is exactly the one asked for (uPlot would round a log range out to whole
 * decades) and, unzoomed, exactly the data's. Redraws happen in the page's shared
 * frames (frame.ts), at most once a second, so a stream of progress events costs the main thread a
 * few milliseconds a second.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { smooth, yRange } from './chart_math.ts';
import { wireGestures } from './chart_gestures.ts';
import { wireChartKeys } from './chart_keys.ts';
import { readoutLines, type ReadoutSeries } from './chart_readout.ts';
import { COMPARED_COLOURS, type ComparedRun } from './compared_runs.ts';
import { drawSoon } from './frame.ts';
import type { History } from './history.ts';

const MIN_REDRAW_MS = 1000;

function compact(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return String(+v.toPrecision(3));
}

/** Log-axis labels at 1, 2 and 5 × 10^k only (uPlot places a split at every integer multiple). */
function logLabels(_u: uPlot, splits: number[]): string[] {
  return splits.map((v) => {
    const m = Math.round(v / 10 ** Math.floor(Math.log10(v) + 1e-9));
    return m === 1 || m === 2 || m === 5 ? compact(v) : '';
  });
}

export interface ChartView {
  logX: boolean;
  /** Smoothing weight of the minibatch estimate, [0, 0.99]. */
  smoothing: number;
  ignoreOutliers: boolean;
}

/** The readout's series: the smoothed minibatch estimate with its raw values, and the two evaluated sets. */
const READOUT: readonly ReadoutSeries[] = [
  { index: 1, label: 'minibatch estimate', raw: 4, digits: 1 },
  { index: 2, label: 'training set', digits: 2 },
  { index: 3, label: 'test set', digits: 2 },
  { index: 5, label: 'log p(x) estimate', digits: 2 },
];
/** The current run's series: x, smoothed minibatch, training set, test set, raw minibatch, log p(x); compared runs follow. */
const OWN_SERIES = 6;

/**
 * The x-range uPlot shows for [min, max]: exactly that (its own log range would round out to whole
 * decades); a single point gets a range around it; no data, a default.
 */
export function exactRange(logX: boolean, min: number | null, max: number | null): [number, number] {
  if (min == null || max == null || !Number.isFinite(min) || !Number.isFinite(max)) return logX ? [1, 10] : [0, 1];
  if (max > min) return [min, max];
  return logX ? [min / 2, max * 2] : [min - 1, max + 1];
}

export class ElboChart {
  private plot!: uPlot;
  /** The readout box over the plot (chart_readout.ts). */
  private readonly readout: HTMLElement;
  private drawnVersion = -1;
  private pending = false;
  private lastDraw = 0;
  private resizeObserver: ResizeObserver;
  /** The x-range the user zoomed or panned to (null: all the data). */
  private zoom: { min: number; max: number } | null = null;
  readonly view: ChartView = { logX: true, smoothing: 0.6, ignoreOutliers: true };
  /** Called when the zoom changes (the chart's tools enable Reset zoom). */
  onZoom: () => void = () => undefined;
  /** Redraws so far (the debug hook reports it). */
  draws = 0;
  /** Training samples per step (M), to show the step in the readout; 0: not known. */
  samplesPerStep = 0;
  /** Room under the plot for uPlot's legend: a second line when runs are compared. */
  private get legendHeight(): number {
    return this.compared.length ? 48 : 30;
  }
  /** Runs drawn beside the current one (compared_runs.ts), with their labels. */
  private compared: { run: ComparedRun; label: string }[] = [];

  constructor(
    readonly container: HTMLElement,
    private history: History,
  ) {
    this.readout = document.createElement('div');
    this.readout.className = 'chart-readout';
    this.readout.hidden = true;
    this.readout.setAttribute('aria-live', 'polite');
    wireChartKeys(container, {
      plot: () => this.plot,
      toAxis: this.toAxis,
      fromAxis: this.fromAxis,
      zoomTo: (a, b) => this.zoomTo(a, b),
      resetZoom: () => this.resetZoom(),
    });
    this.build();
    this.warmUp();
    this.drawnVersion = history.version;
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
  }

  private build(): void {
    const num = (d: number) => (_u: uPlot, v: number | null) => (v == null ? '–' : v.toFixed(d));
    const opts: uPlot.Options = {
      width: Math.max(200, this.container.clientWidth),
      height: Math.max(120, this.container.clientHeight - this.legendHeight),
      scales: {
        x: { time: false, distr: this.view.logX ? 3 : 1, range: (_u, min, max) => exactRange(this.view.logX, min, max) },
        y: { auto: false },
      },
      axes: [
        {
          label: 'training samples seen',
          values: this.view.logX ? logLabels : (_u, s) => s.map(compact),
          stroke: '#333',
          labelSize: 18,
          size: 36,
        },
        { label: 'ELBO (nats)', stroke: '#333', labelSize: 18, size: 48 },
      ],
      series: [
        { label: 'samples' },
        { label: 'minibatch estimate', stroke: '#6c7782', width: 1.5, spanGaps: true, value: num(1) },
        {
          label: 'training set',
          stroke: '#1864ab',
          width: 2,
          spanGaps: true,
          points: { show: true, size: 6, fill: '#1864ab' },
          value: num(2),
        },
        { label: 'test set', stroke: '#d9480f', width: 2, spanGaps: true, points: { show: true, size: 6, fill: '#d9480f' }, value: num(2) },
        { label: 'minibatch (raw)', stroke: 'rgba(108, 119, 130, 0.25)', width: 1, spanGaps: true, value: num(1) },
        // log p(x) estimates: points only (each a separate estimate, not a curve).
        {
          label: 'log p(x) estimate',
          stroke: '#2f9e44',
          width: 0,
          paths: () => null,
          points: { show: true, size: 9, fill: '#fff', stroke: '#2f9e44', width: 2 },
          value: num(2),
        },
        ...this.compared.map(({ run, label }, i) => ({
          label,
          stroke: COMPARED_COLOURS[i % COMPARED_COLOURS.length],
          width: 1.5,
          dash: [6, 4],
          spanGaps: true,
          show: run.shown,
          points: { show: true, size: 4 },
          value: num(2),
        })),
      ],
      legend: { live: false },
      cursor: {
        drag: { x: true, y: false, setScale: false }, // the selection becomes a zoom in setSelect
        bind: {
          // Shift+drag pans instead of selecting; a double-click shows all the data.
          mousedown: (_u, _t, handler) => (e: MouseEvent) => {
            if (!e.shiftKey) handler(e);
            return null;
          },
          dblclick: () => () => {
            this.resetZoom();
            return null;
          },
        },
      },
      hooks: {
        setSelect: [
          (u) => {
            const { left, width } = u.select;
            if (width < 3) return;
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            this.zoomTo(u.posToVal(left, 'x'), u.posToVal(left + width, 'x'));
          },
        ],
        setCursor: [(u) => this.showReadout(u)],
      },
    };
    this.plot = new uPlot(opts, this.columns(), this.container);
    this.plot.over.appendChild(this.readout);
    wireGestures({
      over: this.plot.over,
      axisRange: () => [this.toAxis(this.plot.scales.x.min!), this.toAxis(this.plot.scales.x.max!)],
      showAxisRange: (t0, t1) => this.zoomTo(this.fromAxis(t0), this.fromAxis(t1)),
    });
    this.plot.batch(() => this.fitY());
  }

  /** The readout at the cursor's row (hidden when the cursor is off the plot). */
  private showReadout(u: uPlot): void {
    const idx = u.cursor.idx,
      left = u.cursor.left ?? -1;
    if (idx == null || left < 0 || !u.data[0].length) {
      this.readout.hidden = true;
      return;
    }
    this.readout.textContent = '';
    const series = [...READOUT, ...this.compared.map(({ label }, i) => ({ index: OWN_SERIES + i, label, digits: 2 }))];
    for (const line of readoutLines(u, idx, series, this.samplesPerStep, this.toAxis)) {
      const div = document.createElement('div');
      div.textContent = line;
      this.readout.appendChild(div);
    }
    this.readout.hidden = false;
    // On the side away from the cursor, so it never covers the point read.
    this.readout.classList.toggle('left', left > u.over.clientWidth / 2);
  }

  /** The readout's text now ('' when hidden). */
  get readoutText(): string {
    return this.readout.hidden ? '' : [...this.readout.children].map((c) => c.textContent).join('\n');
  }

  /** x in the axis's own space (log or linear), where zooming and panning are even, and back. */
  private readonly toAxis = (v: number) => (this.view.logX ? Math.log(v) : v);
  private readonly fromAxis = (v: number) => (this.view.logX ? Math.exp(v) : v);

  /** Show x in [min, max] (zoom or pan); y follows. */
  zoomTo(min: number, max: number): void {
    if (!(max > min) || (this.view.logX && min <= 0)) return;
    this.zoom = { min, max };
    this.plot.batch(() => {
      this.plot.setScale('x', { min, max });
      this.fitY();
    });
    this.onZoom();
  }

  resetZoom(): void {
    this.zoom = null;
    this.redrawNow();
    this.onZoom();
  }

  get zoomed(): boolean {
    return this.zoom !== null;
  }

  /**
   * The y-range that follows the data in view (chart_math.ts): the zoomed x-range, or all of it.
   * Called inside a batch, so the data, x and y change in one redraw.
   */
  private fitY(): void {
    const u = this.plot,
      x = this.zoom ?? { min: -Infinity, max: Infinity };
    const cols = u.series
      .map((_, i) => i)
      .filter((i) => i > 0 && u.series[i].show)
      .map((i) => u.data[i] as (number | null)[]);
    const r = yRange(u.data[0] as number[], cols, x.min, x.max, this.view.ignoreOutliers);
    if (r) u.setScale('y', { min: r[0], max: r[1] });
  }

  /** Change how the chart shows the data: log or linear x, smoothing, outliers. */
  setView(change: Partial<ChartView>): void {
    const rebuild = change.logX !== undefined && change.logX !== this.view.logX;
    Object.assign(this.view, change);
    if (rebuild) {
      this.plot.destroy();
      this.zoom = null;
      this.build();
      return;
    }
    this.redrawNow();
  }

  /**
   * Draw a made-up curve once and clear it again, synchronously (batch), so nothing of it is ever
   * shown: the first real redraw then runs compiled code instead of V8's interpreter, which matters
   * when it comes while the workers keep every core busy.
   */
  private warmUp(): void {
    const x = Array.from({ length: 200 }, (_, i) => 100 * 1.05 ** i);
    const y = x.map((v, i) => -540 + 40 * Math.log(v) + (i % 7));
    const sparse = y.map((v, i) => (i % 20 === 0 ? v + 3 : null));
    const none = x.map(() => null);
    this.plot.batch(() => {
      this.plot.setData([x, y, sparse, sparse, y, sparse, ...this.compared.map(() => none)] as uPlot.AlignedData);
      this.fitY();
    });
    this.plot.batch(() => {
      this.plot.setData(this.columns());
      this.fitY();
    });
  }

  /**
   * uPlot's columns: one x for every series, so with compared runs x is the union of every run's
   * samples seen, each series null where its run has no point (spanGaps joins its own points).
   */
  private columns(): uPlot.AlignedData {
    const h = this.history;
    const own = [smooth(h.minibatch, this.view.smoothing), h.train, h.test, h.minibatch, h.loglik];
    if (!this.compared.length) return [h.x.slice(), ...own.map((c) => c.slice())] as uPlot.AlignedData;
    const xs = [...new Set([...h.x, ...this.compared.flatMap(({ run }) => run.x)])].sort((a, b) => a - b);
    const at = new Map(xs.map((v, i) => [v, i]));
    const spread = (x: readonly number[], col: readonly (number | null)[]) => {
      const out: (number | null)[] = new Array(xs.length).fill(null);
      x.forEach((v, i) => {
        out[at.get(v)!] = col[i] ?? null;
      });
      return out;
    };
    return [xs, ...own.map((c) => spread(h.x, c)), ...this.compared.map(({ run }) => spread(run.x, run.test))] as uPlot.AlignedData;
  }

  /** Draw these runs beside the current one (a rebuild: the series change), each with its label. */
  setCompared(runs: { run: ComparedRun; label: string }[]): void {
    this.compared = runs;
    this.plot.destroy();
    this.build();
    this.redrawNow();
  }

  /** Show or hide a compared run's curve. */
  showCompared(id: string, shown: boolean): void {
    const i = this.compared.findIndex(({ run }) => run.id === id);
    if (i < 0) return;
    this.compared[i].run.shown = shown;
    this.plot.batch(() => {
      this.plot.setSeries(OWN_SERIES + i, { show: shown });
      this.fitY();
    });
  }

  /** The labels of the compared runs drawn, and whether each is shown (the debug hook reports them). */
  get comparedShown(): { label: string; shown: boolean; points: number }[] {
    return this.compared.map(({ run, label }, i) => ({
      label,
      shown: this.plot.series[OWN_SERIES + i]?.show ?? false,
      points: run.x.length,
    }));
  }

  /** Show another run's history (a reset, a restore, a loaded checkpoint). */
  setHistory(history: History): void {
    this.history = history;
    this.zoom = null;
    this.drawnVersion = -1;
    this.scheduleRedraw();
  }

  /** Redraw if the history changed: in the page's next shared frame, at most every MIN_REDRAW_MS. */
  scheduleRedraw(): void {
    if (this.pending || this.history.version === this.drawnVersion) return;
    this.pending = true;
    const draw = () => {
      if (performance.now() - this.lastDraw < MIN_REDRAW_MS) {
        drawSoon(this, draw, true);
        return;
      }
      this.pending = false;
      this.redrawNow();
    };
    drawSoon(this, draw, true);
  }

  /** New data in: all of it in view, or the user's zoom kept; then y follows. */
  private redrawNow(): void {
    this.lastDraw = performance.now();
    this.drawnVersion = this.history.version;
    this.plot.batch(() => {
      this.plot.setData(this.columns(), this.zoom === null);
      if (this.zoom) this.plot.setScale('x', this.zoom);
      this.fitY();
    });
    this.draws++;
  }

  private resize(): void {
    const w = Math.max(200, this.container.clientWidth),
      hgt = Math.max(120, this.container.clientHeight - this.legendHeight);
    if (w !== this.plot.width || hgt !== this.plot.height) this.plot.setSize({ width: w, height: hgt });
  }

  /** The x of the first and last points drawn, and how many. */
  get dataExtent(): { xFirst: number; xLast: number; points: number } {
    const x = this.plot.data[0] as number[];
    return { xFirst: x[0] ?? NaN, xLast: x[x.length - 1] ?? NaN, points: x.length };
  }

  /** The plotting canvas (tests read its pixels). */
  get canvas(): HTMLCanvasElement {
    return this.plot.ctx.canvas;
  }

  /** The scales' current ranges (the debug hook reports them). */
  get scales(): { xMin: number; xMax: number; yMin: number; yMax: number } {
    const { x, y } = this.plot.scales;
    return { xMin: x.min ?? NaN, xMax: x.max ?? NaN, yMin: y.min ?? NaN, yMax: y.max ?? NaN };
  }

  dispose(): void {
    this.resizeObserver.disconnect();
    this.plot.destroy();
  }
}
