/**
 * Figure 2 of Kingma & Welling (2013): the variational lower bound (ELBO per datapoint, nats)
 * against the number of training samples evaluated, log x, AEVB against wake-sleep, the training
 * set solid and the test set dashed, one panel per latent size J. Where a run reported Monte Carlo
 * standard errors (trainElboSe, testElboSe), a band of ± one standard error is drawn under the line.
 *
 * Data in, a Vega-Lite spec out: the CLI and the page draw the same chart from this module.
 */
import type { TopLevelSpec } from 'vega-lite';
import { parseMetricsJsonl, type Algorithm, type MetricsPoint, type Sweep, type SweepRun } from './sweep_files.ts';

export interface Figure2Run {
  run: SweepRun;
  points: MetricsPoint[];
}

/**
 * The runs of a sweep that have something to plot, their metrics.jsonl parsed. `metricsOf` gives a
 * run's file (its text and a name for errors) or undefined where there is none; `note` hears one
 * line for each run left out (leftOut true) or plotted before it finished (false).
 */
export function figure2Runs(
  sweep: Sweep,
  metricsOf: (run: SweepRun) => { text: string; file: string } | undefined,
  note: (line: string, leftOut: boolean) => void,
): Figure2Run[] {
  const runs: Figure2Run[] = [];
  for (const run of sweep.runs) {
    const m = metricsOf(run);
    if (!m) {
      note(`Figure 2: run ${run.name} (${run.status}) has no metrics.jsonl yet; left out.`, true);
      continue;
    }
    const points = parseMetricsJsonl(m.text, m.file);
    if (points.length === 0) {
      note(`Figure 2: run ${run.name} (${run.status}) has no evaluation yet; left out.`, true);
      continue;
    }
    const notFinite = points.filter((p) => p.trainElbo === null || p.testElbo === null).length;
    if (notFinite > 0)
      note(
        `Figure 2: run ${run.name} has ${notFinite} evaluation${notFinite > 1 ? 's that were' : ' that was'} not finite (written as null); left out of its lines.`,
        false,
      );
    if (run.status !== 'done')
      note(`Figure 2: run ${run.name} is ${run.status}; plotted as far as it got (${points.length} points).`, false);
    runs.push({ run, points });
  }
  return runs;
}

export type Split = 'train' | 'test';

/** One plotted point: a run's ELBO on one split at one evaluation, with its ± SE band when known. */
export interface Figure2Row {
  run: string;
  J: number;
  panel: string;
  algorithm: string;
  split: Split;
  samplesSeen: number;
  elbo: number;
  lo?: number;
  hi?: number;
}

export const ALGORITHM_LABEL: Record<Algorithm, string> = { aevb: 'AEVB', 'wake-sleep': 'Wake-Sleep' };

/** The lines of the chart, one per (run, split); what the page and the tests count. */
export function seriesKey(r: Pick<Figure2Row, 'run' | 'split'>): string {
  return `${r.run} (${r.split})`;
}

/**
 * The rows of the chart. A point at samplesSeen 0 (an evaluation before any training) has no place
 * on a log axis and is left out.
 */
export function figure2Rows(runs: Figure2Run[]): Figure2Row[] {
  const rows: Figure2Row[] = [];
  for (const { run, points } of runs) {
    for (const p of points) {
      if (p.samplesSeen <= 0) continue;
      for (const split of ['train', 'test'] as const) {
        const elbo = split === 'train' ? p.trainElbo : p.testElbo;
        if (elbo === null) continue; // not finite: no place on the chart (figure2Runs notes it)
        const se = split === 'train' ? p.trainElboSe : p.testElboSe;
        rows.push({
          run: run.name,
          J: run.latent,
          panel: `J = ${run.latent}`,
          algorithm: ALGORITHM_LABEL[run.algorithm],
          split,
          samplesSeen: p.samplesSeen,
          elbo,
          ...(se !== undefined ? { lo: elbo - se, hi: elbo + se } : {}),
        });
      }
    }
  }
  return rows;
}

/** Decades of samples seen the x-axis spans at most (the last ones), and panels in a row. */
const DECADES_SHOWN = 2,
  PANEL_COLUMNS = 3;

export function figure2Spec(
  rows: Figure2Row[],
  title = 'Lower bound against training samples evaluated (Kingma & Welling 2013, Figure 2)',
): TopLevelSpec {
  // Log x ticked and gridded at the decades only (as the paper's axis; minor ticks would add hundreds of
  // elements). It spans at most the last DECADES_SHOWN decades of the runs: the first few hundred
  // minibatches sit hundreds of nats below the rest and would flatten every later difference into one
  // line (the paper's own axis starts at 10⁵ of its 10⁸). Earlier points are left out of the chart and
  // the subtitle says from where it starts. A last point just past a decade (a budget rounded up to
  // whole epochs) does not open a new, empty decade.
  const seen = rows.map((r) => r.samplesSeen);
  const maxSeen = Math.max(...seen);
  const hi = Math.max(Math.floor(Math.log10(Math.min(...seen))) + 1, Math.ceil(Math.log10(maxSeen / 1.05)));
  // …but never so late that a run that stopped early (still running, or failed) loses all its points.
  const lastOfRun = new Map<string, number>();
  for (const r of rows) lastOfRun.set(r.run, Math.max(lastOfRun.get(r.run) ?? 0, r.samplesSeen));
  const shortest = Math.floor(Math.log10(Math.min(...lastOfRun.values())));
  const lo = Math.max(Math.floor(Math.log10(Math.min(...seen))), Math.min(hi - DECADES_SHOWN, shortest));
  const decades = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
  const from = decades[0];
  const cut = rows.some((r) => r.samplesSeen < from);
  const x = {
    field: 'samplesSeen',
    type: 'quantitative' as const,
    scale: { type: 'log' as const, domain: [from, Math.max(decades[decades.length - 1], maxSeen)] },
    title: '# training samples evaluated',
    axis: { format: '~s', values: decades },
  };
  const color = {
    field: 'algorithm',
    type: 'nominal' as const,
    title: 'Algorithm',
    scale: { domain: ['AEVB', 'Wake-Sleep'], range: ['#d62728', '#1f77b4'] },
  };
  // The legend shows the lines' strokes (the bands share the scale and would lend it their faint fill).
  const legendColor = { ...color, legend: { symbolType: 'stroke', symbolStrokeWidth: 2, symbolOpacity: 1 } };
  // One line (and band) per run and split: two runs of the same J and algorithm (seeds) stay apart.
  const detail = [
    { field: 'run', type: 'nominal' as const },
    { field: 'split', type: 'nominal' as const },
  ];
  const panels = [...new Set(rows.map((r) => r.J))].sort((a, b) => a - b).map((J) => `J = ${J}`);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: cut
      ? { text: title, subtitle: `from ${from.toLocaleString('en-US')} training samples on (earlier evaluations left out)` }
      : title,
    data: { values: rows },
    transform: cut ? [{ filter: `datum.samplesSeen >= ${from}` }] : [],
    facet: { field: 'panel', type: 'nominal', title: null, sort: panels, header: { labelFontSize: 13, labelFontWeight: 'bold' } },
    columns: PANEL_COLUMNS,
    resolve: { scale: { y: 'independent' }, axis: { x: 'independent' } },
    config: { font: 'sans-serif' },
    spec: {
      width: 260,
      height: 220,
      layer: [
        {
          name: 'se_band',
          transform: [{ filter: 'isValid(datum.lo)' }],
          mark: { type: 'area', opacity: 0.18 },
          encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: legendColor, detail },
        },
        {
          name: 'elbo_line',
          mark: { type: 'line', strokeWidth: 1.6, point: false },
          encoding: {
            x,
            y: { field: 'elbo', type: 'quantitative', title: 'lower bound (nats per datapoint)', scale: { zero: false } },
            color: legendColor,
            strokeDash: {
              field: 'split',
              type: 'nominal',
              title: 'Set',
              scale: {
                domain: ['train', 'test'],
                range: [
                  [1, 0],
                  [6, 4],
                ],
              },
            },
            detail,
          },
        },
      ],
    },
  } as TopLevelSpec;
}
