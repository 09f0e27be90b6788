/**
 * When a run stops to evaluate (and, from the command line, to write a checkpoint and a metrics line).
 *
 *   epochs    at the end of every epoch (the default)
 *   log:P     on a log grid of training samples seen, P points per decade: the x-axis of the
 *             paper's Figure 2 ("# training samples evaluated", log scale)
 *
 * The log grid. Point i ≥ 0 asks for g_i = round(10^(i/P)) samples. Training moves in whole
 * minibatches of M, so the point is taken at the first step boundary that has seen at least g_i
 * samples:
 *
 *   s_i = ⌈g_i / M⌉        (samples seen there: s_i·M, which is ≥ g_i and < g_i + M)
 *
 * Points that round to the same step are one point; the last step of the run (epochs × steps per
 * epoch) is always a point, so every run ends evaluated. With P = 5 and M = 100: steps 1, 2, 3, 4,
 * 7, 10, 16, 26, 40, 64, 100, 159, … The grid depends on P and M only (not on the run's length
 * or on where it was resumed), so a run stopped and resumed evaluates at the same steps as one
 * that ran through. (A skipped step, one with a non-finite gradient, adds no samples; the point
 * stays at its step, and the metrics line reports the samples actually seen.)
 */

export type EvalSchedule = { kind: 'epochs' } | { kind: 'log'; perDecade: number };

export const DEFAULT_PER_DECADE = 5;
export const MAX_PER_DECADE = 100;
export const EPOCHS_SCHEDULE: EvalSchedule = Object.freeze({ kind: 'epochs' });

/** Step of grid point i: ⌈round(10^(i/P)) / M⌉. */
function gridStep(i: number, perDecade: number, batch: number): number {
  return Math.ceil(Math.round(10 ** (i / perDecade)) / batch);
}

/**
 * The first evaluation point after `step` (steps count from 0; a point at step s evaluates the
 * model after s steps). Never beyond `totalSteps`, which is always a point; Infinity once
 * `step` ≥ totalSteps.
 */
export function nextEvalStep(s: EvalSchedule, step: number, stepsPerEpoch: number, batch: number, totalSteps: number): number {
  if (step >= totalSteps) return Infinity;
  if (s.kind === 'epochs') return Math.min(totalSteps, (Math.floor(step / stepsPerEpoch) + 1) * stepsPerEpoch);
  // Start a little below the point for `step` (log10 is not exact), then walk up.
  let i = Math.max(0, Math.floor(s.perDecade * Math.log10(Math.max(1, step * batch))) - 2);
  while (gridStep(i, s.perDecade, batch) <= step) i++;
  return Math.min(totalSteps, gridStep(i, s.perDecade, batch));
}

/** Every evaluation point of a run of `totalSteps` steps, in order (for tests, docs and planning). */
export function evalSteps(s: EvalSchedule, stepsPerEpoch: number, batch: number, totalSteps: number, from = 0): number[] {
  const out: number[] = [];
  for (
    let t = nextEvalStep(s, from, stepsPerEpoch, batch, totalSteps);
    t !== Infinity;
    t = nextEvalStep(s, t, stepsPerEpoch, batch, totalSteps)
  )
    out.push(t);
  return out;
}
