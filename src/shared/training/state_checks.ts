/**
 * What a loaded training state must satisfy to be trained on, beyond being finite: checked on
 * every load, of a checkpoint.aevb (checkpoint.ts) and of a model.safetensors (pytorch_state.ts),
 * so that a state that cannot train is refused in one line instead of skipping every step and
 * saving a run that never moves.
 *
 *   Adagrad  G = Σ g² ≥ 0: the step is η g / (√G + ε); √ of a negative G is NaN, every step skipped.
 *   Adam     m finite, v ≥ 0 (a mean of g²): √v̂ of a negative v is NaN likewise.
 *   step     < 2³²: the training noise is keyed by the step as one 32-bit counter word (rng.ts), so
 *            past it the draws would repeat; and samples seen a safe integer.
 */
import type { Checkpoint } from '../formats/checkpoint.ts';
import { checkpointError } from '../errors.ts';

/** The largest step a state may hold: the ε of step s is keyed by s as a uint32 counter word. */
export const MAX_STEP = 2 ** 32 - 1;

/** Slots that hold sums or means of squares, by optimizer, with their names in files. */
const NON_NEGATIVE: Record<string, Array<[number, string]>> = {
  sgd: [],
  adagrad: [[0, 'the Adagrad accumulator G (sumSquares; optimizer.sum.* in safetensors)']],
  adam: [[1, 'the Adam second moment v (optimizer.exp_avg_sq.* in safetensors)']],
};

/** `c`, or a CHECKPOINT error naming `source`, the value and the fix where it cannot be trained on. */
export function checkTrainableState(c: Checkpoint, source: string): Checkpoint {
  if (!Number.isSafeInteger(c.step) || c.step < 0 || c.step > MAX_STEP) {
    throw checkpointError(
      `${source} is at step ${c.step}; a run can reach at most step ${MAX_STEP.toLocaleString('en-US')} (2^32 − 1).`,
      'The file is damaged or was written by hand: fix its step, or export the model again.',
    );
  }
  if (!Number.isSafeInteger(c.samplesSeen) || c.samplesSeen < 0) {
    throw checkpointError(`${source} has seen ${c.samplesSeen} samples; that must be a whole number ≥ 0.`, 'Export the model again.');
  }
  for (const [slot, what] of NON_NEGATIVE[c.optimizer.kind] ?? []) {
    const v = c.optimizer.slots[slot];
    if (!v) continue;
    for (let i = 0; i < v.length; i++) {
      if (v[i] >= 0) continue;
      throw checkpointError(
        `${source} holds ${what} of ${v[i]} at parameter ${i}; it is a sum of squares and cannot be negative, and training from it would skip every step.`,
        'Export the optimizer state again, or leave it out of the file (a fresh state: zeros).',
      );
    }
  }
  return c;
}
