/**
 * What the pool reports: a request's step outcomes, and its failures (a worker's death, a step
 * skipped because a gradient was not finite). Shared by the coordinator (pool.ts), the supervisor
 * and the two transports; the trainer passes failures on as its `failure` events.
 */
import type { PhaseTimes } from '../../shared/runtime/protocol.ts';

/** One step's outcome as the coordinator sees it. */
export interface StepOutcome {
  step: number;
  ok: boolean;
  /** Σ over the minibatch (NaN when not computed this step). */
  elbo: number;
  recon: number;
  kl: number;
}

/** The pool call that was running when a worker death was noticed ('idle': none; noticed at the next request). */
export type PoolCall = 'steps' | 'idle' | 'evaluate' | 'encode' | 'decode' | 'memory';

export interface PoolFailure {
  kind: 'worker-died' | 'non-finite';
  /** The worker that died, or the first whose gradient was not finite. */
  worker: number;
  /** The step being run (worker-died during steps), skipped (non-finite), or the committed step (other calls). */
  step: number;
  cause: string;
  /** worker-died: the call during which the death was noticed; the call was retried on a new worker. */
  during?: PoolCall;
}

export interface StepsReport {
  outcomes: StepOutcome[];
  failures: PoolFailure[];
  /** Per worker, ms per phase over this request (shared path). */
  times: PhaseTimes[];
}

/** The failure of a step that was skipped because worker `worker`'s gradient was not finite. */
export function nonFiniteFailure(step: number, worker: number): PoolFailure {
  return {
    kind: 'non-finite',
    worker,
    step,
    cause: `the gradient of worker ${worker}'s shard was not finite (NaN or Inf); the step was skipped and the model is unchanged`,
  };
}
