/**
 * The counter-based generator (rng.ts) and the noise it feeds into a shard (minibatch.ts).
 * Pure JS: no TF.js backend needed.
 */
import { describe, it, expect } from 'vitest';
import { CounterRng, Stream, epochPermutation, philox4x32, toUnit } from '../../src/shared/training/rng.ts';
import { buildShard } from '../../src/shared/training/minibatch.ts';
import type { Dataset } from '../../src/shared/data/dataset.ts';

const hex = (a: Uint32Array) => Array.from(a, (v) => v.toString(16).padStart(8, '0')).join(' ');

describe('philox4x32-10 known-answer vectors (Random123 kat_vectors)', () => {
  // Exact integer arithmetic: any deviation in any bit is a bug, so the comparison is exact.
  // philox4x32(k0, k1, c0, c1, c2, c3, out)
  const out = new Uint32Array(4);
  it('key 0, counter 0', () => {
    philox4x32(0, 0, 0, 0, 0, 0, out);
    expect(hex(out)).toBe('6627e8d5 e169c58d bc57ac4c 9b00dbd8');
  });
  it('key and counter all ones', () => {
    const f = 0xffffffff;
    philox4x32(f, f, f, f, f, f, out);
    expect(hex(out)).toBe('408f276d 41c83b0e a20bc7c6 6d5451fd');
  });
  it('pi digits', () => {
    philox4x32(0xa4093822, 0x299f31d0, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, out);
    expect(hex(out)).toBe('d16cfe09 94fdcceb 5001e420 24126ea1');
  });
  it('accepts negative int32 spellings of the same bits', () => {
    philox4x32(-1, -1, -1, -1, -1, -1, out);
    expect(hex(out)).toBe('408f276d 41c83b0e a20bc7c6 6d5451fd');
  });
});

describe('uniforms and normals', () => {
  it('toUnit maps uint32 into the open interval (0, 1)', () => {
    expect(toUnit(0)).toBeGreaterThan(0);
    expect(toUnit(0xffffffff)).toBeLessThan(1);
    expect(Math.log(toUnit(0))).toBeGreaterThan(-Infinity);
  });

  it('200k normals have mean 0, variance 1, kurtosis 3 within 4 standard errors', () => {
    const n = 200_000;
    const x = new Float32Array(n);
    new CounterRng(12345, Stream.EPSILON).normals(7, 3, 0, x, 0, n);
    let s1 = 0;
    for (let i = 0; i < n; i++) s1 += x[i];
    const mean = s1 / n;
    let m2 = 0,
      m4 = 0;
    for (let i = 0; i < n; i++) {
      const d = x[i] - mean;
      m2 += d * d;
      m4 += d * d * d * d;
    }
    m2 /= n;
    m4 /= n;
    const kurt = m4 / (m2 * m2);
    // Standard errors for N(0, 1): mean 1/√n; sample variance √(2/n); kurtosis √(24/n).
    // 4 SE: a correct generator fails with probability ~1e-4 per check (and the seed is fixed).
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(m2 - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    expect(Math.abs(kurt - 3)).toBeLessThan(4 * Math.sqrt(24 / n));
    // A biased Box–Muller (e.g. sin twice) would pass the moments above but correlate pairs.
    let c = 0;
    for (let i = 0; i + 1 < n; i += 2) c += x[i] * x[i + 1];
    expect(Math.abs(c / (n / 2))).toBeLessThan(4 / Math.sqrt(n / 2));
  });

  it('200k uniforms have mean ½ and variance 1/12 within 4 standard errors', () => {
    const n = 200_000;
    const u = new Float64Array(n);
    new CounterRng(99, Stream.BINARIZE).uniforms(1, 2, 3, u, 0, n);
    let s = 0,
      s2 = 0,
      outside = 0;
    for (let i = 0; i < n; i++) {
      s += u[i];
      s2 += u[i] * u[i];
      if (!(u[i] > 0 && u[i] < 1)) outside++;
    }
    expect(outside).toBe(0);
    const mean = s / n,
      variance = s2 / n - mean * mean;
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    // Var of (u − ½)² is 1/80 − 1/144 = 1/180.
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(4 * Math.sqrt(1 / 180 / n));
  });

  it('a value depends only on its counter: normals(n = 7) are the first 7 of normals(n = 20)', () => {
    const rng = new CounterRng(5, Stream.EPSILON);
    const a = new Float32Array(7),
      b = new Float32Array(20);
    rng.normals(4, 9, 2, a, 0, 7);
    rng.normals(4, 9, 2, b, 0, 20);
    for (let i = 0; i < 7; i++) expect(a[i]).toBe(b[i]);
    // ...and writing at an offset changes nothing either.
    const c = new Float32Array(30);
    rng.normals(4, 9, 2, c, 10, 7);
    for (let i = 0; i < 7; i++) expect(c[10 + i]).toBe(b[i]);
    // A fresh instance with the same (seed, stream) gives the same values (no hidden state).
    const d = new Float32Array(20);
    new CounterRng(5, Stream.EPSILON).normals(4, 9, 2, d, 0, 20);
    for (let i = 0; i < 20; i++) expect(d[i]).toBe(b[i]);
  });

  it('different counters, seeds and streams give different values', () => {
    const draw = (seed: number, stream: number, c0: number, c1: number, c2: number) => {
      const v = new Float32Array(4);
      new CounterRng(seed, stream).normals(c0, c1, c2, v, 0, 4);
      return Array.from(v);
    };
    const base = draw(1, Stream.EPSILON, 0, 0, 0);
    for (const other of [
      draw(2, Stream.EPSILON, 0, 0, 0),
      draw(1, Stream.EVAL, 0, 0, 0),
      draw(1, Stream.EPSILON, 1, 0, 0),
      draw(1, Stream.EPSILON, 0, 1, 0),
      draw(1, Stream.EPSILON, 0, 0, 1),
    ]) {
      expect(other).not.toEqual(base);
    }
  });
});

describe('epochPermutation', () => {
  const isPermutation = (p: Uint32Array) => {
    const seen = new Uint8Array(p.length);
    for (const v of p) {
      if (v >= p.length || seen[v]) return false;
      seen[v] = 1;
    }
    return true;
  };
  const same = (a: Uint32Array, b: Uint32Array) => a.length === b.length && a.every((v, i) => v === b[i]);

  it('is a permutation of 0..n-1', () => {
    for (const n of [1, 2, 3, 10, 1000, 9000]) expect(isPermutation(epochPermutation(7, 3, n)), `n=${n}`).toBe(true);
  });
  it('is deterministic in (seed, epoch, n)', () => {
    expect(same(epochPermutation(7, 3, 1000), epochPermutation(7, 3, 1000))).toBe(true);
  });
  it('differs across epochs and seeds, and actually shuffles', () => {
    const p = epochPermutation(7, 3, 1000);
    expect(same(p, epochPermutation(7, 4, 1000))).toBe(false);
    expect(same(p, epochPermutation(8, 3, 1000))).toBe(false);
    let fixed = 0;
    for (let i = 0; i < p.length; i++) if (p[i] === i) fixed++;
    // A uniform permutation has Poisson(1) fixed points; 10 or more has probability ~1e-7.
    expect(fixed).toBeLessThan(10);
  });
  it('is roughly uniform: each element lands in the first half about half the time', () => {
    // Over 400 epochs, P(p[k] < n/2) for each k should be ½: SE = √(¼/400) = 0.025; 4 SE = 0.1.
    const n = 20,
      E = 400;
    const counts = new Float64Array(n);
    for (let e = 0; e < E; e++) {
      const p = epochPermutation(11, e, n);
      for (let k = 0; k < n; k++) if (p[k] < n / 2) counts[k]++;
    }
    for (let k = 0; k < n; k++) expect(Math.abs(counts[k] / E - 0.5), `position ${k}`).toBeLessThan(0.1);
  });
});

describe('shard noise never depends on the split', () => {
  const N = 10,
    D = 13;
  const x = new Float32Array(N * D).map((_, i) => ((i * 37) % 101) / 100);
  const data: Dataset = { name: 'fixture', n: N, d: D, x };

  for (const opts of [
    { binarize: false, samples: 1 },
    { binarize: true, samples: 1 },
    { binarize: true, samples: 3 },
    { binarize: false, samples: 3 },
  ]) {
    it(`datapoint g gets the same x̃ and ε alone or inside any shard (${JSON.stringify(opts)})`, () => {
      const cfg = { latent: 5, seed: 42, ...opts };
      const J = cfg.latent,
        L = cfg.samples,
        step = 17;
      const shards: number[][] = [
        [3, 0, 9, 5],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
        [5, 3],
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      ];
      let compared = 0;
      for (const idx of shards) {
        const big = buildShard(cfg, data, { indices: idx, step });
        const B = idx.length;
        expect(big.eps.length).toBe(J * L * B);
        idx.forEach((g, pos) => {
          const one = buildShard(cfg, data, { indices: [g], step });
          for (let d = 0; d < D; d++) {
            expect(big.xRows[pos * D + d]).toBe(one.xRows[d]);
            expect(big.xCols[d * B + pos]).toBe(one.xCols[d]);
            for (let l = 0; l < L; l++) expect(big.xColsTiled[d * L * B + l * B + pos]).toBe(one.xCols[d]);
          }
          for (let j = 0; j < J; j++) {
            for (let l = 0; l < L; l++) expect(big.eps[j * L * B + l * B + pos]).toBe(one.eps[j * L + l]);
          }
          compared++;
        });
      }
      expect(compared).toBe(26);
    });
  }

  it('binarisation gives 0/1 values, fresh per step, with the right mean', () => {
    const cfg = { latent: 2, seed: 1, binarize: true, samples: 1 };
    const all = Array.from({ length: N }, (_, i) => i);
    const a = buildShard(cfg, data, { indices: all, step: 0 });
    const b = buildShard(cfg, data, { indices: all, step: 1 });
    let differ = 0;
    for (let i = 0; i < a.xRows.length; i++) {
      expect(a.xRows[i] === 0 || a.xRows[i] === 1).toBe(true);
      if (a.xRows[i] !== b.xRows[i]) differ++;
    }
    expect(differ).toBeGreaterThan(0);
    // Mean over many steps of x̃ equals the pixel value x: 400 steps, SE ≤ ½/√400 = 0.025, 4 SE = 0.1.
    const S = 400,
      sum = new Float64Array(N * D);
    for (let s = 0; s < S; s++) {
      const sh = buildShard(cfg, data, { indices: all, step: s });
      for (let i = 0; i < sum.length; i++) sum[i] += sh.xRows[i];
    }
    for (let i = 0; i < sum.length; i++) expect(Math.abs(sum[i] / S - x[i])).toBeLessThan(0.1);
  });

  it('ε differs between steps and between the training and evaluation streams', () => {
    const cfg = { latent: 4, seed: 3, binarize: false, samples: 1 };
    const a = buildShard(cfg, data, { indices: [2], step: 0 });
    const b = buildShard(cfg, data, { indices: [2], step: 1 });
    const c = buildShard(cfg, data, { indices: [2], step: 0 }, Stream.EVAL);
    expect(Array.from(b.eps)).not.toEqual(Array.from(a.eps));
    expect(Array.from(c.eps)).not.toEqual(Array.from(a.eps));
  });
});
