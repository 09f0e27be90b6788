/**
 * Runs drawn beside the current one, as TensorBoard draws runs side by side: the previous run kept
 * in this browser, and runs the user loads (a run directory's metrics.jsonl, a checkpoint with its
 * metrics). Each is its test-set ELBO curve, labelled by the settings in which it differs from the
 * current run, and can be shown or hidden.
 */
import type { TrainConfig } from '../../shared/training/config.ts';
import { CONFIG_FIELDS } from '../../shared/training/config_fields.ts';
import { dataError } from '../../shared/errors.ts';

/** One run on the chart beside the current one. */
export interface ComparedRun {
  /** Stable key (for its checkbox). */
  id: string;
  /** Where it came from: "previous run", a file's name. */
  source: string;
  /** Its settings, when known (a checkpoint, the previous run); a bare metrics.jsonl has none. */
  config?: Partial<TrainConfig>;
  /** Samples seen and the test-set ELBO there (the evaluations), ascending in x. */
  x: number[];
  test: (number | null)[];
  shown: boolean;
}

/**
 * The settings that tell runs apart: the config fields on the page's form (the field table's rows
 * with a page control), in the form's order, but the epochs (a longer run of the same settings is
 * the same curve, further on).
 */
const COMPARED_KEYS: readonly (keyof TrainConfig)[] = CONFIG_FIELDS.filter((r) => r.page !== undefined && r.field !== 'epochs')
  .sort((a, b) => a.page!.order - b.page!.order)
  .map((r) => r.field);

/** "latent 4, hidden 40": the settings of `c` that differ from `base`; "same settings" when none. */
export function differingSettings(c: Partial<TrainConfig> | undefined, base: Partial<TrainConfig> | undefined): string {
  if (!c) return 'settings unknown';
  const diff = COMPARED_KEYS.filter((k) => c[k] !== undefined && (base === undefined || String(c[k]) !== String(base[k]))).map(
    (k) => `${k} ${String(c[k])}`,
  );
  return diff.length ? diff.join(', ') : 'same settings';
}

/** The run's label on the chart and its checkbox: where it came from and how it differs. */
export function comparedLabel(r: ComparedRun, base: Partial<TrainConfig> | undefined): string {
  return `${r.source} (${differingSettings(r.config, base)})`;
}

/**
 * The test-set curve of a metrics.jsonl (the CLI's, or the page's download): the rows with a
 * samplesSeen and a testElbo (not log p(x) estimates' rows). A line that is not JSON is an error naming the file and line.
 */
export function curveOfJsonl(text: string, name: string): { x: number[]; test: number[] } {
  const pts: [number, number][] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      throw dataError(
        `${name} line ${i + 1} is not JSON (${(e as Error).message}).`,
        "Pick a metrics.jsonl written by npm run train, a sweep, or the page's JSONL download.",
      );
    }
    const x = r.samplesSeen,
      y = r.testElbo;
    // Evaluations only: an estimate's row repeats the test ELBO of a state already evaluated (or not on the curve).
    if (r.point !== 'estimate' && typeof x === 'number' && x > 0 && typeof y === 'number' && Number.isFinite(y)) pts.push([x, y]);
  });
  if (!pts.length) {
    throw dataError(
      `${name} has no row with samplesSeen and testElbo.`,
      "Pick a metrics.jsonl written by npm run train, a sweep, or the page's JSONL download.",
    );
  }
  pts.sort((a, b) => a[0] - b[0]);
  return { x: pts.map((p) => p[0]), test: pts.map((p) => p[1]) };
}

/** The test-set curve of a run's metrics rows (a checkpoint's metrics section, a saved history's rows). */
export function curveOfRows(rows: readonly Record<string, unknown>[]): { x: number[]; test: number[] } {
  const pts = rows
    .filter((r) => typeof r.samplesSeen === 'number' && r.samplesSeen > 0 && typeof r.testElbo === 'number' && r.point !== 'estimate')
    .map((r) => [r.samplesSeen as number, r.testElbo as number] as const)
    .sort((a, b) => a[0] - b[0]);
  return { x: pts.map((p) => p[0]), test: pts.map((p) => p[1]) };
}

/** Colours of compared runs, in turn (apart from the current run's blue and orange). */
export const COMPARED_COLOURS = ['#2b8a3e', '#862e9c', '#e67700', '#0b7285', '#c2255c', '#5c940d'];
