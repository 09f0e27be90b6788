/**
 * IDX parsing and encoding: round trips for every type, big-endian decoding checked against
 * bytes written by hand, and each malformed-file case giving an IDX error that names the file.
 */
import { describe, it, expect } from 'vitest';
import { encodeIdx, isGzip, parseIdx, type IdxType } from '../../src/shared/formats/idx.ts';
import { AevbError } from '../../src/shared/errors.ts';

const bytes = (...b: number[]) => new Uint8Array(b);

/** Runs f, expects an AevbError with code IDX, and returns it for message checks. */
function idxFailure(f: () => unknown): AevbError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AevbError);
    expect((e as AevbError).code).toBe('IDX');
    return e as AevbError;
  }
  throw new Error('expected an IDX error');
}

describe('encodeIdx / parseIdx round trip', () => {
  const cases: [IdxType, number[]][] = [
    ['ubyte', [0, 1, 127, 128, 255, 42]],
    ['sbyte', [-128, -1, 0, 1, 127, 5]],
    ['int16', [-32768, -1, 0, 1, 258, 32767]],
    ['int32', [-2147483648, -2, 0, 1, 16909060, 2147483647]],
    ['float32', [-1.5, 0, 0.25, 1, 2 ** 100, -7.125]],
    ['float64', [-1e300, Math.PI, 0, 1, 1e-300, -Math.E]],
  ];
  for (const [type, values] of cases) {
    it(`keeps type, dims and values for ${type}`, () => {
      const parsed = parseIdx(encodeIdx(type, [2, 3], values), 'x.idx');
      expect(parsed.type).toBe(type);
      expect(parsed.dims).toEqual([2, 3]);
      expect(Array.from(parsed.data)).toEqual(values);
    });
  }

  it('handles 1-D and 3-D arrays and empty ones', () => {
    expect(parseIdx(encodeIdx('ubyte', [4], [1, 2, 3, 4]), 'a').dims).toEqual([4]);
    const three = parseIdx(encodeIdx('ubyte', [2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7]), 'b');
    expect(three.dims).toEqual([2, 2, 2]);
    expect(three.data).toBeInstanceOf(Uint8Array);
    expect(parseIdx(encodeIdx('float32', [0, 28, 28], []), 'c').data.length).toBe(0);
  });

  it('parses from a view at a nonzero offset inside a larger buffer', () => {
    const file = encodeIdx('int16', [2], [-2, 513]);
    const big = new Uint8Array(file.length + 3);
    big.set(file, 3);
    expect(Array.from(parseIdx(big.subarray(3), 'v').data)).toEqual([-2, 513]);
  });

  it('rejects data whose length does not match the dims', () => {
    expect(idxFailure(() => encodeIdx('ubyte', [2, 2], [1, 2, 3])).message).toMatch(/describe 4 values but the data has 3/);
  });
});

describe('big-endian decoding against hand-written bytes', () => {
  it('writes the header the MNIST way', () => {
    expect(Array.from(encodeIdx('ubyte', [2, 1], [7, 9]))).toEqual([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 1, 7, 9]);
  });
  it('reads ubyte dims as big-endian uint32', () => {
    const p = parseIdx(bytes(0, 0, 0x08, 1, 0, 0, 1, 0, ...new Array(256).fill(3)), 'f');
    expect(p.dims).toEqual([256]);
  });
  it('reads sbyte', () => {
    expect(Array.from(parseIdx(bytes(0, 0, 0x09, 1, 0, 0, 0, 2, 0xff, 0x80), 'f').data)).toEqual([-1, -128]);
  });
  it('reads int16', () => {
    expect(Array.from(parseIdx(bytes(0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe), 'f').data)).toEqual([258, -2]);
  });
  it('reads int32', () => {
    const p = parseIdx(bytes(0, 0, 0x0c, 1, 0, 0, 0, 2, 0x01, 0x02, 0x03, 0x04, 0xff, 0xff, 0xff, 0xfe), 'f');
    expect(Array.from(p.data)).toEqual([16909060, -2]);
  });
  it('reads float32', () => {
    const p = parseIdx(bytes(0, 0, 0x0d, 1, 0, 0, 0, 2, 0x3f, 0x80, 0, 0, 0xc0, 0x20, 0, 0), 'f');
    expect(p.data).toBeInstanceOf(Float32Array);
    expect(Array.from(p.data)).toEqual([1, -2.5]);
  });
  it('reads float64', () => {
    const p = parseIdx(bytes(0, 0, 0x0e, 1, 0, 0, 0, 1, 0xc0, 0, 0, 0, 0, 0, 0, 0), 'f');
    expect(p.data).toBeInstanceOf(Float64Array);
    expect(Array.from(p.data)).toEqual([-2]);
  });
  it('encodes float32 big-endian', () => {
    expect(Array.from(encodeIdx('float32', [1], [1]).subarray(8))).toEqual([0x3f, 0x80, 0, 0]);
  });
});

describe('malformed files', () => {
  it('truncated data names the file and both byte counts', () => {
    const file = encodeIdx('ubyte', [10, 4], new Array(40).fill(1)).subarray(0, 30);
    const e = idxFailure(() => parseIdx(file, 'train-images-idx3-ubyte'));
    expect(e.message).toMatch(/train-images-idx3-ubyte is truncated: header says 40 data bytes but the file has 18/);
    expect(e.fix).toMatch(/Download the file again/);
  });
  it('truncated header', () => {
    expect(idxFailure(() => parseIdx(bytes(0, 0, 0x08, 3, 0, 0, 0, 1), 'h')).message).toMatch(
      /h is truncated: its header declares 3 dimensions \(16 header bytes\) but the file has 8 bytes/,
    );
  });
  it('a file shorter than the fixed header', () => {
    expect(idxFailure(() => parseIdx(bytes(0, 0), 'tiny')).message).toMatch(/tiny is truncated/);
  });
  it('bad magic bytes', () => {
    const e = idxFailure(() => parseIdx(bytes(0x12, 0x34, 0x08, 1, 0, 0, 0, 0), 'photo.png'));
    expect(e.message).toMatch(/photo\.png has bad magic bytes 12 34: not an IDX file/);
  });
  it('unknown type byte', () => {
    expect(idxFailure(() => parseIdx(bytes(0, 0, 0x07, 1, 0, 0, 0, 0), 'f')).message).toMatch(/unknown type byte 0x07/);
  });
  it('zero dimensions', () => {
    expect(idxFailure(() => parseIdx(bytes(0, 0, 0x08, 0), 'f')).message).toMatch(/declares 0 dimensions/);
  });
  it('dims whose product overflows', () => {
    const ff = [0xff, 0xff, 0xff, 0xff];
    const e = idxFailure(() => parseIdx(bytes(0, 0, 0x08, 3, ...ff, ...ff, ...ff), 'huge'));
    expect(e.message).toMatch(/huge has dims \[4294967295, 4294967295, 4294967295\] whose product overflows/);
  });
  it('dims that describe fewer bytes than the file holds', () => {
    const file = new Uint8Array([...encodeIdx('int16', [2], [1, 2]), 9, 9]);
    expect(idxFailure(() => parseIdx(file, 'long')).message).toMatch(
      /long has a size mismatch: header says 4 data bytes but the file has 6, 2 more/,
    );
  });
  it('a file that is still gzip-compressed', () => {
    const e = idxFailure(() => parseIdx(bytes(0x1f, 0x8b, 8, 0, 0, 0, 0, 0), 't10k-images-idx3-ubyte.gz'));
    expect(e.message).toMatch(/t10k-images-idx3-ubyte\.gz is still gzip-compressed/);
    expect(e.fix).toMatch(/gunzip/);
  });
});

describe('isGzip', () => {
  it('recognises the gzip magic number only', () => {
    expect(isGzip(bytes(0x1f, 0x8b, 8))).toBe(true);
    expect(isGzip(bytes(0x1f))).toBe(false);
    expect(isGzip(encodeIdx('ubyte', [1], [0]))).toBe(false);
  });
});
