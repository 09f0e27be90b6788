/**
 * The live chart (uPlot): ELBO against training samples seen on a log axis, as in the paper's
 * Figure 2. Redraws happen in the page's shared frames (frame.ts), at most once a second, so
 * a stream of progress events costs the main thread a few milliseconds a second.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { drawSoon } from './frame.ts';
import type { History } from './history.ts';

const MIN_REDRAW_MS = 1000;

function compact(v: number): string {
  if (v >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return String(+v.toPrecision(3));
}

/** Log-axis labels at 1, 2 and 5 × 10^k only (uPlot places a split at every integer multiple). */
function logLabels(_u: uPlot, splits: number[]): string[] {
  return splits.map((v) => {
    const m = Math.round(v / 10 ** Math.floor(Math.log10(v) + 1e-9));
    return m === 1 || m === 2 || m === 5 ? compact(v) : '';
  });
}

export class ElboChart {
  private plot: uPlot;
  private drawnVersion = -1;
  private pending = false;
  private lastDraw = 0;
  private resizeObserver: ResizeObserver;
  /** Redraws so far (the debug hook reports it). */
  draws = 0;

  constructor(private readonly container: HTMLElement, private history: History) {
    const opts: uPlot.Options = {
      width: Math.max(200, container.clientWidth),
      height: Math.max(120, container.clientHeight - 30),
      scales: { x: { time: false, distr: 3 } },
      axes: [
        { label: 'training samples seen', values: logLabels, stroke: '#333', labelSize: 18, size: 36 },
        { label: 'ELBO (nats)', stroke: '#333', labelSize: 18, size: 48 },
      ],
      series: [
        { label: 'samples' },
        { label: 'minibatch estimate', stroke: '#98a2ad', width: 1, value: (_u, v) => (v == null ? '–' : v.toFixed(1)) },
        { label: 'training set', stroke: '#1864ab', width: 2, spanGaps: true, points: { show: true, size: 6, fill: '#1864ab' }, value: (_u, v) => (v == null ? '–' : v.toFixed(2)) },
        { label: 'test set', stroke: '#d9480f', width: 2, spanGaps: true, points: { show: true, size: 6, fill: '#d9480f' }, value: (_u, v) => (v == null ? '–' : v.toFixed(2)) },
      ],
      legend: { live: false },
    };
    this.plot = new uPlot(opts, this.columns(), container);
    this.warmUp();
    this.drawnVersion = history.version;
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
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
    this.plot.batch(() => this.plot.setData([x, y, sparse, sparse] as uPlot.AlignedData));
    this.plot.batch(() => this.plot.setData(this.columns()));
  }

  private columns(): uPlot.AlignedData {
    const h = this.history;
    return [h.x.slice(), h.minibatch.slice(), h.train.slice(), h.test.slice()] as uPlot.AlignedData;
  }

  /** Show another run's history (a reset, a restore, a loaded checkpoint). */
  setHistory(history: History): void {
    this.history = history;
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
      this.lastDraw = performance.now();
      this.drawnVersion = this.history.version;
      this.plot.batch(() => this.plot.setData(this.columns()));
      this.draws++;
    };
    drawSoon(this, draw, true);
  }

  private resize(): void {
    const w = Math.max(200, this.container.clientWidth), hgt = Math.max(120, this.container.clientHeight - 30);
    if (w !== this.plot.width || hgt !== this.plot.height) this.plot.setSize({ width: w, height: hgt });
  }

  /** The plotting canvas (tests read its pixels). */
  get canvas(): HTMLCanvasElement { return this.plot.ctx.canvas; }

  dispose(): void {
    this.resizeObserver.disconnect();
    this.plot.destroy();
  }
}
