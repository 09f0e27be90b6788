/**
 * The estimator-variance figure (issue 10, item 4): at fixed parameters taken from points of a run,
 * the per-parameter variance of the minibatch gradient, averaged over parameters, under SGVB
 * estimator A (eq. 7, Monte Carlo KL) and B (eq. 10, analytic KL), for L = 1, 2, 5 samples of ε;
 * log y. One panel per checkpoint (by training samples seen); solid: mean over parameters, dashed:
 * median, when the study reports it. The paper's claim: B below A.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { VarianceRow } from './sweep_files.ts';

export interface VarianceFigureRow {
  panel: string;
  samplesSeen: number;
  estimator: string;
  L: number;
  statistic: 'mean' | 'median';
  variance: number;
}

export function varianceRows(rows: VarianceRow[]): VarianceFigureRow[] {
  return rows.flatMap((r) => {
    const base = {
      panel: `after ${r.samplesSeen.toLocaleString('en-US')} samples`,
      samplesSeen: r.samplesSeen,
      estimator: `estimator ${r.estimator}`,
      L: r.L,
    };
    const out: VarianceFigureRow[] = [{ ...base, statistic: 'mean', variance: r.meanVariance }];
    if (r.medianVariance !== undefined) out.push({ ...base, statistic: 'median', variance: r.medianVariance });
    return out;
  });
}

export function varianceSpec(rows: VarianceFigureRow[]): TopLevelSpec {
  const panels = [...new Map(rows.map((r) => [r.samplesSeen, r.panel])).entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Variance of the minibatch gradient per parameter: SGVB estimator A against B',
    config: { font: 'sans-serif' },
    data: { values: rows },
    facet: { column: { field: 'panel', type: 'nominal', title: null, sort: panels } },
    spec: {
      width: 220,
      height: 200,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'L', type: 'ordinal', title: 'L (samples of ε per datapoint)', axis: { labelAngle: 0 } },
        y: { field: 'variance', type: 'quantitative', scale: { type: 'log' }, title: 'gradient variance per parameter' },
        color: {
          field: 'estimator',
          type: 'nominal',
          title: null,
          scale: { domain: ['estimator A', 'estimator B'], range: ['#ff7f0e', '#2ca02c'] },
        },
        strokeDash: {
          field: 'statistic',
          type: 'nominal',
          title: 'over parameters',
          scale: {
            domain: ['mean', 'median'],
            range: [
              [1, 0],
              [5, 3],
            ],
          },
        },
      },
    },
  } as TopLevelSpec;
}
