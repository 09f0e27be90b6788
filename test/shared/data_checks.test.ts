/**
 * From IDX arrays to a checked Dataset: shapes and scaling of images, label checks, and the
 * validator's errors naming the datapoint, the pixel and the fix.
 */
import { describe, it, expect } from 'vitest';
import { imagesFromIdx, labelsFromIdx, validateDataset } from '../../src/shared/data/data_checks.ts';
import type { Dataset } from '../../src/shared/data/dataset.ts';
import { AevbError } from '../../src/shared/errors.ts';
import { encodeIdx, parseIdx } from '../../src/shared/formats/idx.ts';

const idx = (type: Parameters<typeof encodeIdx>[0], dims: number[], data: number[]) => parseIdx(encodeIdx(type, dims, data), 'fixture');

function dataFailure(f: () => unknown): AevbError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AevbError);
    expect((e as AevbError).code).toBe('DATA');
    return e as AevbError;
  }
  throw new Error('expected a DATA error');
}

function dataset(values: number[], d: number, extra: Partial<Dataset> = {}): Dataset {
  return { name: 'toy', n: values.length / d, d, x: Float32Array.from(values), ...extra };
}

describe('imagesFromIdx', () => {
  it('flattens [N, rows, cols] and scales ubyte by 1/255', () => {
    const im = imagesFromIdx(idx('ubyte', [2, 2, 3], [0, 51, 102, 153, 204, 255, 255, 0, 0, 0, 0, 1]), 'f');
    expect([im.n, im.d]).toEqual([2, 6]);
    expect(im.imageShape).toEqual([2, 3]);
    expect(im.x).toBeInstanceOf(Float32Array);
    expect(Array.from(im.x.subarray(0, 6))).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1].map(Math.fround));
    expect(im.x[11]).toBeCloseTo(1 / 255, 7);
  });
  it('accepts [N, D] floats as is, without an image shape', () => {
    const im = imagesFromIdx(idx('float32', [3, 2], [-1, 2.5, 0, 0.5, 1000, 3]), 'f');
    expect([im.n, im.d, im.imageShape]).toEqual([3, 2, undefined]);
    expect(Array.from(im.x)).toEqual([-1, 2.5, 0, 0.5, 1000, 3]);
  });
  it('converts float64 to float32', () => {
    expect(imagesFromIdx(idx('float64', [1, 2], [0.5, 0.25]), 'f').x).toEqual(Float32Array.from([0.5, 0.25]));
  });
  it('rejects a 1-D file and suggests it is a labels file', () => {
    const e = dataFailure(() => imagesFromIdx(idx('ubyte', [3], [1, 2, 3]), 'train-labels'));
    expect(e.message).toMatch(/train-labels holds a 1-D array \[3\]; images must be \[N, rows, cols\] or \[N, D\]/);
    expect(e.fix).toMatch(/labels file/);
  });
  it('rejects a 4-D file', () => {
    expect(dataFailure(() => imagesFromIdx(idx('ubyte', [1, 1, 1, 2], [1, 2]), 'f')).message).toMatch(/4-D array/);
  });
  it('rejects zero values per datapoint', () => {
    expect(dataFailure(() => imagesFromIdx(idx('ubyte', [3, 0], []), 'f')).message).toMatch(/0 values/);
  });
});

describe('labelsFromIdx', () => {
  it('returns the ubyte labels', () => {
    expect(Array.from(labelsFromIdx(idx('ubyte', [3], [7, 0, 9]), 3, 'l'))).toEqual([7, 0, 9]);
  });
  it('names both counts when they differ', () => {
    const e = dataFailure(() => labelsFromIdx(idx('ubyte', [3], [7, 0, 9]), 4, 'train-labels'));
    expect(e.message).toMatch(/train-labels has 3 labels but the images file has 4 images/);
  });
  it('rejects a 2-D labels file', () => {
    expect(dataFailure(() => labelsFromIdx(idx('ubyte', [1, 2], [1, 2]), 1, 'l')).message).toMatch(/a labels file is 1-D/);
  });
  it('rejects labels that are not ubyte', () => {
    expect(dataFailure(() => labelsFromIdx(idx('int32', [2], [1, 2]), 2, 'l')).message).toMatch(/labels must be unsigned bytes/);
  });
});

describe('validateDataset', () => {
  it('accepts clean data for both decoders', () => {
    const ds = dataset([0, 0.5, 1, 0.25], 2);
    expect(() => validateDataset(ds, { decoder: 'bernoulli' })).not.toThrow();
    expect(() => validateDataset(ds, { decoder: 'gaussian', expectedD: 2 })).not.toThrow();
  });
  it('names the datapoint and pixel of a NaN', () => {
    const values = new Array(12).fill(0.5);
    values[7] = NaN;
    for (const decoder of ['bernoulli', 'gaussian'] as const) {
      const e = dataFailure(() => validateDataset(dataset(values, 4), { decoder }));
      expect(e.message).toMatch(/toy: datapoint 1, pixel 3 is NaN/);
    }
  });
  it('gives row and column for images', () => {
    const values = new Array(8).fill(0);
    values[4 + 3] = Infinity;
    const e = dataFailure(() => validateDataset(dataset(values, 4, { imageShape: [2, 2] }), { decoder: 'gaussian' }));
    expect(e.message).toMatch(/datapoint 1, pixel 3 \(row 1, col 1\) is Infinity/);
  });
  it('rejects values outside [0, 1] for bernoulli and accepts them for gaussian', () => {
    const ds = dataset([0, 1, 0.5, 255, -3, 0], 3);
    const e = dataFailure(() => validateDataset(ds, { decoder: 'bernoulli' }));
    expect(e.message).toMatch(/toy: datapoint 1, pixel 0 is 255, outside \[0, 1\]/);
    expect(e.fix).toMatch(/Rescale the data to \[0, 1\].*the gaussian decoder/);
    expect(e.remedy).toEqual({ id: 'gaussian-for-data', fields: ['decoder'] });
    expect(() => validateDataset(ds, { decoder: 'gaussian' })).not.toThrow();
  });
  it('refuses a value beyond ±1e6 under gaussian (a 3e38 pixel ran to a non-finite ELBO and exited 0)', () => {
    const e = dataFailure(() => validateDataset(dataset([0.5, 3e38, 0, 0], 2), { decoder: 'gaussian' }));
    expect(e.message).toMatch(/datapoint 0, pixel 1 is 3\.\d+e\+38, beyond ±1e\+6: a Gaussian decoder's \(x − μ\)²\/σ² overflows float32/);
    expect(e.fix).toMatch(/Standardise the data/);
    expect(() => validateDataset(dataset([-1e6, 1e6], 2), { decoder: 'gaussian' })).not.toThrow();
  });
  it('reports -Infinity under gaussian as non-finite', () => {
    expect(dataFailure(() => validateDataset(dataset([2, -Infinity], 2), { decoder: 'gaussian' })).message).toMatch(
      /datapoint 0, pixel 1 is -Infinity/,
    );
  });
  it('rejects N = 0', () => {
    expect(dataFailure(() => validateDataset(dataset([], 784), { decoder: 'bernoulli' })).message).toMatch(/no datapoints \(N = 0\)/);
  });
  it('names both widths when the model was built for another D', () => {
    const e = dataFailure(() => validateDataset(dataset(new Array(2048).fill(0), 1024), { decoder: 'bernoulli', expectedD: 784 }));
    expect(e.message).toMatch(/toy has 1024 values per datapoint but the model was built for 784/);
    expect(e.fix).toMatch(/Use data of the model's size \(784 values per datapoint\), or start a new model/);
  });
  it('rejects x whose length is not N × D and a labels count that differs', () => {
    expect(
      dataFailure(() => validateDataset({ name: 'bad', n: 2, d: 3, x: new Float32Array(5) }, { decoder: 'gaussian' })).message,
    ).toMatch(/not N × D = 2 × 3/);
    const labelled = dataset([0, 1], 1, { labels: new Uint8Array(3) });
    expect(dataFailure(() => validateDataset(labelled, { decoder: 'bernoulli' })).message).toMatch(/3 labels for 2 datapoints/);
  });
});
