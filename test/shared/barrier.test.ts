/**
 * The pool's barrier (src/shared/runtime/barrier.ts) on its own: real worker_threads on a real
 * SharedArrayBuffer, and direct Atomics on the test's thread. Covers arrival and release, the
 * generation count, what the last arrival's hook publishes, ABORT waking waiters, and ABORT and
 * the count being cleared by resetBarrier so the next barrier works.
 */
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { arriveAndWait, commitStep, raiseAbort, readCommit, resetBarrier } from '../../src/shared/runtime/barrier.ts';
import { Ctrl } from '../../src/shared/runtime/shared_memory.ts';
import type { BarrierJob, BarrierReport } from '../helpers/barrier_worker.ts';

const bootstrap = new URL('../../src/workers/node_dev_bootstrap.mjs', import.meta.url);
const entry = new URL('../helpers/barrier_worker.ts', import.meta.url);

function control(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Ctrl.LENGTH * 4));
}

/** Start a thread on `job`; resolves with its report (rejects if it fails). */
function thread(job: BarrierJob): Promise<BarrierReport> {
  const w = new Worker(bootstrap, { workerData: { aevbEntry: entry.href, job } });
  return new Promise((resolve, reject) => {
    w.once('message', (m: BarrierReport) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`barrier thread exited with code ${code} before reporting`)));
  });
}

/** Resolve once `cond` holds (checked on every turn of the event loop): a condition, not a sleep. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

describe('arriveAndWait with real threads', () => {
  it('releases 4 threads together 300 times; writes before the barrier are seen by all after it; the hook runs once per barrier', async () => {
    const ctrl = control(),
      P = 4,
      rounds = 300;
    const cells = new SharedArrayBuffer((rounds * P + 1) * 4);
    const reports = await Promise.all(
      Array.from({ length: P }, (_, rank) =>
        thread({ kind: 'rounds', control: ctrl.buffer as SharedArrayBuffer, cells, parties: P, rank, rounds }),
      ),
    );
    for (const r of reports) {
      expect(r.mismatches).toBe(0);
      expect(r.results).toEqual(Array(rounds).fill('released'));
    }
    expect(Atomics.load(ctrl, Ctrl.BARRIER_GEN)).toBe(rounds);
    expect(Atomics.load(ctrl, Ctrl.BARRIER_COUNT)).toBe(0);
    expect(new Int32Array(cells)[rounds * P]).toBe(rounds);
  });

  it('ABORT wakes the waiters: three of four parties arrive, the coordinator raises ABORT, all three give up', async () => {
    const ctrl = control();
    const waiting = Array.from({ length: 3 }, (_, rank) =>
      thread({ kind: 'once', control: ctrl.buffer as SharedArrayBuffer, parties: 4, rank }),
    );
    await until(() => Atomics.load(ctrl, Ctrl.BARRIER_COUNT) === 3);
    raiseAbort(ctrl);
    const reports = await Promise.all(waiting);
    expect(reports.map((r) => r.results)).toEqual([['aborted'], ['aborted'], ['aborted']]);
    // Nobody was released: the generation did not move; the count is left for resetBarrier.
    expect(Atomics.load(ctrl, Ctrl.BARRIER_GEN)).toBe(0);
    expect(Atomics.load(ctrl, Ctrl.BARRIER_COUNT)).toBe(3);
    expect(Atomics.load(ctrl, Ctrl.ABORT)).toBe(1);

    // resetBarrier clears ABORT and the count: the next barrier of four releases everyone.
    resetBarrier(ctrl);
    expect(Atomics.load(ctrl, Ctrl.ABORT)).toBe(0);
    expect(Atomics.load(ctrl, Ctrl.BARRIER_COUNT)).toBe(0);
    const again = await Promise.all(
      Array.from({ length: 4 }, (_, rank) => thread({ kind: 'once', control: ctrl.buffer as SharedArrayBuffer, parties: 4, rank })),
    );
    expect(again.map((r) => r.results)).toEqual([['released'], ['released'], ['released'], ['released']]);
    expect(Atomics.load(ctrl, Ctrl.BARRIER_GEN)).toBe(1);
    expect(Atomics.load(ctrl, Ctrl.BARRIER_COUNT)).toBe(0);
  });

  it('without resetBarrier, a raised ABORT keeps failing the next barrier (why the pool clears it before each request)', async () => {
    const ctrl = control();
    raiseAbort(ctrl);
    // Two of three arrive; with ABORT still up neither waits for the third.
    const reports = await Promise.all(
      [0, 1].map((rank) => thread({ kind: 'once', control: ctrl.buffer as SharedArrayBuffer, parties: 3, rank })),
    );
    expect(reports.map((r) => r.results)).toEqual([['aborted'], ['aborted']]);
  });
});

describe('arriveAndWait on one thread (direct Atomics)', () => {
  it('one party: released at once, the hook ran, the generation moved', () => {
    const ctrl = control();
    let hooked = 0;
    expect(
      arriveAndWait(ctrl, 1, () => {
        hooked++;
      }),
    ).toBe('released');
    expect(
      arriveAndWait(ctrl, 1, () => {
        hooked++;
      }),
    ).toBe('released');
    expect(hooked).toBe(2);
    expect(Atomics.load(ctrl, Ctrl.BARRIER_GEN)).toBe(2);
    expect(Atomics.load(ctrl, Ctrl.BARRIER_COUNT)).toBe(0);
  });

  it('with ABORT up, a non-last arrival returns aborted without sleeping; the last arrival still releases and runs the hook', () => {
    const ctrl = control();
    raiseAbort(ctrl);
    expect(arriveAndWait(ctrl, 2)).toBe('aborted');
    expect(Atomics.load(ctrl, Ctrl.BARRIER_COUNT)).toBe(1);
    let hooked = false;
    // The last party finds everyone arrived: the barrier is complete, so it releases (a step whose
    // every worker arrived is whole) and resets the count.
    expect(
      arriveAndWait(ctrl, 2, () => {
        hooked = true;
      }),
    ).toBe('released');
    expect(hooked).toBe(true);
    expect(Atomics.load(ctrl, Ctrl.BARRIER_GEN)).toBe(1);
    expect(Atomics.load(ctrl, Ctrl.BARRIER_COUNT)).toBe(0);
  });

  it('commitStep and readCommit carry the committed copy and step count', () => {
    const ctrl = control();
    expect(readCommit(ctrl)).toEqual({ cur: 0, committedSteps: 0 });
    commitStep(ctrl, 1, 41);
    expect(readCommit(ctrl)).toEqual({ cur: 1, committedSteps: 41 });
    // resetBarrier leaves the commit alone: only the barrier words and ABORT are cleared.
    raiseAbort(ctrl);
    resetBarrier(ctrl);
    expect(readCommit(ctrl)).toEqual({ cur: 1, committedSteps: 41 });
  });
});
