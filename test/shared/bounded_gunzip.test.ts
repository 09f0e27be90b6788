/**
 * Bounded decompression: a gzip bomb (a tiny IDX header followed by far more zeros than the
 * header declares) is stopped at the declared size, in Node's zlib path (the CLI and the library)
 * and in the streaming path the page's data worker uses (DecompressionStream, here Node's own).
 * The large bomb expands to 8 GiB: read whole, it could not even be held in one buffer.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gunzipIfNeeded, readIdxFile } from '../../src/main/node/data_files.ts';
import { gunzipBounded } from '../../src/shared/formats/bounded_gunzip.ts';
import { encodeIdx, idxDeclaredBytes, parseIdx } from '../../src/shared/formats/idx.ts';

const idxSize = (name: string) => (prefix: Uint8Array) => idxDeclaredBytes(prefix, name);
const header = encodeIdx('ubyte', [2, 2, 2], new Uint8Array(8)).subarray(0, 16); // declares 16 + 8 bytes

/** gzip members concatenated decompress as one stream: the header, then `members` × 16 MiB of zeros. */
function bomb(members: number): Uint8Array {
  const zeros = gzipSync(Buffer.alloc(16 << 20), { level: 9 });
  return Buffer.concat([gzipSync(header), ...Array.from({ length: members }, () => zeros)]);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'aevb-bomb-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('idxDeclaredBytes', () => {
  it('reads the size from the header once it is all there', () => {
    const file = encodeIdx('int16', [3, 5], new Int16Array(15));
    expect(idxDeclaredBytes(file.subarray(0, 3), 'f')).toBeUndefined();
    expect(idxDeclaredBytes(file.subarray(0, 11), 'f')).toBeUndefined();
    expect(idxDeclaredBytes(file.subarray(0, 12), 'f')).toBe(12 + 30);
    expect(() => idxDeclaredBytes(new Uint8Array([1, 2, 8, 1, 0, 0, 0, 1]), 'f')).toThrow(/bad magic bytes/);
    expect(() => idxDeclaredBytes(new Uint8Array([0, 0, 0x0e, 2, 0, 1, 0, 0, 0, 1, 0, 0]), 'f')).toThrow(
      /declares dims \[65536, 65536\] of float64: 34359738380 bytes, more than the 2147483648 bytes \(2 GiB\)/,
    );
  });
});

describe('Node (zlib): gunzipIfNeeded', () => {
  it('decompresses an honest file exactly', () => {
    const file = encodeIdx(
      'ubyte',
      [20, 3],
      new Uint8Array(60).map((_, i) => i),
    );
    expect(Array.from(gunzipIfNeeded(gzipSync(file), 'ok.gz'))).toEqual(Array.from(file));
  });

  it('stops an 8 GiB gzip bomb at the 24 bytes its header declares', () => {
    const file = path.join(dir, 'bomb.idx.gz');
    writeFileSync(file, bomb(512));
    expect(() => readIdxFile(file)).toThrow(new RegExp(`${file} decompresses to more than the 24 bytes its header declares.*bomb`));
  });

  it('a file one byte longer than declared is refused the same way', () => {
    const file = encodeIdx('ubyte', [2, 2, 2], new Uint8Array(8));
    expect(() => gunzipIfNeeded(gzipSync(Buffer.concat([file, Buffer.from([0])])), 'long.gz')).toThrow(/more than the 24 bytes/);
    expect(() => gunzipIfNeeded(gzipSync(file).subarray(0, 20), 'cut.gz')).toThrow(/cut\.gz is (a corrupt gzip file|truncated)/);
  });
});

describe('streaming (the page): gunzipBounded', () => {
  it('decompresses an honest file exactly, chunk by chunk', async () => {
    const file = encodeIdx(
      'ubyte',
      [300, 784],
      new Uint8Array(300 * 784).map((_, i) => (i * 7) & 255),
    );
    const out = await gunzipBounded(gzipSync(file), 'ok.gz', idxSize('ok.gz'));
    expect(parseIdx(out, 'ok').dims).toEqual([300, 784]);
    expect(Buffer.from(out).equals(Buffer.from(file))).toBe(true);
  });

  it('stops a gzip bomb at the declared size and cancels the stream', async () => {
    const single = Buffer.concat([header, Buffer.alloc(64 << 20)]);
    await expect(gunzipBounded(gzipSync(single, { level: 9 }), 'bomb.gz', idxSize('bomb.gz'))).rejects.toThrow(
      /bomb\.gz decompresses to more than the 24 bytes its header declares/,
    );
  });

  it('names a corrupt stream and a header that is not IDX', async () => {
    const gz = gzipSync(encodeIdx('ubyte', [4, 4], new Uint8Array(16)));
    gz[gz.length - 6] ^= 0xff; // the CRC
    await expect(gunzipBounded(gz, 'crc.gz', idxSize('crc.gz'))).rejects.toThrow(/crc\.gz is a corrupt gzip file/);
    await expect(
      gunzipBounded(gzipSync(Buffer.from('PK\x03\x04 a zip archive, not an IDX file')), 'zip.gz', idxSize('zip.gz')),
    ).rejects.toThrow(/zip\.gz has bad magic bytes/);
  });
});
