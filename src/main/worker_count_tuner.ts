/**
 * `workers: 'auto'`: pick how many of the pool's workers train, by measuring.
 *
 * Any number of active workers trains the same model (up to float summation order: the shards and
 * slices change, the noise of every datapoint does not), so the count is free to choose for speed
 * alone. Where the best count lies depends on the machine (cores, memory bandwidth, other load) and
 * on the model (a small minibatch split many ways is all fixed cost), so it is measured, not guessed:
 *
 *   probe:    each candidate (1, 2, 4, …, up to the pool's size, and the size itself) runs one
 *             warm-up request, then `probeRequests` measured ones; the highest samples/s wins
 *   exploit:  the winner runs every request for `recheckMs` of training time
 *   re-check: all candidates are measured again (no warm-up), the winner may change
 *
 * The trainer asks `next()` for each request's count and reports the request with `record()`.
 */

export interface TunerOptions {
  /** Measured requests per candidate in a probe. */
  probeRequests?: number;
  /** Training time (ms) between probes. */
  recheckMs?: number;
}

export interface WorkerChoice {
  /** The count now training. */
  workers: number;
  /** Samples per second measured for each candidate in the latest probe. */
  measured: Record<number, number>;
}

/** 1, 2, 4, … below max, then max itself (and none above the minibatch: each worker needs a datapoint). */
export function candidateCounts(max: number, batch: number): number[] {
  const top = Math.max(1, Math.min(max, batch));
  const out: number[] = [];
  for (let n = 1; n < top; n *= 2) out.push(n);
  out.push(top);
  return out;
}

export class WorkerCountTuner {
  readonly candidates: readonly number[];
  private readonly probeRequests: number;
  private readonly recheckMs: number;
  /** Requests still to run in the current probe: [count, measured?]. */
  private plan: Array<[number, boolean]> = [];
  private samples = new Map<number, number[]>();
  private best: number;
  private sinceProbeMs = 0;
  private lastChoice: WorkerChoice | null = null;

  constructor(max: number, batch: number, opts: TunerOptions = {}) {
    this.candidates = candidateCounts(max, batch);
    this.probeRequests = opts.probeRequests ?? 2;
    this.recheckMs = opts.recheckMs ?? 60_000;
    this.best = this.candidates[this.candidates.length - 1];
    this.startProbe(true);
  }

  /** The count for the next request. */
  next(): number {
    return this.plan.length ? this.plan[0][0] : this.best;
  }

  /**
   * Report a request: `active` workers trained `samples` datapoints in `ms`. Returns the new choice
   * when a probe has just ended (whether or not it changed), else null.
   */
  record(active: number, samples: number, ms: number): WorkerChoice | null {
    if (!this.plan.length) {
      this.sinceProbeMs += ms;
      if (this.sinceProbeMs >= this.recheckMs) this.startProbe(false);
      return null;
    }
    const [planned, measured] = this.plan[0];
    if (planned !== active) return null; // not the request we planned (a caller override): ignore it
    this.plan.shift();
    if (measured && ms > 0 && samples > 0) {
      const list = this.samples.get(active) ?? [];
      list.push((samples * 1000) / ms);
      this.samples.set(active, list);
    }
    if (this.plan.length) return null;
    return this.choose();
  }

  /** The latest choice (null before the first probe has ended). */
  get choice(): WorkerChoice | null {
    return this.lastChoice;
  }

  private startProbe(warm: boolean): void {
    this.samples = new Map();
    this.sinceProbeMs = 0;
    this.plan = [];
    for (const c of this.candidates) {
      // Warm-up on the first probe: a worker's first steps include compiling and caches filling.
      if (warm) this.plan.push([c, false]);
      for (let r = 0; r < this.probeRequests; r++) this.plan.push([c, true]);
    }
  }

  private choose(): WorkerChoice {
    const measured: Record<number, number> = {};
    let best = this.best,
      bestRate = -1;
    for (const c of this.candidates) {
      const list = this.samples.get(c);
      if (!list?.length) continue;
      // The median of the requests: one disturbed request (a GC, another program) does not decide.
      const rate = [...list].sort((a, b) => a - b)[Math.floor((list.length - 1) / 2)];
      measured[c] = rate;
      if (rate > bestRate) {
        bestRate = rate;
        best = c;
      }
    }
    this.best = best;
    this.lastChoice = { workers: best, measured };
    return this.lastChoice;
  }
}
