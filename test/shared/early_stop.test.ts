/**
 * Early stopping's tracker (src/shared/training/early_stop.ts): N evaluations in a row without a
 * better test ELBO stop training, and the state of the best evaluation is the one kept.
 */
import { describe, it, expect } from 'vitest';
import { EarlyStop } from '../../src/shared/training/early_stop.ts';

/** Feed test ELBOs at steps 10, 20, …; the snapshot is the step. */
function run(patience: number, elbos: number[]) {
  const t = new EarlyStop<number>(patience);
  const marks = elbos.map((e, i) => t.observe(e, (i + 1) * 10, () => (i + 1) * 10));
  return { t, marks };
}

describe('EarlyStop', () => {
  it('is off for 0', () => {
    expect(EarlyStop.of(0)).toBeUndefined();
    expect(EarlyStop.of(3)).toBeInstanceOf(EarlyStop);
  });

  it('stops after N evaluations in a row without a better test ELBO, and keeps the best state', () => {
    const { t, marks } = run(2, [-200, -150, -160, -149, -155, -149]);
    expect(marks.map((m) => m.best)).toEqual([true, true, false, true, false, false]);
    expect(marks.map((m) => m.sinceBest)).toEqual([0, 0, 1, 0, 1, 2]);
    expect(marks.map((m) => m.stop)).toEqual([false, false, false, false, false, true]);
    expect(t.stopped).toMatchObject({ evaluation: 6, bestEvaluation: 4, bestStep: 40, bestElbo: -149 });
    expect(t.best).toBe(40); // a tie (-149 again) is no progress: the first is kept
  });

  it('goes on while each evaluation is better, however many', () => {
    const { t, marks } = run(1, [-300, -250, -200, -150]);
    expect(marks.every((m) => m.best && !m.stop)).toBe(true);
    expect(t.stopped).toBeUndefined();
    expect(t.best).toBe(40);
  });

  it('N = 1 stops at the first evaluation that is not better; a NaN is never better', () => {
    const { t } = run(1, [-150, Number.NaN]);
    expect(t.stopped).toMatchObject({ evaluation: 2, sinceBest: 1, bestStep: 10 });
    const first = run(1, [Number.NaN]);
    expect(first.t.best).toBeUndefined(); // nothing kept: no evaluation was a finite bound
    expect(first.t.stopped).toMatchObject({ evaluation: 1, bestStep: -1 });
  });
});
