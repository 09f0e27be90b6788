/**
 * Pictures in a chart: the decoder means of Figures 4 and 5 tiled into one grey image, encoded as
 * a PNG (fast-png) and placed in a Vega-Lite chart as an image mark with a data: URL. The SVG and
 * its PNG both carry the pixels, and the titles are Vega's, as on every other figure.
 */
import { encode } from 'fast-png';
import type { TopLevelSpec } from 'vega-lite';

export interface GreyImage {
  grey: Uint8Array;
  width: number;
  height: number;
}

/** A value in [0, 1] (a Bernoulli mean; a Gaussian mean is clipped to it) as an 8-bit grey level. */
export const greyLevel = (v: number): number => Math.round(255 * Math.min(1, Math.max(0, v)));

/**
 * n images (rows [n, h·w], row-major pixels) tiled `cols` to a row, image i at row ⌊i / cols⌋,
 * column i mod cols; every pixel drawn as a scale × scale block, so that the picture stays sharp
 * at any zoom without relying on a renderer's image smoothing.
 */
export function tileImages(images: Float32Array, n: number, h: number, w: number, cols: number, scale = 1): GreyImage {
  const rows = Math.ceil(n / cols);
  const width = cols * w * scale,
    height = rows * h * scale;
  const grey = new Uint8Array(width * height);
  for (let i = 0; i < n; i++) {
    const top = Math.floor(i / cols) * h * scale,
      left = (i % cols) * w * scale;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const g = greyLevel(images[i * h * w + y * w + x]);
        for (let dy = 0; dy < scale; dy++)
          grey.fill(g, (top + y * scale + dy) * width + left + x * scale, (top + y * scale + dy) * width + left + (x + 1) * scale);
      }
    }
  }
  return { grey, width, height };
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** An 8-bit grey PNG as a data: URL. */
export function greyPngDataUrl(img: GreyImage): string {
  return `data:image/png;base64,${base64(encode({ width: img.width, height: img.height, data: img.grey, channels: 1, depth: 8 }))}`;
}

export interface ImagePanel {
  title: string;
  /** A second line under the title (what the panel's data are). */
  subtitle?: string;
  image: GreyImage;
}

/** Panels side by side, each one image at its own pixel size, titled. */
export function imagePanelsSpec(title: string, panels: ImagePanel[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, anchor: 'start' },
    config: { font: 'sans-serif', view: { stroke: null }, title: { subtitleFontSize: 11 } },
    hconcat: panels.map((p) => ({
      title: { text: p.title, ...(p.subtitle ? { subtitle: p.subtitle } : {}), anchor: 'start' as const },
      width: p.image.width,
      height: p.image.height,
      data: { values: [{ url: greyPngDataUrl(p.image) }] },
      // aria: false, or Vega copies the whole data: URL into an aria-label beside the image.
      mark: { type: 'image' as const, width: p.image.width, height: p.image.height, aspect: false, aria: false },
      encoding: { x: { value: p.image.width / 2 }, y: { value: p.image.height / 2 }, url: { field: 'url', type: 'nominal' as const } },
    })),
  } as TopLevelSpec;
}
