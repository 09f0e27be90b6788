/**
 * Which datapoints step s uses. Everything is a function of (seed, step), so a resumed run, or
 * a run on any number of workers, visits exactly the same minibatches:
 *     stepsPerEpoch = ⌊N / M⌋ (the last partial minibatch of an epoch is dropped, as in most trainers)
 *     epoch e = ⌊s / stepsPerEpoch⌋,  position k = s mod stepsPerEpoch
 *     minibatch = π_e[k·M, (k+1)·M),  π_e = epochPermutation(seed, e, N)
 */
import { epochPermutation } from './rng.ts';

export class MinibatchSchedule {
  readonly stepsPerEpoch: number;
  private cachedEpoch = -1;
  private perm: Uint32Array = new Uint32Array(0);

  constructor(
    readonly seed: number,
    readonly n: number,
    readonly batch: number,
  ) {
    this.stepsPerEpoch = Math.floor(n / batch);
  }

  epochOf(step: number): number {
    return Math.floor(step / this.stepsPerEpoch);
  }

  /** The M global indices of step `step` (a view; valid until the next call with another epoch). */
  indices(step: number): Uint32Array {
    const e = this.epochOf(step),
      k = step % this.stepsPerEpoch;
    if (e !== this.cachedEpoch) {
      this.perm = epochPermutation(this.seed, e, this.n);
      this.cachedEpoch = e;
    }
    return this.perm.subarray(k * this.batch, (k + 1) * this.batch);
  }
}

/** Split M items into `parts` contiguous shards whose sizes differ by at most one: [start, end) each. */
export function shardRanges(m: number, parts: number): Array<[number, number]> {
  const base = Math.floor(m / parts),
    extra = m % parts;
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let w = 0; w < parts; w++) {
    const size = base + (w < extra ? 1 : 0);
    out.push([start, start + size]);
    start += size;
  }
  return out;
}
