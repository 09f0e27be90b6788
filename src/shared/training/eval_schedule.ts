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
import { configError } from '../errors.ts';

export type EvalSchedule = { kind: 'epochs' } | { kind: 'log'; perDecade: number };

export const DEFAULT_PER_DECADE = 5;
export const MAX_PER_DECADE = 100;
export const EPOCHS_SCHEDULE: EvalSchedule = Object.freeze({ kind: 'epochs' });

/** `epochs`, `log` or `log:P` (the --eval-at flag's value). */
export function parseEvalSchedule(raw: string, flag = 'eval-at'): EvalSchedule {
  if (raw === 'epochs') return EPOCHS_SCHEDULE;
  const m = /^log(?::(\d+))?$/.exec(raw);
  const p = m ? Number(m[1] ?? DEFAULT_PER_DECADE) : NaN;
  if (!m || !(p >= 1 && p <= MAX_PER_DECADE)) {
    throw configError(
      flag,
      `is ${JSON.stringify(raw)}; it must be epochs, log or log:P with P from 1 to ${MAX_PER_DECADE} points per decade`,
      `Use epochs (after every epoch) or e.g. log:${DEFAULT_PER_DECADE} (a log grid of samples seen, as in Figure 2).`,
      { id: 'eval-schedule', value: DEFAULT_PER_DECADE },
    );
  }
  return { kind: 'log', perDecade: p };
}

export function formatEvalSchedule(s: EvalSchedule): string {
  return s.kind === 'epochs' ? 'epochs' : `log:${s.perDecade}`;
}

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
