/**
 * IDX files, the MNIST family's format: parse and encode, pure (no I/O), so the page, the CLI
 * and the tests share one reader. Layout: 2 zero bytes, a type byte, a byte with the number of
 * dimensions, one big-endian uint32 size per dimension, then the values in big-endian, row-major.
 * Every failure is an idxError that names the file, what is wrong and what to do about it.
 */
import { idxError } from '../errors.ts';

export type IdxType = 'ubyte' | 'sbyte' | 'int16' | 'int32' | 'float32' | 'float64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  readonly type: IdxType;
  /** Sizes of each dimension, outermost first (e.g. [60000, 28, 28]). */
  readonly dims: number[];
  /** The values in row-major order, in the file's own type, already converted from big-endian. */
  readonly data: IdxData;
}

interface TypeInfo {
  readonly code: number;
  readonly bytes: number;
}

const TYPES: Readonly<Record<IdxType, TypeInfo>> = Object.freeze({
  ubyte: { code: 0x08, bytes: 1 },
  sbyte: { code: 0x09, bytes: 1 },
  int16: { code: 0x0b, bytes: 2 },
  int32: { code: 0x0c, bytes: 4 },
  float32: { code: 0x0d, bytes: 4 },
  float64: { code: 0x0e, bytes: 8 },
});

const HEADER_FIXED = 4;
const REDOWNLOAD = 'Download the file again (it may have been cut short or altered), or check that you picked the right file.';

const hex = (b: number) => b.toString(16).padStart(2, '0');

function typeFromCode(code: number): IdxType | undefined {
  return (Object.keys(TYPES) as IdxType[]).find((t) => TYPES[t].code === code);
}

/** True when the bytes start with the gzip magic number 1f 8b (the .gz files MNIST is shipped as). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function checkMagic(bytes: Uint8Array, file: string): void {
  if (isGzip(bytes)) {
    throw idxError(
      `${file} is still gzip-compressed.`,
      'Decompress it first (gunzip the file), or load it from Node, which decompresses .gz files itself.',
    );
  }
  if (bytes.length < HEADER_FIXED) {
    throw idxError(`${file} is truncated: it has ${bytes.length} bytes, fewer than the 4-byte IDX header.`, REDOWNLOAD);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw idxError(
      `${file} has bad magic bytes ${hex(bytes[0])} ${hex(bytes[1])}: not an IDX file (it must start with 00 00).`,
      "Pick an IDX file such as train-images-idx3-ubyte (the MNIST family's format).",
    );
  }
}

function readType(bytes: Uint8Array, file: string): IdxType {
  const type = typeFromCode(bytes[2]);
  if (type === undefined) {
    throw idxError(
      `${file} has unknown type byte 0x${hex(bytes[2])}; IDX knows 0x08 ubyte, 0x09 sbyte, 0x0b int16, 0x0c int32, 0x0d float32, 0x0e float64.`,
      REDOWNLOAD,
    );
  }
  return type;
}

function readDims(bytes: Uint8Array, file: string): number[] {
  const ndims = bytes[3];
  const headerBytes = HEADER_FIXED + 4 * ndims;
  if (ndims === 0) {
    throw idxError(`${file} declares 0 dimensions; an IDX array needs at least one.`, REDOWNLOAD);
  }
  if (bytes.length < headerBytes) {
    throw idxError(
      `${file} is truncated: its header declares ${ndims} dimensions (${headerBytes} header bytes) but the file has ${bytes.length} bytes.`,
      REDOWNLOAD,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, headerBytes);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(HEADER_FIXED + 4 * i, false));
  return dims;
}

/** Number of values the dims describe; refuses a product too large to count exactly. */
function countValues(dims: readonly number[], file: string): number {
  let count = 1;
  for (const size of dims) {
    count *= size;
    if (count > Number.MAX_SAFE_INTEGER) {
      throw idxError(
        `${file} has dims [${dims.join(', ')}] whose product overflows: more than 2^53 values, far beyond any real file.`,
        REDOWNLOAD,
      );
    }
  }
  return count;
}

function checkLength(bytes: Uint8Array, headerBytes: number, dataBytes: number, file: string): void {
  const have = bytes.length - headerBytes;
  if (have < dataBytes) {
    throw idxError(
      `${file} is truncated: header says ${dataBytes} data bytes but the file has ${have} (${bytes.length} bytes in all).`,
      REDOWNLOAD,
    );
  }
  if (have > dataBytes) {
    throw idxError(
      `${file} has a size mismatch: header says ${dataBytes} data bytes but the file has ${have}, ${have - dataBytes} more.`,
      `Check that the file was not concatenated with another or written with the wrong dims; ${REDOWNLOAD}`,
    );
  }
}

/**
 * Copies the values out of the file, converting from big-endian (a DataView reads either order).
 * Copies through the Uint8Array constructor, not slice(): on a Node Buffer slice() is a view.
 */
function readData(bytes: Uint8Array, offset: number, count: number, type: IdxType): IdxData {
  if (type === 'ubyte') return new Uint8Array(bytes.subarray(offset, offset + count));
  if (type === 'sbyte') return new Int8Array(new Uint8Array(bytes.subarray(offset, offset + count)).buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * TYPES[type].bytes);
  // One loop per type keeps each loop monomorphic: a shared per-element callback ran 3× slower.
  switch (type) {
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, false);
      return out;
    }
  }
}

/** The largest IDX file aevb reads: 2 GiB, past any real dataset (all of MNIST's training images are 47 MB). */
export const MAX_IDX_BYTES = 2 ** 31;

/**
 * The size in bytes of the whole IDX file (header + data) whose first bytes are `prefix`, as its
 * header declares it; undefined while the prefix is too short to hold the header (at most 1,024
 * bytes). Decompression uses it as its bound: a .gz whose content runs past it is damaged or a
 * decompression bomb, and is stopped there instead of filling memory.
 */
export function idxDeclaredBytes(prefix: Uint8Array, fileName: string): number | undefined {
  if (prefix.length < HEADER_FIXED || prefix.length < HEADER_FIXED + 4 * prefix[3]) return undefined;
  checkMagic(prefix, fileName);
  const type = readType(prefix, fileName);
  const dims = readDims(prefix, fileName);
  const total = HEADER_FIXED + 4 * dims.length + countValues(dims, fileName) * TYPES[type].bytes;
  if (total > MAX_IDX_BYTES) {
    throw idxError(
      `${fileName} declares dims [${dims.join(', ')}] of ${type}: ${total} bytes, more than the ${MAX_IDX_BYTES} bytes (2 GiB) aevb reads.`,
      'Split the data into smaller files, or check that you picked the right file.',
    );
  }
  return total;
}

/** Parses a whole (already decompressed) IDX file. `fileName` is only used in error messages. */
export function parseIdx(bytes: Uint8Array, fileName: string): IdxArray {
  checkMagic(bytes, fileName);
  const type = readType(bytes, fileName);
  const dims = readDims(bytes, fileName);
  const count = countValues(dims, fileName);
  const headerBytes = HEADER_FIXED + 4 * dims.length;
  checkLength(bytes, headerBytes, count * TYPES[type].bytes, fileName);
  return { type, dims, data: readData(bytes, headerBytes, count, type) };
}

function checkEncodable(dims: readonly number[], length: number): void {
  if (dims.length < 1 || dims.length > 255) {
    throw idxError(`Cannot encode IDX with ${dims.length} dimensions; IDX allows 1 to 255.`, 'Pass between 1 and 255 dims.');
  }
  const bad = dims.find((s) => !Number.isInteger(s) || s < 0 || s > 0xffffffff);
  if (bad !== undefined) {
    throw idxError(`Cannot encode IDX dim ${bad}; each size must be a whole number from 0 to 2^32 - 1.`, 'Fix the dims.');
  }
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== length) {
    throw idxError(
      `Cannot encode IDX: dims [${dims.join(', ')}] describe ${count} values but the data has ${length}.`,
      'Pass dims whose product is the data length.',
    );
  }
}

/**
 * Writes an IDX file (no compression). Values are converted the way the matching typed array
 * would convert them (e.g. 256 wraps to 0 in ubyte), so pass values that fit the type.
 */
export function encodeIdx(type: IdxType, dims: readonly number[], data: ArrayLike<number>): Uint8Array {
  checkEncodable(dims, data.length);
  const { code, bytes: size } = TYPES[type];
  const headerBytes = HEADER_FIXED + 4 * dims.length;
  const out = new Uint8Array(headerBytes + data.length * size);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = dims.length;
  dims.forEach((s, i) => view.setUint32(HEADER_FIXED + 4 * i, s, false));
  const put = WRITERS[type];
  for (let i = 0; i < data.length; i++) put(view, headerBytes + i * size, data[i]);
  return out;
}

const WRITERS: Readonly<Record<IdxType, (v: DataView, at: number, x: number) => void>> = Object.freeze({
  ubyte: (v, at, x) => v.setUint8(at, x),
  sbyte: (v, at, x) => v.setInt8(at, x),
  int16: (v, at, x) => v.setInt16(at, x, false),
  int32: (v, at, x) => v.setInt32(at, x, false),
  float32: (v, at, x) => v.setFloat32(at, x, false),
  float64: (v, at, x) => v.setFloat64(at, x, false),
});
