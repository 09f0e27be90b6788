/**
 * Reading the figures back for the tests: an SVG parsed as XML (@xmldom/xmldom, failing on any
 * error), its line series by Vega's aria labels, its embedded images decoded, and PNGs decoded
 * with fast-png (the encoder the figures use).
 */
import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import { decode } from 'fast-png';

export function parseSvg(text: string): Document {
  const doc = new DOMParser({
    onError: (level, msg) => {
      throw new Error(`SVG ${level}: ${msg}`);
    },
  }).parseFromString(text, 'image/svg+xml');
  const root = doc.documentElement!;
  if (root.tagName !== 'svg' || root.namespaceURI !== 'http://www.w3.org/2000/svg')
    throw new Error(`the root is <${root.tagName}>, not an SVG <svg>`);
  return doc;
}

export const elements = (doc: Document | Element, tag: string): Element[] =>
  Array.from(doc.getElementsByTagName(tag) as unknown as ArrayLike<Element>);

export function svgSize(doc: Document): { width: number; height: number } {
  const r = doc.documentElement!;
  return { width: Number(r.getAttribute('width')), height: Number(r.getAttribute('height')) };
}

/** Every <text>'s content: titles, axis titles, tick and legend labels. */
export const texts = (doc: Document): string[] => elements(doc, 'text').map((t) => t.textContent ?? '');

/** The paths drawn by a Vega mark group whose class names `markClass` (e.g. 'elbo_line_marks'). */
export function markPaths(doc: Document, markClass: string): Element[] {
  return elements(doc, 'g')
    .filter((g) => (g.getAttribute('class') ?? '').split(' ').includes(markClass))
    .flatMap((g) => elements(g, 'path'));
}

/** A Vega aria-label "a: 1; b: x" as a record. */
export function ariaFields(el: Element): Record<string, string> {
  return Object.fromEntries(
    (el.getAttribute('aria-label') ?? '').split('; ').map((kv) => {
      const i = kv.indexOf(': ');
      return [kv.slice(0, i), kv.slice(i + 2)];
    }),
  );
}

/** The number of vertices of a Vega line path ("M x,y L x,y …"). */
export const vertexCount = (d: string): number => (d.match(/[ML]/g) ?? []).length;

export interface DecodedPng {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array | Uint16Array;
}

export function decodePng(bytes: Uint8Array): DecodedPng {
  const p = decode(bytes);
  return { width: p.width, height: p.height, channels: p.channels, data: p.data as Uint8Array };
}

/** The PNGs embedded as data: URLs in the SVG's <image> marks, in document order. */
export function embeddedImages(doc: Document): DecodedPng[] {
  return elements(doc, 'image').map((img) => {
    const href = img.getAttribute('xlink:href') ?? img.getAttribute('href') ?? '';
    const m = /^data:image\/png;base64,(.*)$/.exec(href);
    if (!m) throw new Error(`an <image> without a PNG data URL: ${href.slice(0, 40)}`);
    return decodePng(new Uint8Array(Buffer.from(m[1], 'base64')));
  });
}

/** Distinct RGB colours of a decoded PNG, and the share of pixels that are not white. */
export function pngStats(p: DecodedPng): { colours: number; inked: number } {
  const seen = new Set<number>();
  let inked = 0;
  const c = p.channels,
    n = p.width * p.height;
  for (let i = 0; i < n; i++) {
    const r = p.data[i * c],
      g = p.data[i * c + (c >= 3 ? 1 : 0)],
      b = p.data[i * c + (c >= 3 ? 2 : 0)];
    seen.add((r << 16) | (g << 8) | b);
    if (r < 250 || g < 250 || b < 250) inked++;
  }
  return { colours: seen.size, inked: inked / n };
}

/** Whether the PNG has a pixel within `tol` of an sRGB colour given as '#rrggbb'. */
export function hasColour(p: DecodedPng, hex: string, tol = 8): boolean {
  const [R, G, B] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const c = p.channels;
  for (let i = 0; i < p.width * p.height; i++) {
    if (Math.abs(p.data[i * c] - R) <= tol && Math.abs(p.data[i * c + 1] - G) <= tol && Math.abs(p.data[i * c + 2] - B) <= tol) return true;
  }
  return false;
}
