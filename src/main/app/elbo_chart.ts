/**
 * The live chart (uPlot): ELBO against training samples seen, on a log axis as in the paper's
 * Figure 2 (or linear), and used as people use TensorBoard: the y-range follows the data in view
 * (ignoring outliers if asked: chart_math.ts), drag to zoom, wheel to zoom, Shift+drag to pan,
 * double-click or "Reset zoom" to see everything again, and a smoothing weight for the noisy
 * minibatch estimate (the raw estimate stays as a faint line). Redraws happen in the page's shared
 * frames (frame.ts), at most once a second, so a stream of progress events costs the main thread a
 * few milliseconds a second.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { smooth, yRange } from './chart_math.ts';
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

export class ElboChart {
  private plot!: uPlot;
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

  constructor(readonly container: HTMLElement, private history: History) {
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
      height: Math.max(120, this.container.clientHeight - 30),
      scales: { x: { time: false, distr: this.view.logX ? 3 : 1 }, y: { auto: false } },
      axes: [
        { label: 'training samples seen', values: this.view.logX ? logLabels : (_u, s) => s.map(compact), stroke: '#333', labelSize: 18, size: 36 },
        { label: 'ELBO (nats)', stroke: '#333', labelSize: 18, size: 48 },
      ],
      series: [
        { label: 'samples' },
        { label: 'minibatch estimate', stroke: '#6c7782', width: 1.5, spanGaps: true, value: num(1) },
        { label: 'training set', stroke: '#1864ab', width: 2, spanGaps: true, points: { show: true, size: 6, fill: '#1864ab' }, value: num(2) },
        { label: 'test set', stroke: '#d9480f', width: 2, spanGaps: true, points: { show: true, size: 6, fill: '#d9480f' }, value: num(2) },
        { label: 'minibatch (raw)', stroke: 'rgba(108, 119, 130, 0.25)', width: 1, spanGaps: true, value: num(1) },
      ],
      legend: { live: false },
      cursor: {
        drag: { x: true, y: false, setScale: false }, // the selection becomes a zoom in setSelect
        bind: {
          // Shift+drag pans instead of selecting; a double-click shows all the data.
          mousedown: (_u, _t, handler) => (e: MouseEvent) => { if (!e.shiftKey) handler(e); return null; },
          dblclick: () => () => { this.resetZoom(); return null; },
        },
      },
      hooks: {
        setSelect: [(u) => {
          const { left, width } = u.select;
          if (width < 3) return;
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          this.zoomTo(u.posToVal(left, 'x'), u.posToVal(left + width, 'x'));
        }],
      },
    };
    this.plot = new uPlot(opts, this.columns(), this.container);
    this.wirePanAndWheel();
    this.plot.batch(() => this.fitY());
  }

  /** x in the axis's own space (log or linear), where zooming and panning are even, and back. */
  private readonly toAxis = (v: number) => (this.view.logX ? Math.log(v) : v);
  private readonly fromAxis = (v: number) => (this.view.logX ? Math.exp(v) : v);

  /** Wheel: zoom around the pointer; Shift+drag: pan. Both in the axis's own (log or linear) space. */
  private wirePanAndWheel(): void {
    const over = this.plot.over;
    over.addEventListener('wheel', (e) => {
      e.preventDefault();
      const u = this.plot, x = u.scales.x;
      const at = u.posToVal(e.offsetX, 'x');
      const f = e.deltaY > 0 ? 1.25 : 0.8;
      const t = this.toAxis, inv = this.fromAxis;
      this.zoomTo(inv(t(at) + (t(x.min!) - t(at)) * f), inv(t(at) + (t(x.max!) - t(at)) * f));
    }, { passive: false });
    over.addEventListener('mousedown', (e) => {
      if (!e.shiftKey) return;
      const startX = e.clientX, w = over.clientWidth;
      const t = this.toAxis, inv = this.fromAxis;
      const a = t(this.plot.scales.x.min!), b = t(this.plot.scales.x.max!);
      const move = (m: MouseEvent) => {
        const shift = (-(m.clientX - startX) / w) * (b - a);
        this.zoomTo(inv(a + shift), inv(b + shift));
      };
      const up = () => { removeEventListener('mousemove', move); removeEventListener('mouseup', up); };
      addEventListener('mousemove', move);
      addEventListener('mouseup', up);
    });
  }

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

  get zoomed(): boolean { return this.zoom !== null; }

  /**
   * The y-range that follows the data in view (chart_math.ts): the zoomed x-range, or all of it.
   * Called inside a batch, so the data, x and y change in one redraw.
   */
  private fitY(): void {
    const u = this.plot, x = this.zoom ?? { min: -Infinity, max: Infinity };
    const cols = [1, 2, 3, 4].filter((i) => u.series[i].show).map((i) => u.data[i] as (number | null)[]);
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
    this.plot.batch(() => { this.plot.setData([x, y, sparse, sparse, y] as uPlot.AlignedData); this.fitY(); });
    this.plot.batch(() => { this.plot.setData(this.columns()); this.fitY(); });
  }

  private columns(): uPlot.AlignedData {
    const h = this.history;
    return [h.x.slice(), smooth(h.minibatch, this.view.smoothing), h.train.slice(), h.test.slice(), h.minibatch.slice()] as uPlot.AlignedData;
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
      if (performance.now() - this.lastDraw < MIN_REDRAW_MS) { drawSoon(this, draw, true); return; }
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
    const w = Math.max(200, this.container.clientWidth), hgt = Math.max(120, this.container.clientHeight - 30);
    if (w !== this.plot.width || hgt !== this.plot.height) this.plot.setSize({ width: w, height: hgt });
  }

  /** The plotting canvas (tests read its pixels). */
  get canvas(): HTMLCanvasElement { return this.plot.ctx.canvas; }

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
