/**
 * The test set in latent space: the encoder's mean μ(x) of each test datapoint, first two
 * dimensions, one dot per datapoint coloured by its label (the paper's Figure 4 setting, J = 2).
 * The view holds the middle 99 % of the dots on each axis; grey lines mark the prior's mean, 0.
 */
import { h } from './dom.ts';

/** Ten distinguishable colours (Tableau 10), one per label. */
export const LABEL_COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** [lo, hi] holding the middle 99 % of dimension j's values, padded by 10 % (never narrower than 0.1). */
function extent(mu: Float32Array, n: number, J: number, j: number): [number, number] {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = mu[i * J + j];
  a.sort();
  const lo = n ? a[Math.floor(n * 0.005)] : -1,
    hi = n ? a[Math.min(n - 1, Math.floor(n * 0.995))] : 1;
  const pad = Math.max(0.05, (hi - lo) * 0.1);
  return [lo - pad, hi + pad];
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(2));

/**
 * Draw n rows of μ ([n, J]); J = 1 spreads the dots vertically by label instead. Returns the
 * axes' ranges in words (shown as text beside the canvas, not drawn into it) and as numbers
 * [μ₁ lo, μ₁ hi, μ₂ lo, μ₂ hi] (a click on the canvas maps back to μ through them).
 */
export function drawLatent(
  canvas: HTMLCanvasElement,
  mu: Float32Array,
  n: number,
  J: number,
  labels?: Uint8Array,
): { axes: string; view: [number, number, number, number] } {
  const ctx = canvas.getContext('2d')!;
  const W = canvas.width,
    H = canvas.height;
  const two = J >= 2;
  const [x0, x1] = extent(mu, n, J, 0);
  const [y0, y1] = two ? extent(mu, n, J, 1) : [0, 10];
  const sx = (v: number) => ((v - x0) / (x1 - x0)) * W;
  const sy = (v: number) => H - ((v - y0) / (y1 - y0)) * H;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, W, H);
  // The axes through the prior's mean, where they are in view.
  ctx.strokeStyle = '#ccc';
  ctx.lineWidth = 1;
  ctx.beginPath();
  if (two && y0 < 0 && y1 > 0) {
    ctx.moveTo(0, sy(0));
    ctx.lineTo(W, sy(0));
  }
  if (x0 < 0 && x1 > 0) {
    ctx.moveTo(sx(0), 0);
    ctx.lineTo(sx(0), H);
  }
  ctx.stroke();
  const dot = Math.max(2, Math.round(W / 110));
  for (let i = 0; i < n; i++) {
    const label = labels ? labels[i] : 0;
    ctx.fillStyle = LABEL_COLOURS[label % LABEL_COLOURS.length];
    const y = two ? sy(mu[i * J + 1]) : (9 - (label % 10) + 0.5) * (H / 10);
    ctx.fillRect(sx(mu[i * J]) - dot / 2, y - dot / 2, dot, dot);
  }
  const axes = `μ₁ from ${fmt(x0)} to ${fmt(x1)} (→), ${two ? `μ₂ from ${fmt(y0)} to ${fmt(y1)} (↑)` : 'one row per label'}`;
  return { axes, view: [x0, x1, y0, y1] };
}

/** A colour key for labels 0..k-1, or a note when the data has none. */
export function fillLegend(el: HTMLElement, labels?: Uint8Array): void {
  el.replaceChildren();
  if (!labels) {
    el.textContent = 'No labels: every dot is blue.';
    return;
  }
  const k = Math.min(LABEL_COLOURS.length, labels.reduce((m, v) => Math.max(m, v), 0) + 1);
  for (let i = 0; i < k; i++) {
    const swatch = h('span', { className: 'swatch' });
    swatch.style.background = LABEL_COLOURS[i];
    el.append(h('span', { className: 'key' }, swatch, String(i)));
  }
}
