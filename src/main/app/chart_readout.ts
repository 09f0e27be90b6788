/**
 * The chart's readout, as TensorBoard's tooltip: at the point under the pointer (or the one picked
 * with the arrow keys), the samples seen, the step, and each shown series' value there. The series
 * are sparse (the minibatch estimate is thinned, the evaluations come once an epoch), so each
 * series shows its point nearest the cursor in x, with that point's own x when it differs.
 */
import type uPlot from 'uplot';

/** One line of the readout: a series (or a pair: smoothed and raw) and how to print its value. */
export interface ReadoutSeries {
  /** Index of the series in uPlot's data. */
  index: number;
  label: string;
  /** Index of the raw values the series smooths, if it does. */
  raw?: number;
  digits: number;
}

/** The index of the point of `col` nearest to x[idx] in the axis space t (-1: none). */
export function nearestPresent(
  x: readonly number[],
  col: readonly (number | null | undefined)[],
  idx: number,
  t: (v: number) => number,
): number {
  let lo = idx,
    hi = idx;
  while (lo >= 0 && col[lo] == null) lo--;
  while (hi < col.length && col[hi] == null) hi++;
  if (lo < 0 && hi >= col.length) return -1;
  if (lo < 0) return hi;
  if (hi >= col.length) return lo;
  return t(x[idx]) - t(x[lo]) <= t(x[hi]) - t(x[idx]) ? lo : hi;
}

const count = (v: number) => Math.round(v).toLocaleString('en');

/** The readout's lines at row `idx`: samples seen and step, then one line per series with a point. */
export function readoutLines(
  u: uPlot,
  idx: number,
  series: readonly ReadoutSeries[],
  samplesPerStep: number,
  t: (v: number) => number,
): string[] {
  const x = u.data[0] as number[];
  const at = x[idx];
  const lines = [`${count(at)} samples seen${samplesPerStep > 0 ? `, step ${count(at / samplesPerStep)}` : ''}`];
  for (const s of series) {
    if (!u.series[s.index]?.show) continue;
    const col = u.data[s.index] as (number | null)[];
    const i = nearestPresent(x, col, idx, t);
    if (i < 0) continue;
    const where = x[i] === at ? '' : ` (at ${count(x[i])})`;
    const raw = s.raw !== undefined ? (u.data[s.raw] as (number | null)[])[i] : undefined;
    const value =
      raw != null && raw !== col[i] ? `${col[i]!.toFixed(s.digits)} smoothed, ${raw.toFixed(s.digits)} raw` : col[i]!.toFixed(s.digits);
    lines.push(`${s.label}: ${value}${where}`);
  }
  return lines;
}
