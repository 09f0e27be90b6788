/**
 * Node data loading against real files: the embedded MNIST digits from the installed `mnist`
 * package (checked row by row against its raw JSON), and IDX files written to a temp folder,
 * plain and gzipped.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadEmbeddedMnist, loadIdxDataset, splitDataset } from '../../src/main/node/data_files.ts';
import type { DataSplit, Dataset } from '../../src/shared/data/dataset.ts';
import { AevbError } from '../../src/shared/errors.ts';
import { encodeIdx } from '../../src/shared/formats/idx.ts';

function failure(code: string, f: () => unknown): AevbError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AevbError);
    expect((e as AevbError).code).toBe(code);
    return e as AevbError;
  }
  throw new Error(`expected a ${code} error`);
}

const row = (ds: Dataset, i: number) => Array.from(ds.x.subarray(i * ds.d, (i + 1) * ds.d));

describe('loadEmbeddedMnist', () => {
  let split: DataSplit;
  let raw: number[][];
  /** Global sample g → [file k, index within file]. */
  let locate: (g: number) => [number, number];

  beforeAll(() => {
    split = loadEmbeddedMnist();
    const dir = path.join(path.dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
    raw = Array.from({ length: 10 }, (_, k) => JSON.parse(readFileSync(path.join(dir, `${k}.json`), 'utf8')).data);
    const starts: number[] = [];
    let s = 0;
    for (const f of raw) {
      starts.push(s);
      s += f.length / 784;
    }
    locate = (g) => {
      let k = 9;
      while (starts[k] > g) k--;
      return [k, g - starts[k]];
    };
  });

  const rawRow = (g: number) => {
    const [k, i] = locate(g);
    return raw[k].slice(i * 784, (i + 1) * 784).map(Math.fround);
  };

  it('has 9,000 train and 1,000 test digits of 784 values with names and image shape', () => {
    expect([split.train.n, split.test.n, split.train.d, split.test.d]).toEqual([9000, 1000, 784, 784]);
    expect(split.train.x.length).toBe(9000 * 784);
    expect(split.train.name).toBe('mnist (embedded) train');
    expect(split.test.name).toBe('mnist (embedded) test');
    expect(split.train.imageShape).toEqual([28, 28]);
    expect(split.test.labels!.length).toBe(1000);
  });

  it('holds values in [0, 1] and is not constant', () => {
    for (const ds of [split.train, split.test]) {
      let min = Infinity;
      let max = -Infinity;
      for (const v of ds.x) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      expect(min).toBe(0);
      expect(max).toBe(1);
    }
  });

  it('puts exactly the samples with g % 10 == 9 in the test set, in order', () => {
    // Test row t is global sample 10t + 9; train row r is the r-th sample whose g % 10 != 9.
    for (const t of [0, 100, 101, 500, 999]) expect(row(split.test, t)).toEqual(rawRow(10 * t + 9));
    for (const [r, g] of [
      [0, 0],
      [8, 8],
      [9, 10],
      [900, 1000],
      [8999, 9998],
    ])
      expect(row(split.train, r)).toEqual(rawRow(g));
  });

  it('labels each sample with its file index', () => {
    expect(split.test.labels![0]).toBe(0);
    expect(split.test.labels![999]).toBe(9);
    for (let t = 0; t < 1000; t++) expect(split.test.labels![t]).toBe(locate(10 * t + 9)[0]);
    const counts = new Array(10).fill(0);
    for (const l of [...split.train.labels!, ...split.test.labels!]) counts[l]++;
    expect(counts).toEqual(raw.map((f) => f.length / 784));
  });

  it('returns fresh arrays on every call (nothing cached)', () => {
    // Compared by identity: toBe on two 7M-value arrays would spend a minute building a diff.
    const again = loadEmbeddedMnist();
    expect(again.train.x === split.train.x).toBe(false);
    expect(again.train.x.subarray(0, 784)).toEqual(split.train.x.subarray(0, 784));
  });
});

describe('loadIdxDataset', () => {
  let dir: string;
  const at = (name: string) => path.join(dir, name);
  const pixels = Array.from({ length: 5 * 2 * 3 }, (_, i) => (i * 37) % 256);
  const labels = [3, 1, 4, 1, 5];

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'aevb-data-'));
    const images = encodeIdx('ubyte', [5, 2, 3], pixels);
    writeFileSync(at('images.idx'), images);
    writeFileSync(at('images.idx.gz'), gzipSync(images));
    writeFileSync(at('labels.idx'), encodeIdx('ubyte', [5], labels));
    writeFileSync(at('labels.idx.gz'), gzipSync(encodeIdx('ubyte', [5], labels)));
    writeFileSync(at('labels4.idx'), encodeIdx('ubyte', [4], labels.slice(0, 4)));
    const corrupt = gzipSync(images);
    writeFileSync(at('corrupt.gz'), corrupt.subarray(0, corrupt.length - 12));
    writeFileSync(at('floats.idx'), encodeIdx('float32', [2, 2], [0.5, 2, -1, 0]));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a plain IDX file with labels, scaled to [0, 1]', () => {
    const ds = loadIdxDataset(at('images.idx'), at('labels.idx'), 'bernoulli');
    expect([ds.name, ds.n, ds.d, ds.imageShape]).toEqual(['images.idx', 5, 6, [2, 3]]);
    expect(Array.from(ds.x)).toEqual(pixels.map((p) => Math.fround(p / 255)));
    expect(Array.from(ds.labels!)).toEqual(labels);
  });

  it('loads a gzipped IDX file identical to the plain one', () => {
    const plain = loadIdxDataset(at('images.idx'), at('labels.idx'), 'bernoulli');
    const gz = loadIdxDataset(at('images.idx.gz'), at('labels.idx.gz'), 'bernoulli');
    expect(gz.x).toEqual(plain.x);
    expect(gz.labels).toEqual(plain.labels);
    expect([gz.n, gz.d, gz.imageShape]).toEqual([plain.n, plain.d, plain.imageShape]);
  });

  it('gives a clear IDX error naming a corrupt gzip file', () => {
    const e = failure('IDX', () => loadIdxDataset(at('corrupt.gz'), undefined, 'bernoulli'));
    expect(e.message).toContain(`${at('corrupt.gz')} is a corrupt gzip file`);
    expect(e.fix).toMatch(/Download the file again/);
  });

  it('names both counts when the labels do not match the images', () => {
    const e = failure('DATA', () => loadIdxDataset(at('images.idx'), at('labels4.idx'), 'bernoulli'));
    expect(e.message).toMatch(/has 4 labels but the images file has 5 images/);
  });

  it('validates values against the decoder and the model width', () => {
    expect(failure('DATA', () => loadIdxDataset(at('floats.idx'), undefined, 'bernoulli')).message).toMatch(
      /datapoint 0, pixel 1 is 2, outside \[0, 1\]/,
    );
    expect(loadIdxDataset(at('floats.idx'), undefined, 'gaussian').n).toBe(2);
    expect(failure('DATA', () => loadIdxDataset(at('images.idx'), undefined, 'bernoulli', { expectedD: 784 })).message).toMatch(
      /has 6 values per datapoint but the model was built for 784/,
    );
  });

  it('names a missing file', () => {
    expect(failure('FILE', () => loadIdxDataset(at('nope.idx'), undefined, 'bernoulli')).message).toMatch(
      /Cannot read .*nope\.idx: it does not exist \(ENOENT\)\. Pass --data the path of an existing file/,
    );
  });

  it('refuses what is not a regular file before reading a byte (/dev/zero, a directory, a named pipe)', () => {
    // /dev/zero used to be read "to the end": 3 GB in 5 s.
    expect(failure('FILE', () => loadIdxDataset('/dev/zero', undefined, 'bernoulli')).message).toMatch(
      /\/dev\/zero is a character device, not a file aevb can read\. Pass --data a regular file/,
    );
    expect(failure('FILE', () => loadIdxDataset(dir, undefined, 'bernoulli')).message).toMatch(/is a directory, not a file aevb can read/);
    const fifo = path.join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    try {
      // Opened non-blocking: with no writer, neither the open nor the read can hang.
      expect(failure('FILE', () => loadIdxDataset(fifo, undefined, 'bernoulli')).message).toMatch(/is a named pipe/);
    } finally {
      rmSync(fifo);
    }
  });
});

describe('splitDataset', () => {
  const ds: Dataset = {
    name: 'mine',
    n: 25,
    d: 2,
    x: Float32Array.from({ length: 50 }, (_, i) => i),
    labels: Uint8Array.from({ length: 25 }, (_, i) => i),
    imageShape: [1, 2],
  };

  it('holds out every k-th sample (g % k == k - 1), keeping order', () => {
    const { train, test } = splitDataset(ds, 0.2);
    expect(Array.from(test.labels!)).toEqual([4, 9, 14, 19, 24]);
    expect(train.n).toBe(20);
    expect(Array.from(train.labels!.subarray(0, 5))).toEqual([0, 1, 2, 3, 5]);
    expect(row(test, 1)).toEqual([18, 19]);
    expect([train.name, test.name, test.imageShape]).toEqual(['mine train', 'mine test', [1, 2]]);
  });

  it('matches the MNIST rule at 0.1', () => {
    expect(Array.from(splitDataset(ds, 0.1).test.labels!)).toEqual([9, 19]);
  });

  it('rejects a fraction out of range or one that leaves no test set', () => {
    expect(failure('DATA', () => splitDataset(ds, 0)).message).toMatch(/Test fraction 0 is out of range/);
    expect(failure('DATA', () => splitDataset(ds, 0.7)).message).toMatch(/out of range/);
    expect(failure('DATA', () => splitDataset(ds, 0.01)).message).toMatch(/leaves no test set/);
  });
});
