/** Summaries of repeated measurements. */

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Element-wise: f(xs[i], ys[i]) for paired measurements (taken next to each other in time). */
export function paired(xs: readonly number[], ys: readonly number[], f: (x: number, y: number) => number): number[] {
  if (xs.length !== ys.length) throw new Error(`paired: ${xs.length} vs ${ys.length} measurements`);
  return xs.map((x, i) => f(x, ys[i]));
}
