/**
 * Which datapoints each step uses (schedule.ts): shards of a minibatch, and epochs that visit
 * ⌊N/M⌋·M distinct datapoints, deterministically in (seed, step). Pure JS: no backend.
 */
import { describe, it, expect } from 'vitest';
import { MinibatchSchedule, shardRanges } from '../../src/shared/training/schedule.ts';
import { epochPermutation } from '../../src/shared/training/rng.ts';

describe('shardRanges', () => {
  it('covers [0, M) with contiguous shards whose sizes differ by at most one', () => {
    for (const m of [0, 1, 2, 7, 100, 101, 999]) {
      for (const parts of [1, 2, 3, 4, 7, 16]) {
        const r = shardRanges(m, parts);
        expect(r.length, `m=${m}, parts=${parts}`).toBe(parts);
        let next = 0;
        for (const [a, b] of r) {
          expect(a).toBe(next);
          expect(b).toBeGreaterThanOrEqual(a);
          next = b;
        }
        expect(next).toBe(m);
        const sizes = r.map(([a, b]) => b - a);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }
    }
  });
  it('gives the examples one expects', () => {
    expect(shardRanges(10, 3)).toEqual([
      [0, 4],
      [4, 7],
      [7, 10],
    ]);
    expect(shardRanges(2, 4)).toEqual([
      [0, 1],
      [1, 2],
      [2, 2],
      [2, 2],
    ]);
  });
});

describe('MinibatchSchedule', () => {
  const N = 103,
    M = 10; // ⌊103/10⌋ = 10 steps per epoch; 3 datapoints left out each epoch

  it('each epoch visits ⌊N/M⌋·M distinct indices, M per step', () => {
    const sch = new MinibatchSchedule(5, N, M);
    expect(sch.stepsPerEpoch).toBe(10);
    const leftOut: number[][] = [];
    for (let e = 0; e < 4; e++) {
      const seen = new Set<number>();
      for (let k = 0; k < sch.stepsPerEpoch; k++) {
        const step = e * sch.stepsPerEpoch + k;
        expect(sch.epochOf(step)).toBe(e);
        const idx = sch.indices(step);
        expect(idx.length).toBe(M);
        for (const g of idx) {
          expect(g).toBeLessThan(N);
          seen.add(g);
        }
      }
      expect(seen.size, `epoch ${e}`).toBe(M * Math.floor(N / M));
      leftOut.push(Array.from({ length: N }, (_, g) => g).filter((g) => !seen.has(g)));
    }
    // Epochs use different permutations, so a different remainder is dropped each time.
    expect(new Set(leftOut.map((l) => l.join())).size).toBeGreaterThan(1);
  });

  it('step s uses π_e[k·M, (k+1)·M) with π_e = epochPermutation(seed, e, N)', () => {
    const sch = new MinibatchSchedule(9, N, M);
    for (const step of [0, 9, 10, 37]) {
      const e = Math.floor(step / 10),
        k = step % 10;
      const p = epochPermutation(9, e, N);
      expect(Array.from(sch.indices(step))).toEqual(Array.from(p.subarray(k * M, (k + 1) * M)));
    }
  });

  it('is deterministic in (seed, step) and independent of the order steps are asked for', () => {
    const a = new MinibatchSchedule(3, N, M),
      b = new MinibatchSchedule(3, N, M);
    const seq = Array.from({ length: 40 }, (_, s) => Array.from(a.indices(s)));
    for (const s of [39, 0, 25, 11, 12, 38, 5]) expect(Array.from(b.indices(s)), `step ${s}`).toEqual(seq[s]);
    const c = new MinibatchSchedule(4, N, M);
    expect(Array.from(c.indices(0))).not.toEqual(seq[0]);
  });

  it('batch = N gives one step per epoch over the whole set', () => {
    const sch = new MinibatchSchedule(1, 17, 17);
    expect(sch.stepsPerEpoch).toBe(1);
    expect(Array.from(sch.indices(3)).sort((x, y) => x - y)).toEqual(Array.from({ length: 17 }, (_, i) => i));
  });
});
