/**
 * The row of controls above the ELBO chart: smoothing, log/linear x, ignore outliers, reset zoom,
 * and the metrics downloads (metrics_download.ts). It only forwards to the chart and to a
 * download; `refresh` enables what applies now.
 */
import { byId } from './dom.ts';
import { download } from './downloads.ts';
import { gestureWords } from './chart_gestures.ts';
import type { ElboChart } from './elbo_chart.ts';
import type { History } from './history.ts';
import { metricsCsv, metricsJsonl } from './metrics_download.ts';

export class ChartTools {
  private readonly reset = byId('chart-reset', HTMLButtonElement);
  private readonly csv = byId('metrics-csv', HTMLButtonElement);
  private readonly jsonl = byId('metrics-jsonl', HTMLButtonElement);

  constructor(
    private readonly chart: ElboChart,
    private readonly history: () => History | null,
  ) {
    // The caption names the gestures of the device in hand (a touch screen's pointer is coarse), and follows a change of it.
    const coarse = matchMedia('(pointer: coarse)'),
      gestures = byId('chart-gestures', HTMLElement);
    const say = () => {
      gestures.textContent = gestureWords(coarse.matches);
    };
    say();
    coarse.addEventListener('change', say);
    const smoothing = byId('chart-smoothing', HTMLInputElement),
      shown = byId('chart-smoothing-value', HTMLOutputElement);
    smoothing.addEventListener('input', () => {
      shown.value = smoothing.valueAsNumber.toFixed(2);
      chart.setView({ smoothing: smoothing.valueAsNumber });
    });
    const logX = byId('chart-logx', HTMLInputElement);
    logX.addEventListener('change', () => {
      chart.setView({ logX: logX.checked });
      this.refresh();
    });
    const outliers = byId('chart-outliers', HTMLInputElement);
    outliers.addEventListener('change', () => chart.setView({ ignoreOutliers: outliers.checked }));
    this.reset.addEventListener('click', () => chart.resetZoom());
    chart.onZoom = () => this.refresh();
    this.csv.addEventListener('click', () => this.download('csv'));
    this.jsonl.addEventListener('click', () => this.download('jsonl'));
  }

  private download(kind: 'csv' | 'jsonl'): void {
    const rows = this.history()?.epochs ?? [];
    if (kind === 'csv') download(metricsCsv(rows), 'metrics.csv', 'text/csv');
    else download(metricsJsonl(rows), 'metrics.jsonl', 'application/x-ndjson');
  }

  /** Enable Reset zoom when zoomed, the downloads when some epoch has ended. */
  refresh(): void {
    this.reset.disabled = !this.chart.zoomed;
    this.csv.disabled = this.jsonl.disabled = !this.history()?.epochs.length;
  }
}
