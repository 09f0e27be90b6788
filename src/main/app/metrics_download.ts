/**
 * The run's per-epoch metrics as files, with the fields of the CLI's metrics.jsonl (README,
 * "Outputs"): JSON Lines (one object per epoch, the same keys) and CSV (a header of those keys,
 * one row per epoch; an absent value is an empty cell).
 */
import type { EpochRecord } from './history.ts';

/** The CLI's metrics.jsonl fields, in its order (EpochEvent + workers). */
export const METRIC_FIELDS = ['epoch', 'step', 'samplesSeen', 'trainElbo', 'testElbo', 'trainRecon', 'trainKl', 'testRecon', 'testKl',
  'trainElboSe', 'testElboSe', 'elboSamples', 'logLikelihood', 'logLikelihoodK', 'logLikelihoodSe', 'samplesPerSecond', 'trainSeconds', 'evalSeconds', 'failedSteps', 'workers'] as const;

export function metricsJsonl(rows: readonly EpochRecord[]): string {
  return rows.map((r) => JSON.stringify(r) + '\n').join('');
}

export function metricsCsv(rows: readonly EpochRecord[]): string {
  const cell = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  return [METRIC_FIELDS.join(','), ...rows.map((r) => METRIC_FIELDS.map((f) => cell((r as unknown as Record<string, unknown>)[f])).join(','))]
    .join('\n') + '\n';
}
