/**
 * The importance-sampled log p(x) over the test set in slices, so that a long estimate (the page
 * offers K up to 100,000: hours on a laptop) reports progress and can be cancelled; and the ELBO of
 * an evaluation point in slices too, so that a pause (an abort) waits for one short slice, never for
 * the whole training set. Each slice is a
 * range of test datapoints sized to ~SLICE_COLUMNS decoded samples per worker; the answer is the
 * same sums as one call over the whole set (the noise is keyed by datapoint and sample index,
 * so slicing changes only the order of the float sums).
 */
import { addElboSums, addLogLikelihoodSums, type ElboSums, type LogLikelihoodSums } from '../shared/model/eval_sums.ts';

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
export async function slicedLogLikelihood(
  sumsOver: (from: number, to: number) => Promise<LogLikelihoodSums>,
  n: number,
  K: number,
  workers: number,
  o: SliceOptions,
): Promise<LogLikelihoodSums> {
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

/**
 * Multiply-adds one worker does in one ELBO slice: about 25–50 ms at the 5–10 GMAC/s of one core's
 * WASM SIMD matMul (BENCHMARKS.md), so that a pause waits at most that long.
 */
const ELBO_SLICE_MACS = 2.5e8;

/**
 * Datapoints per worker in one ELBO slice. One datapoint costs about the encoder's weights once and
 * the decoder's S times in multiply-adds, ≈ P·(1 + S)/2 for P parameters (half of them each side).
 * Fixed by the model alone (never by a clock), so that an evaluation gives the same sums every time.
 */
export function elboSliceRows(paramCount: number, samples: number): number {
  return Math.max(1, Math.floor(ELBO_SLICE_MACS / ((paramCount * (1 + samples)) / 2)));
}

/** The ELBO sums of `sumsOver(from, to)` over [0, n) in slices of `rowsPerWorker` × workers datapoints; checks the signal between slices. */
export async function slicedElbo(
  sumsOver: (from: number, to: number) => Promise<ElboSums>,
  n: number,
  rowsPerWorker: number,
  workers: number,
  signal?: AbortSignal,
): Promise<ElboSums> {
  const size = Math.max(1, rowsPerWorker * workers);
  const parts: ElboSums[] = [];
  signal?.throwIfAborted();
  for (let from = 0; from < n; from += size) {
    parts.push(await sumsOver(from, Math.min(n, from + size)));
    signal?.throwIfAborted();
  }
  return addElboSums(parts);
}
