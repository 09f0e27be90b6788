/**
 * Drawing datapoints as images: one ImageData for the whole grid and one putImageData, so a
 * grid of 144 digits costs about a millisecond. The canvas is drawn at one pixel per value and
 * scaled by CSS (image-rendering: pixelated), which keeps the work independent of the screen.
 */
import type { Dataset } from '../../shared/dataset.ts';

export type Shape = readonly [rows: number, cols: number];

/** One ImageData per canvas, reused by every repaint (no garbage per refresh). */
const images = new WeakMap<HTMLCanvasElement, ImageData>();

/** How to draw a datapoint: its image shape, a square if D is one, else a one-row strip. */
export function shapeOf(ds: Pick<Dataset, 'd' | 'imageShape'>): Shape {
  if (ds.imageShape) return ds.imageShape;
  const s = Math.round(Math.sqrt(ds.d));
  return s * s === ds.d ? [s, s] : [1, ds.d];
}

/**
 * Paint cells (each one datapoint of rows·cols values in [0, 1], or null for an empty cell) into
 * a grid `gridCols` wide, white on black as in the paper's figures. Resizes the canvas to fit.
 */
export function paintGrid(canvas: HTMLCanvasElement, cells: readonly (Float32Array | null)[], gridCols: number, shape: Shape): void {
  const [h, w] = shape;
  const gridRows = Math.ceil(cells.length / gridCols);
  if (canvas.width !== gridCols * w) canvas.width = gridCols * w;
  if (canvas.height !== gridRows * h) canvas.height = gridRows * h;
  const ctx = canvas.getContext('2d')!;
  let img = images.get(canvas);
  if (!img || img.width !== canvas.width || img.height !== canvas.height) images.set(canvas, img = ctx.createImageData(canvas.width, canvas.height));
  const px = img.data;
  const stride = canvas.width * 4;
  cells.forEach((cell, k) => {
    const x0 = (k % gridCols) * w, y0 = Math.floor(k / gridCols) * h;
    for (let r = 0; r < h; r++) {
      let o = (y0 + r) * stride + x0 * 4;
      for (let c = 0; c < w; c++, o += 4) {
        const v = cell ? Math.round(Math.min(1, Math.max(0, cell[r * w + c])) * 255) : 40;
        px[o] = px[o + 1] = px[o + 2] = v;
        px[o + 3] = 255;
      }
    }
  });
  ctx.putImageData(img, 0, 0);
}

/** Row i of a [n, d] matrix, as a view. */
export function row(x: Float32Array, i: number, d: number): Float32Array {
  return x.subarray(i * d, (i + 1) * d);
}
