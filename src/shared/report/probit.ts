/**
 * The inverse of the standard normal CDF, Φ⁻¹(p), for the paper's manifold figures: "linearly
 * spaced coordinates on the unit square were transformed through the inverse CDF of the Gaussian
 * to produce values of the latent variables z" (Kingma & Welling 2013, Figure 4).
 * Acklam's rational approximation: relative error below 1.2e-9 on (0, 1).
 */
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;

/** Φ⁻¹(p) for p in (0, 1); ±Infinity at 0 and 1. */
export function probit(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
  }
  if (p > 1 - P_LOW) return -probit(1 - p);
  const q = p - 0.5,
    r = q * q;
  return (
    ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) /
    (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1)
  );
}

/**
 * z rows [n·n, 2] of an n × n grid: column c has z₁ = Φ⁻¹((c + 1)/(n + 1)), row r (top first) has
 * z₂ = Φ⁻¹(1 − (r + 1)/(n + 1)), so z₂ grows upwards as on a plot.
 */
export function manifoldGrid(n: number): Float32Array {
  const q = Array.from({ length: n }, (_, i) => probit((i + 1) / (n + 1)));
  const z = new Float32Array(n * n * 2);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      z[(r * n + c) * 2] = q[c];
      z[(r * n + c) * 2 + 1] = q[n - 1 - r];
    }
  }
  return z;
}
