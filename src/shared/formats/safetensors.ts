/**
 * The safetensors container (https://github.com/huggingface/safetensors, "Format"), read and
 * written by hand so that neither side needs the `safetensors` package:
 *
 *   [0, 8)          N: uint64 LE, the header's length in bytes
 *   [8, 8+N)        UTF-8 JSON object: { name: { dtype, shape, data_offsets: [begin, end] }, …,
 *                   "__metadata__": { string: string } }, padded with spaces
 *   [8+N, end)      the byte buffer: every tensor's values, little-endian, row-major; offsets are
 *                   relative to the buffer's start, and the tensors cover it with no hole or overlap
 *
 * This module knows the container only (no model names): decode checks everything the format
 * promises — sizes, dtypes, offsets, overlaps, holes, alignment, header bounds — and names the
 * tensor in one line when a check fails, so a damaged file never yields wrong numbers.
 * Pure TypeScript: the page, the CLI and the tests share it.
 */
import { checkpointError } from '../errors.ts';

/** The dtypes we read. We write F32 only; F64 (e.g. a `.double()` model) is rounded to float32 on read. */
const DTYPE_BYTES: Readonly<Record<string, number>> = Object.freeze({ F32: 4, F64: 8 });
/** Every dtype the format defines, so an unsupported one is told apart from garbage. */
const KNOWN_DTYPES = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'];
/** The reference implementation refuses headers over 100 MB; so do we (a corrupt length must not allocate gigabytes). */
export const MAX_HEADER_BYTES = 100_000_000;
/** Header plus its padding ends on a multiple of 8, as the reference writer does, so every tensor is aligned. */
const ALIGN = 8;

export interface NamedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  /** Row-major float32 values, prod(shape) of them. */
  readonly data: Float32Array;
}

export interface SafetensorsFile {
  /** In the file's buffer order. */
  readonly tensors: NamedTensor[];
  /** `__metadata__`, string → string (empty when absent). */
  readonly metadata: Record<string, string>;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Serialise float32 tensors (in the order given) and string metadata. */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.data.length !== count(t.shape)) {
      throw checkpointError(
        `Cannot write tensor ${t.name}: ${t.data.length} values for shape ${JSON.stringify(t.shape)}.`,
        'This is a bug in the caller.',
      );
    }
    if (t.name in header) throw checkpointError(`Cannot write tensor ${t.name} twice.`, 'This is a bug in the caller.');
    header[t.name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + 4 * t.data.length] };
    offset += 4 * t.data.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / ALIGN) * ALIGN - 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded); // spaces: still valid JSON
  let at = 8 + padded;
  for (const t of tensors) {
    if (LITTLE_ENDIAN_HOST) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    else {
      const dv = new DataView(out.buffer, at);
      t.data.forEach((v, i) => dv.setFloat32(4 * i, v, true));
    }
    at += t.data.byteLength;
  }
  return out;
}

/** Content sniffing: a header length within the format's bounds followed by '{' (a truncated file still counts, so decode can say so). */
export function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 9) return false;
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return n >= 2n && n <= BigInt(MAX_HEADER_BYTES) && bytes[8] === 0x7b;
}

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** One entry of the header, checked on its own: dtype, shape, offsets inside the buffer, size = shape × dtype. */
function checkEntry(name: string, raw: unknown, bufferBytes: number, fail: (p: string, f?: string) => never): Entry {
  const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof e !== 'object' || e === null || Array.isArray(e))
    fail(`lists tensor ${name} as ${JSON.stringify(raw)}, not {dtype, shape, data_offsets}`);
  const dtype = e.dtype;
  if (typeof dtype !== 'string' || !KNOWN_DTYPES.includes(dtype))
    fail(`gives tensor ${name} the dtype ${JSON.stringify(dtype)}, which safetensors does not define`);
  if (!(dtype in DTYPE_BYTES)) {
    fail(`holds tensor ${name} as ${dtype}; aevb reads F32 and F64 only`, 'Save the model in float32 (model.float()) and export again.');
  }
  const dims = e.shape;
  if (!Array.isArray(dims) || !dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`gives tensor ${name} the shape ${JSON.stringify(dims)}; a shape is a list of whole numbers ≥ 0`);
  }
  const offs = e.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    fail(`gives tensor ${name} the data_offsets ${JSON.stringify(offs)}; expected [begin, end], whole numbers ≥ 0`);
  }
  const [begin, end] = offs as number[];
  if (begin > end || end > bufferBytes) {
    fail(`places tensor ${name} at bytes [${begin}, ${end}) of a ${bufferBytes}-byte buffer${end > bufferBytes ? ' (truncated)' : ''}`);
  }
  const size = DTYPE_BYTES[dtype];
  const want = count(dims as number[]) * size;
  if (end - begin !== want) fail(`gives tensor ${name} ${end - begin} bytes; its shape ${JSON.stringify(dims)} of ${dtype} takes ${want}`);
  if (begin % size !== 0) fail(`places tensor ${name} at byte ${begin}, not a multiple of its ${size}-byte ${dtype} values`);
  return { name, dtype, shape: dims as number[], begin, end };
}

/** The tensors must tile the buffer: sorted by offset, each starts where the previous ended, the last ends at the buffer's end. */
function checkTiling(entries: Entry[], bufferBytes: number, fail: (p: string) => never): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin < at) fail(`has tensor ${e.name} at bytes [${e.begin}, ${e.end}) overlapping the tensor before it (which ends at ${at})`);
    if (e.begin > at) fail(`has a hole in its buffer: bytes [${at}, ${e.begin}) before tensor ${e.name} belong to no tensor`);
    at = e.end;
  }
  if (at !== bufferBytes) fail(`has ${bufferBytes - at} bytes after the last tensor that belong to no tensor`);
}

function readValues(bytes: Uint8Array, e: Entry): Float32Array {
  const n = count(e.shape);
  const out = new Float32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + e.begin, e.end - e.begin);
  if (e.dtype === 'F32') {
    if (LITTLE_ENDIAN_HOST) new Uint8Array(out.buffer).set(bytes.subarray(e.begin, e.end));
    else for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
  } else {
    for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true); // rounded to the nearest float32
  }
  return out;
}

/**
 * Parse and check a safetensors file; `source` (a path or a file name) starts every error.
 * Throws AevbError('CHECKPOINT') with one line naming the problem (and the tensor).
 */
export function decodeSafetensors(bytes: Uint8Array, source: string): SafetensorsFile {
  const fail = (problem: string, fix = 'The file is damaged or was not written as safetensors: export it again.'): never => {
    throw checkpointError(`${source} ${problem}.`, fix);
  };
  if (bytes.length < 8) fail(`is truncated: ${bytes.length} bytes, shorter than the 8-byte header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES))
    fail(`claims a ${n}-byte header, over the format's ${MAX_HEADER_BYTES}-byte limit: not a safetensors file, or a damaged one`);
  if (n > BigInt(bytes.length - 8)) fail(`is truncated: the header claims ${n} bytes but only ${bytes.length - 8} follow`);
  const headerBytes = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerBytes)));
  } catch (e) {
    return fail(`has a header that is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('has a header that is not a JSON object');
  const buffer = bytes.subarray(8 + headerBytes);
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('has a __metadata__ that is not an object of strings');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`has __metadata__ entry ${k} = ${JSON.stringify(v)}; metadata values are strings`);
        metadata[k] = v as string;
      }
      continue;
    }
    entries.push(checkEntry(name, raw, buffer.length, fail));
  }
  checkTiling(entries, buffer.length, fail);
  entries.sort((a, b) => a.begin - b.begin);
  return { tensors: entries.map((e) => ({ name: e.name, shape: e.shape, data: readValues(buffer, e) })), metadata };
}
