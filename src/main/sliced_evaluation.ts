/**
 * The importance-sampled log p(x) over the test set in slices, so that a long estimate (the page
 * offers K up to 100,000: hours on a laptop) reports progress and can be cancelled. Each slice is a
 * range of test datapoints sized to ~SLICE_COLUMNS decoded samples per worker; the answer is the
 * same sums as one call over the whole set (the noise is keyed by datapoint and sample index,
 * so slicing changes only the order of the float sums).
 */
import { addLogLikelihoodSums, type LogLikelihoodSums } from '../shared/eval_sums.ts';

/** Decoded samples (datapoints × K) per worker in one slice: about a second of work for a small model. */
const SLICE_COLUMNS = 20_000;

export interface EvaluationProgress {
  /** Test datapoints done and in all. */
  done: number;
  total: number;
}

export interface SliceOptions {
  /** Aborting it ends the estimate after the current slice; the promise rejects with signal.reason. */
  signal?: AbortSignal;
  onProgress?: (p: EvaluationProgress) => void;
  /** Decoded samples per worker in one slice (default SLICE_COLUMNS). */
  sliceColumns?: number;
}

/** The sums of `sumsOver(from, to)` over [0, n) in slices (estimate and variance); checks the signal between slices. */
export async function slicedLogLikelihood(sumsOver: (from: number, to: number) => Promise<LogLikelihoodSums>, n: number, K: number,
  workers: number, o: SliceOptions): Promise<LogLikelihoodSums> {
  const size = Math.max(workers, Math.floor((workers * (o.sliceColumns ?? SLICE_COLUMNS)) / K));
  const parts: LogLikelihoodSums[] = [];
  o.signal?.throwIfAborted();
  for (let from = 0; from < n; from += size) {
    const to = Math.min(n, from + size);
    parts.push(await sumsOver(from, to));
    o.signal?.throwIfAborted();
    o.onProgress?.({ done: to, total: n });
  }
  return addLogLikelihoodSums(parts);
}
