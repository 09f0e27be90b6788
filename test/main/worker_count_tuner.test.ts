/** The auto worker count: which counts it tries, and that it keeps the fastest and re-checks. */
import { describe, it, expect } from 'vitest';
import { candidateCounts, WorkerCountTuner } from '../../src/main/worker_count_tuner.ts';

/** Drive a tuner with a machine whose samples/s for each count is `speed(n)`; k requests. */
function drive(t: WorkerCountTuner, speed: (n: number) => number, k: number, msPerRequest = 100) {
  const used: number[] = [];
  const choices = [];
  for (let i = 0; i < k; i++) {
    const n = t.next();
    used.push(n);
    const c = t.record(n, (speed(n) * msPerRequest) / 1000, msPerRequest);
    if (c) choices.push(c);
  }
  return { used, choices };
}

describe('worker count tuner', () => {
  it('tries powers of two up to the pool size, the size itself, and never more than the minibatch', () => {
    expect(candidateCounts(1, 100)).toEqual([1]);
    expect(candidateCounts(2, 100)).toEqual([1, 2]);
    expect(candidateCounts(6, 100)).toEqual([1, 2, 4, 6]);
    expect(candidateCounts(16, 100)).toEqual([1, 2, 4, 8, 16]);
    expect(candidateCounts(16, 5)).toEqual([1, 2, 4, 5]);
  });

  it('keeps the fastest count: a peak in the middle, at the top, and at one', () => {
    for (const [speed, best] of [
      [(n: number) => 1000 * Math.min(n, 4) - 50 * n, 4],
      [(n: number) => 1000 * n, 16],
      [(n: number) => 1000 / n, 1],
    ] as Array<[(n: number) => number, number]>) {
      const t = new WorkerCountTuner(16, 100, { probeRequests: 2 });
      const { used, choices } = drive(t, speed, 40);
      expect(choices.length).toBe(1);
      expect(choices[0].workers).toBe(best);
      expect(Object.keys(choices[0].measured).map(Number)).toEqual([1, 2, 4, 8, 16]);
      expect(used.slice(15)).toEqual(new Array(25).fill(best)); // 5 candidates × (1 warm-up + 2) = 15 probe requests
    }
  });

  it('one disturbed request does not decide (the median of three)', () => {
    const t = new WorkerCountTuner(2, 100, { probeRequests: 3 });
    let i = 0;
    const { choices } = drive(
      t,
      (n) => {
        i++;
        return n === 2 ? (i === 6 ? 100 : 1900) : 1000;
      },
      10,
    );
    expect(choices[0].workers).toBe(2);
  });

  it('re-checks after recheckMs of training and follows a change of the machine', () => {
    const t = new WorkerCountTuner(4, 100, { probeRequests: 1, recheckMs: 1000 });
    let fast = 4;
    const speed = (n: number) => (n === fast ? 5000 : 1000);
    const first = drive(t, speed, 6 + 5); // probe: 3 candidates × 2, then exploit
    expect(first.choices[0].workers).toBe(4);
    fast = 2; // the machine got busy
    const later = drive(t, speed, 12);
    expect(later.choices.length).toBe(1);
    expect(later.choices[0].workers).toBe(2);
    expect(t.next()).toBe(2);
  });
});
