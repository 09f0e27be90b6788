/**
 * The arithmetic behind the ELBO chart's TensorBoard-like behaviour: smoothing of the noisy
 * minibatch estimate, and a y-range that follows the data in view, optionally ignoring outliers.
 */

/**
 * TensorBoard's smoothing: an exponential moving average with weight w ∈ [0, 1), debiased for its
 * zero start,
 *     m_t = w·m_{t−1} + (1 − w)·y_t,   ŷ_t = m_t / (1 − w^t)
 * over the points present (nulls stay null and do not count). w = 0 returns the values unchanged.
 */
export function smooth(ys: readonly (number | null)[], w: number): (number | null)[] {
  if (w <= 0) return ys.slice();
  let m = 0,
    t = 0;
  return ys.map((y) => {
    if (y == null || !Number.isFinite(y)) return y;
    m = w * m + (1 - w) * y;
    t++;
    return m / (1 - w ** t);
  });
}

/**
 * [lo, hi] for the values of `cols` at the rows whose x lies in [xMin, xMax]; with
 * `ignoreOutliers` the low end is the 5th percentile (as TensorBoard's "ignore outliers in chart
 * scaling": the ELBO starts hundreds of nats below where it ends). Padded by 5 %; null when empty.
 */
export function yRange(
  x: readonly number[],
  cols: readonly (readonly (number | null)[])[],
  xMin: number,
  xMax: number,
  ignoreOutliers: boolean,
): [number, number] | null {
  const v: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (x[i] < xMin || x[i] > xMax) continue;
    for (const c of cols) {
      const y = c[i];
      if (y != null && Number.isFinite(y)) v.push(y);
    }
  }
  if (!v.length) return null;
  v.sort((a, b) => a - b);
  const lo = ignoreOutliers ? v[Math.floor(0.05 * (v.length - 1))] : v[0],
    hi = v[v.length - 1];
  const pad = Math.max(0.5, (hi - lo) * 0.05);
  return [lo - pad, hi + pad];
}
