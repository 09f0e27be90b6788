/**
 * A worker_thread for the barrier tests: runs the real arriveAndWait (src/shared/runtime/barrier.ts) on a
 * control block it shares with the test. Two jobs:
 *   rounds: `rounds` barriers in a row; before each, write round + 1 into this thread's cell of the
 *           round's row; after it, check every party's cell of that row (the barrier must make the
 *           writes before it visible after it) and that the last arrival's hook ran exactly once.
 *   once:   arrive once and report what arriveAndWait returned ('released' or 'aborted').
 */
import { parentPort, workerData } from 'node:worker_threads';
import { arriveAndWait, type BarrierResult } from '../../src/shared/runtime/barrier.ts';

export interface BarrierJob {
  kind: 'rounds' | 'once';
  control: SharedArrayBuffer;
  /** rounds: Int32 [rounds][parties] cells, then one counter the last arrival bumps. */
  cells?: SharedArrayBuffer;
  parties: number;
  rank: number;
  rounds?: number;
}

export interface BarrierReport {
  results: BarrierResult[];
  /** rounds: cells that did not hold round + 1 after the barrier, and hook counts that were off. */
  mismatches: number;
}

const job = workerData.job as BarrierJob;
const ctrl = new Int32Array(job.control);
const results: BarrierResult[] = [];
let mismatches = 0;
if (job.kind === 'once') {
  results.push(arriveAndWait(ctrl, job.parties));
} else {
  const cells = new Int32Array(job.cells!);
  const P = job.parties,
    counter = job.rounds! * P;
  for (let round = 0; round < job.rounds!; round++) {
    cells[round * P + job.rank] = round + 1; // a plain store: the barrier is what publishes it
    results.push(
      arriveAndWait(ctrl, P, () => {
        cells[counter] += 1;
      }),
    );
    for (let w = 0; w < P; w++) if (cells[round * P + w] !== round + 1) mismatches++;
    // Round round + 1 cannot complete before this thread arrives at it: the hook ran exactly round + 1 times.
    if (cells[counter] !== round + 1) mismatches++;
  }
}
parentPort!.postMessage({ results, mismatches } satisfies BarrierReport);
