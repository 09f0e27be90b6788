/**
 * The run's metrics as files, with the fields of the CLI's metrics.jsonl (README, "Outputs"): JSON
 * Lines (one object per evaluation: an epoch's end, a point of the log grid, or a log p(x) estimate
 * asked for, point 'estimate') and CSV (a header of every field any row has, in metrics.jsonl's
 * order, then any others in order of appearance; one row per object; an absent value is an empty
 * cell). So the CSV holds every field of the JSONL, `point` included.
 */
import type { MetricsRow } from './history.ts';

/** The CLI's metrics.jsonl fields, in its order (EpochEvent + workers). */
export const METRIC_FIELDS = [
  'epoch',
  'step',
  'point',
  'samplesSeen',
  'trainElbo',
  'testElbo',
  'trainRecon',
  'trainKl',
  'testRecon',
  'testKl',
  'trainElboSe',
  'testElboSe',
  'elboSamples',
  'logLikelihood',
  'logLikelihoodK',
  'logLikelihoodSe',
  'samplesPerSecond',
  'trainSeconds',
  'evalSeconds',
  'failedSteps',
  'workers',
] as const;

export function metricsJsonl(rows: readonly MetricsRow[]): string {
  return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
}

/** The CSV's columns: METRIC_FIELDS, then any other key of the rows (so that no JSONL field is left out). */
export function csvColumns(rows: readonly MetricsRow[]): string[] {
  const cols: string[] = [...METRIC_FIELDS];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  return cols;
}

export function metricsCsv(rows: readonly MetricsRow[]): string {
  const cols = csvColumns(rows);
  const cell = (v: unknown) =>
    v === undefined || v === null ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v);
  return `${[cols.join(','), ...rows.map((r) => cols.map((f) => cell((r as unknown as Record<string, unknown>)[f])).join(','))].join('\n')}\n`;
}
