/**
 * Drawing datapoints as images: one ImageData for the whole grid and one putImageData, so a
 * grid of 144 digits costs about a millisecond. The canvas is drawn at one pixel per value and
 * scaled by CSS (image-rendering: pixelated), which keeps the work independent of the screen.
 */
import type { Dataset } from '../../shared/data/dataset.ts';

export type Shape = readonly [rows: number, cols: number];

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const rgba = (g: number) =>
  LITTLE_ENDIAN ? (0xff000000 | (g << 16) | (g << 8) | g) >>> 0 : ((g << 24) | (g << 16) | (g << 8) | 0xff) >>> 0;
/** Opaque grey g as one 32-bit pixel, for g = 0..255. */
const GREYS = Uint32Array.from({ length: 256 }, (_, g) => rgba(g));
const EMPTY = rgba(40);

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
  if (!img || img.width !== canvas.width || img.height !== canvas.height)
    images.set(canvas, (img = ctx.createImageData(canvas.width, canvas.height)));
  // One 32-bit store per pixel, through a grey-level table (RGBA bytes in the host's order).
  const px = new Uint32Array(img.data.buffer);
  const stride = canvas.width;
  cells.forEach((cell, k) => {
    const x0 = (k % gridCols) * w,
      y0 = Math.floor(k / gridCols) * h;
    for (let r = 0; r < h; r++) {
      const o = (y0 + r) * stride + x0;
      if (!cell) {
        px.fill(EMPTY, o, o + w);
        continue;
      }
      for (let c = 0; c < w; c++) {
        const v = cell[r * w + c];
        px[o + c] = GREYS[v >= 1 ? 255 : v > 0 ? (v * 255 + 0.5) | 0 : 0];
      }
    }
  });
  ctx.putImageData(img, 0, 0);
}

/** Row i of a [n, d] matrix, as a view. */
export function row(x: Float32Array, i: number, d: number): Float32Array {
  return x.subarray(i * d, (i + 1) * d);
}
