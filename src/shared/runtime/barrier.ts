/**
 * Every Atomics call of the pool, in one place (piscina keeps its wait loop the same way).
 *
 * The control block is an Int32Array at the start of the step memory (a shared WebAssembly.Memory,
 * whose buffer is a SharedArrayBuffer), laid out by Ctrl (shared_memory.ts).
 * The barrier is a generation barrier: arrivals count up; the last one resets the count, runs the
 * "last arrival" hook (which commits the step), bumps the generation and wakes everyone. Waiters
 * sleep on the generation word and also watch ABORT, which the coordinator raises when a worker
 * dies, so that nobody waits for a thread that will never arrive.
 *
 * The ABORT word's life cycle (only the coordinator writes it; workers only read it):
 *   raised  (raiseAbort) by the coordinator when a worker dies (its death notice: during a request
 *           this releases the waiters; while the pool is idle it stays up), when a worker's
 *           runSteps call rejects (it threw), and by dispose().
 *   read    by workers only while they wait at a barrier: a waiter that sees it returns 'aborted'
 *           and its request ends without committing the step. The last arrival at a barrier does
 *           not look at it: everyone arrived, so the barrier is whole and it releases.
 *   cleared (resetBarrier, with the arrival count) by the coordinator only, when no worker is
 *           inside a request: at the start of each request, right after replacing every worker
 *           known to be dead (in the same synchronous block as that check, so no death notice
 *           can fall between; a later death raises it again), and at the end of each request,
 *           after every call settled and every failed worker was replaced.
 * Unit tests: test/shared/barrier.test.ts (real threads and direct Atomics).
 */
import { Ctrl } from './shared_memory.ts';

/** How long a waiter sleeps before re-checking ABORT (ms). Short: aborts are noticed quickly. */
const ABORT_POLL_MS = 20;

/**
 * How many times a waiter polls the generation before it sleeps, when spinning is allowed. A sleep
 * costs a futex wake-up (tens of µs) on every step's two barriers; when every worker has a core of
 * its own the others arrive within microseconds, so a short spin is cheaper. ~20 µs of polling.
 */
const SPIN_POLLS = 2000;

export type BarrierResult = 'released' | 'aborted';

/**
 * Arrive at the barrier and wait for all `parties`. `onLast` runs in the last arriving thread
 * before anyone is released (so what it writes is visible to all after the barrier).
 */
export function arriveAndWait(ctrl: Int32Array, parties: number, onLast?: () => void, spin = false): BarrierResult {
  // Read the generation before arriving: if we are not last, we wait for it to change.
  const gen = Atomics.load(ctrl, Ctrl.BARRIER_GEN);
  if (Atomics.add(ctrl, Ctrl.BARRIER_COUNT, 1) === parties - 1) {
    // Last arrival: reset the count first, so the next barrier starts from zero.
    Atomics.store(ctrl, Ctrl.BARRIER_COUNT, 0);
    onLast?.();
    // Release: bumping the generation is what waiters are watching; notify wakes the sleepers.
    Atomics.add(ctrl, Ctrl.BARRIER_GEN, 1);
    Atomics.notify(ctrl, Ctrl.BARRIER_GEN);
    return 'released';
  }
  // Spin first (only when each worker has its own core: otherwise spinning takes the core the
  // last arrival needs), then sleep.
  for (let i = spin ? SPIN_POLLS : 0; i > 0; i--) {
    if (Atomics.load(ctrl, Ctrl.BARRIER_GEN) !== gen) return 'released';
  }
  while (Atomics.load(ctrl, Ctrl.BARRIER_GEN) === gen) {
    // ABORT is raised by the coordinator when a worker died: give the step up.
    if (Atomics.load(ctrl, Ctrl.ABORT) !== 0) return 'aborted';
    // Sleep until the generation word changes (or the poll interval passes).
    Atomics.wait(ctrl, Ctrl.BARRIER_GEN, gen, ABORT_POLL_MS);
  }
  return 'released';
}

/** Coordinator: make every waiter give up the current step (a worker died). */
export function raiseAbort(ctrl: Int32Array): void {
  // Store first, then wake the sleepers so they see it now rather than at their next poll.
  Atomics.store(ctrl, Ctrl.ABORT, 1);
  Atomics.notify(ctrl, Ctrl.BARRIER_GEN);
}

/** Coordinator, with no worker inside a request: a clean barrier for the next request. */
export function resetBarrier(ctrl: Int32Array): void {
  // No thread is waiting here (all requests returned), so plain atomic stores are enough.
  Atomics.store(ctrl, Ctrl.BARRIER_COUNT, 0);
  Atomics.store(ctrl, Ctrl.ABORT, 0);
}

/**
 * Commit a step (last arrival of the second barrier), or set the committed state between requests
 * (coordinator: a new run, a loaded checkpoint): which state buffer is current, and the step count.
 */
export function commitStep(ctrl: Int32Array, cur: number, committedSteps: number): void {
  // Both stores happen before the release in arriveAndWait, so every worker and the coordinator
  // (after the request returns) read the committed values.
  Atomics.store(ctrl, Ctrl.CUR, cur);
  Atomics.store(ctrl, Ctrl.COMMITTED_STEPS, committedSteps);
}

/** Read the committed state buffer index and step count (coordinator, or a worker at request start). */
export function readCommit(ctrl: Int32Array): { cur: number; committedSteps: number } {
  // Atomic loads: pair with the stores in commitStep.
  return { cur: Atomics.load(ctrl, Ctrl.CUR), committedSteps: Atomics.load(ctrl, Ctrl.COMMITTED_STEPS) };
}
